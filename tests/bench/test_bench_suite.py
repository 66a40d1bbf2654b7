"""The suite: progress, cancellation, telemetry, backend choice, seed shape, text report, lazy torch."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime

import pytest

from bench_support import TINY_MATMUL, TINY_MEMORY, FixedNumpyBackend
from ruckus_agent.bench import BenchmarkCancelled, BenchmarkError, FakeTimer, Region, format_suite, run_suite
from ruckus_agent.models.benchmark import BenchmarkSuiteResult

FACTORS = {"copy": 2, "read": 1, "write": 1, "triad": 3}


def fake_seconds(region: Region) -> float:
    """20 GB/s for memory tests, 1 GFLOP/s for matmul."""
    if region.kind == "matmul":
        return 2 * region.n**3 / 1e9
    return FACTORS[region.kind] * region.size_bytes / 20e9


def fake_suite(backend: FixedNumpyBackend, **kwargs: object) -> BenchmarkSuiteResult:
    return run_suite(
        backend=backend,
        timer=FakeTimer(fake_seconds),
        memory_config=TINY_MEMORY,
        matmul_config=TINY_MATMUL,
        **kwargs,  # type: ignore[arg-type]
    )


def test_progress_is_monotonic_and_ends_at_one(fixed_backend: FixedNumpyBackend) -> None:
    seen: list[tuple[str, float]] = []
    fake_suite(fixed_backend, progress=lambda step, fraction: seen.append((step, fraction)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert seen[-1] == ("done", 1.0)
    steps = {step.split(":")[0] for step, _ in seen}
    assert {"memory_bandwidth", "compute_performance"} <= steps


def test_a_failing_progress_callback_does_not_stop_the_run(fixed_backend: FixedNumpyBackend) -> None:
    def broken(step: str, fraction: float) -> None:
        raise ValueError("GUI went away")

    result = fake_suite(fixed_backend, progress=broken, tests={"memory"})
    assert result.memory_bandwidth is not None and not result.cancelled


def test_cancel_during_compute_keeps_memory_and_the_finished_precisions(
    fixed_backend: FixedNumpyBackend,
) -> None:
    cancel = threading.Event()

    def progress(step: str, fraction: float) -> None:
        if step.startswith("compute_performance: FP16"):
            cancel.set()

    with pytest.raises(BenchmarkCancelled) as caught:
        fake_suite(fixed_backend, progress=progress, cancel=cancel)
    partial = caught.value.partial
    assert isinstance(partial, BenchmarkSuiteResult)
    assert partial.cancelled and partial.finished_at is not None
    assert partial.memory_bandwidth is not None and not partial.memory_bandwidth.cancelled
    assert partial.compute is not None and partial.compute.cancelled
    assert list(partial.compute.results) == ["FP64", "FP32", "TF32"]
    assert partial.tensor_cores is None
    assert "cancelled during compute_performance" in partial.notes


def test_cancel_before_start_cancels_at_once(fixed_backend: FixedNumpyBackend) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(BenchmarkCancelled) as caught:
        fake_suite(fixed_backend, cancel=cancel)
    assert caught.value.partial.memory_bandwidth.tests["copy"].points == []


def test_telemetry_windows_are_stored_with_each_measurement(fixed_backend: FixedNumpyBackend) -> None:
    windows: list[tuple[datetime, datetime]] = []

    def telemetry(start: datetime, end: datetime) -> dict[str, object]:
        windows.append((start, end))
        return {"temperature_max_c": 61.0}

    result = fake_suite(fixed_backend, telemetry=telemetry, precisions=["FP32"])
    assert result.memory_bandwidth is not None and result.compute is not None
    assert all(
        p.telemetry == {"temperature_max_c": 61.0} for p in result.memory_bandwidth.tests["copy"].points
    )
    assert result.compute.results["FP32"].telemetry == {"temperature_max_c": 61.0}
    assert all(start.tzinfo is not None and start <= end for start, end in windows)


def test_numpy_can_be_forced_even_with_torch_installed() -> None:
    result = run_suite(
        backend="numpy", tests={"compute"}, precisions=["FP32", "BF16"], matmul_config=TINY_MATMUL
    )
    assert result.backend == "numpy"
    assert result.torch_version is None and result.numpy_version  # versions of what ran
    assert result.compute is not None
    assert result.compute.results["FP32"].tflops is not None
    assert result.compute.results["BF16"].skip_reason == "numpy has no bfloat16 dtype"


def test_numpy_is_the_fallback_when_torch_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ruckus_agent.bench.backends.torch_available", lambda: False)
    result = run_suite(tests={"compute"}, precisions=["FP64"], matmul_config=TINY_MATMUL)
    assert result.backend == "numpy"
    with pytest.raises(BenchmarkError, match="need torch"):
        run_suite("cuda:0")


def test_bad_arguments_are_benchmark_errors() -> None:
    with pytest.raises(BenchmarkError, match="unknown device"):
        run_suite("tpu:0")
    with pytest.raises(BenchmarkError, match="unknown benchmark test"):
        run_suite(tests={"disk"})
    with pytest.raises(BenchmarkError, match="unknown benchmark backend"):
        run_suite(backend="jax")
    with pytest.raises(BenchmarkError, match="CPU only"):
        run_suite("cuda:0", backend="numpy")


def test_cuda_without_a_gpu_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # what this machine answers anyway
    with pytest.raises(BenchmarkError, match=r"torch.cuda.is_available\(\) is False"):
        run_suite("cuda:0", backend="torch")


def test_seed_shape(fixed_backend: FixedNumpyBackend) -> None:
    result = fake_suite(fixed_backend)
    seed = result.to_seed_shape()
    assert set(seed) == {"memory_bandwidth", "compute_performance", "tensor_core_capabilities"}
    mem = seed["memory_bandwidth"]
    assert mem["peak_bandwidth_gb_s"] == pytest.approx(20.0)
    assert {"copy_gb_s", "read_gb_s", "write_gb_s", "triad_gb_s", "plateau_reached"} <= set(mem)
    perf = seed["compute_performance"]
    assert perf["FP32"]["tflops"] == pytest.approx(1e9 / 1e12)
    assert perf["FP32"]["avg_time_ms"] > 0
    assert perf["TF32"] == {
        "tflops": None,
        "avg_time_ms": None,
        "skipped": True,
        "skip_reason": "TF32 is a CUDA tensor-core mode",
    }
    tc = seed["tensor_core_capabilities"]
    assert tc["present"] is False and tc["generation"] is None
    assert "FP32" in tc["supported_precisions"]
    # the whole result survives JSON
    again = BenchmarkSuiteResult.model_validate_json(result.model_dump_json())
    assert again == result


def test_text_report_shows_every_part(fixed_backend: FixedNumpyBackend) -> None:
    text = format_suite(fake_suite(fixed_backend))
    for expected in (
        "RUCKUS benchmark: cpu",
        "Memory bandwidth",
        "STREAM byte counting",
        "Plateau rule:",
        "copy",
        "triad",
        "Matrix multiply",
        "skipped: TF32 is a CUDA tensor-core mode",
        "Tensor cores",
        "present: no (CPU)",
    ):
        assert expected in text, expected


def test_real_tiny_cpu_suite_is_positive_and_sane() -> None:
    result = run_suite(
        "cpu",
        precisions=["FP32", "BF16"],
        memory_config=TINY_MEMORY,
        matmul_config=TINY_MATMUL,
        max_memory_usage_percent=10,
    )
    assert result.backend == "torch" and result.torch_version and result.numpy_version
    assert result.device_name and result.hardware.llc_bytes
    assert (
        result.memory_bandwidth is not None and result.compute is not None and result.tensor_cores is not None
    )
    assert 0.001 < (result.memory_bandwidth.peak_bandwidth_gb_s or 0) < 10_000
    fp32 = result.compute.results["FP32"]
    assert fp32.tflops is not None and 1e-6 < fp32.tflops < 1000
    assert result.tensor_cores.kind == "cpu" and result.tensor_cores.fp32_tflops == fp32.tflops
    assert result.duration_s is not None and result.duration_s > 0
    assert format_suite(result)


def test_importing_the_package_and_a_numpy_run_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import ruckus_agent.bench as b\n"
        "from ruckus_agent.bench.matmul import MatmulConfig\n"
        "assert 'torch' not in sys.modules, 'import'\n"
        "cfg = MatmulConfig(32, 32, 32, 0.001, 0.001, 1, 0.5)\n"
        "r = b.run_suite(backend='numpy', tests={'compute'}, precisions=['FP32'], matmul_config=cfg)\n"
        "assert r.backend == 'numpy'\n"
        "assert 'torch' not in sys.modules, 'run'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
