"""Matmul benchmark: size adaptation, time budget, skipped precisions, cancellation, real tiny runs."""

from __future__ import annotations

import math
import threading

import pytest

from bench_support import TINY_MATMUL, FixedNumpyBackend
from ruckus_agent.bench import BenchmarkCancelled, BenchmarkError, FakeTimer, run_matmul
from ruckus_agent.bench.matmul import MatmulConfig
from ruckus_agent.models.benchmark import ComputeResult


def flops_timer(flops_per_s: float) -> FakeTimer:
    """A product of order n lasts 2n³ / flops_per_s."""
    return FakeTimer(lambda r: 2 * r.n**3 / flops_per_s)


def config(**changes: object) -> MatmulConfig:
    base = dict(
        start_n=64,
        max_n_cpu=512,
        max_n_cuda=512,
        min_product_s=0.01,
        target_region_s=0.1,
        repeats=3,
        budget_s=100.0,
    )
    base.update(changes)
    return MatmulConfig(**base)  # type: ignore[arg-type]


def test_n_grows_until_one_product_lasts_long_enough(fixed_backend: FixedNumpyBackend) -> None:
    rate = 1e9  # 1 GFLOP/s: n=64 0.52 ms, 128 4.2 ms, 256 33.6 ms >= 10 ms
    result = run_matmul(backend=fixed_backend, timer=flops_timer(rate), config=config(), precisions=["FP32"])
    fp32 = result.results["FP32"]
    assert [p.n for p in fp32.sizes_tried] == [64, 128, 256]
    assert [p.time_ms for p in fp32.sizes_tried] == pytest.approx(
        [2 * n**3 / rate * 1e3 for n in (64, 128, 256)]
    )
    per_product = 2 * 256**3 / rate
    assert fp32.n == 256
    assert fp32.flops_per_product == 2 * 256**3
    assert fp32.iterations == math.ceil(0.1 / per_product)
    assert fp32.avg_time_ms == pytest.approx(per_product * 1e3, rel=1e-12)
    assert fp32.tflops == pytest.approx(rate / 1e12, rel=1e-12)
    assert fp32.dtype == "numpy.float32"
    assert not fp32.skipped and not fp32.budget_limited


def test_n_stops_at_max_n_with_a_note(fixed_backend: FixedNumpyBackend) -> None:
    result = run_matmul(
        backend=fixed_backend, timer=flops_timer(1e12), config=config(max_n_cpu=128), precisions=["FP64"]
    )
    fp64 = result.results["FP64"]
    assert fp64.n == 128
    assert any("max_n" in note for note in fp64.notes)


def test_time_budget_caps_growth_and_says_so(fixed_backend: FixedNumpyBackend) -> None:
    # at 2 MFLOP/s one n=64 product takes 2·64³ / 2e6 = 0.26 s; n=128 would take 8x that per product,
    # which cannot fit a 3 s budget with its probes and regions
    timer = flops_timer(2e6)
    result = run_matmul(
        backend=fixed_backend,
        timer=timer,
        config=config(min_product_s=10.0, target_region_s=1.0, budget_s=3.0),
        precisions=["FP16"],
    )
    fp16 = result.results["FP16"]
    assert fp16.n == 64
    assert fp16.budget_limited
    assert any("time budget" in note for note in fp16.notes)
    assert timer.elapsed_s <= 3.0 + 1e-9  # the fake clock never ran past the budget


def test_numpy_skips_what_it_cannot_run(fixed_backend: FixedNumpyBackend) -> None:
    result = run_matmul(backend=fixed_backend, timer=flops_timer(1e12), config=config(max_n_cpu=128))
    skipped = {p: r.skip_reason for p, r in result.results.items() if r.skipped}
    assert skipped == {
        "TF32": "TF32 is a CUDA tensor-core mode",
        "BF16": "numpy has no bfloat16 dtype",
        "FP8": "numpy has no 8-bit float dtype",
        "INT8": "numpy has no INT8 matrix multiply with 32-bit accumulation",
    }
    for r in result.results.values():  # skipped is never a zero figure
        assert (r.tflops is None) == r.skipped and (r.avg_time_ms is None) == r.skipped


def test_torch_cpu_skips_tf32_and_fp4() -> None:
    result = run_matmul(
        backend="torch", timer=flops_timer(1e12), config=config(max_n_cpu=64), precisions=["tf32", "FP4"]
    )
    assert result.results["TF32"].skip_reason == "TF32 is a CUDA tensor-core mode"
    assert result.results["FP4"].skip_reason == "FP4 matmul is not benchmarked"


def test_a_library_error_becomes_the_skip_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    def unsupported(*args: object, **kwargs: object) -> object:
        raise RuntimeError("_int_mm_cpu: not implemented for this CPU\nmore detail")

    monkeypatch.setattr(torch, "_int_mm", unsupported)
    result = run_matmul(
        backend="torch", timer=flops_timer(1e12), config=config(max_n_cpu=64), precisions=["INT8"]
    )
    int8 = result.results["INT8"]
    assert int8.skipped
    assert int8.skip_reason == "RuntimeError: _int_mm_cpu: not implemented for this CPU"


def test_unknown_precision_is_an_error(fixed_backend: FixedNumpyBackend) -> None:
    with pytest.raises(BenchmarkError, match="FP7"):
        run_matmul(backend=fixed_backend, precisions=["FP7"])


def test_cancel_between_precisions_keeps_what_finished(fixed_backend: FixedNumpyBackend) -> None:
    cancel = threading.Event()

    def progress(step: str, fraction: float) -> None:
        if step.startswith("compute_performance: FP16"):
            cancel.set()

    with pytest.raises(BenchmarkCancelled) as caught:
        run_matmul(
            backend=fixed_backend,
            timer=flops_timer(1e9),
            config=config(),
            precisions=["FP64", "FP32", "FP16"],
            progress=progress,
            cancel=cancel,
        )
    partial = caught.value.partial
    assert isinstance(partial, ComputeResult) and partial.cancelled
    assert list(partial.results) == ["FP64", "FP32"]


@pytest.mark.parametrize(
    ("backend", "precisions"), [("numpy", ["FP64", "FP32"]), ("torch", ["FP32", "BF16"])]
)
def test_real_tiny_run_gives_positive_consistent_figures(backend: str, precisions: list[str]) -> None:
    result = run_matmul("cpu", backend=backend, precisions=precisions, config=TINY_MATMUL)
    for precision in precisions:
        r = result.results[precision]
        assert not r.skipped, r.skip_reason
        assert r.n in (32, 64) and r.iterations is not None and r.iterations >= 1
        assert r.tflops is not None and r.avg_time_ms is not None
        assert 1e-7 < r.tflops < 1000  # 0.1 MFLOP/s (slow FP16/BF16 under load) .. a units slip
        assert r.tflops == pytest.approx(2 * r.n**3 / (r.avg_time_ms / 1e3) / 1e12, rel=1e-9)
        assert r.median_tflops is not None and r.median_tflops <= r.tflops
