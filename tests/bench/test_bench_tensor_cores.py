"""Tensor-core assessment (CPU and, through a fake torch.cuda, GPUs) and share of datasheet peak."""

from __future__ import annotations

from typing import Any

import pytest

from bench_support import FixedNumpyBackend
from fakes.fake_torch import FakeDeviceProperties
from ruckus_agent.bench.backends import TorchBackend
from ruckus_agent.bench.suite import share_of_peak
from ruckus_agent.bench.tensor_cores import SPEEDUP_THRESHOLD, assess
from ruckus_agent.models.benchmark import (
    BenchmarkSuiteResult,
    ComputeResult,
    MatmulResult,
    MemoryBandwidthResult,
)


def compute(device: str, tflops: dict[str, float | None]) -> ComputeResult:
    """A ComputeResult written by hand: None means skipped."""
    results = {
        p: MatmulResult(precision=p, skipped=True, skip_reason="not here")
        if t is None
        else MatmulResult(precision=p, n=1024, tflops=t, avg_time_ms=1.0)
        for p, t in tflops.items()
    }
    return ComputeResult(device=device, backend="torch", results=results)


def fake_cuda(monkeypatch: pytest.MonkeyPatch, props: FakeDeviceProperties) -> TorchBackend:
    """A TorchBackend on cuda:0 where only torch.cuda's hardware answers are faked."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)
    return TorchBackend("cuda:0")


def props(name: str, major: int, minor: int) -> FakeDeviceProperties:
    return FakeDeviceProperties(
        name=name, total_memory=32 << 30, major=major, minor=minor, multi_processor_count=80
    )


def test_cpu_has_no_tensor_cores_and_reports_the_measured_speedup(fixed_backend: FixedNumpyBackend) -> None:
    given = compute("cpu", {"FP32": 0.2, "FP16": 0.002, "BF16": 0.6, "TF32": None})
    tc = assess(fixed_backend, compute=given)
    assert tc.kind == "cpu" and not tc.present and tc.generation is None
    assert tc.speedup_vs_fp32 == pytest.approx({"FP16": 0.01, "BF16": 3.0})
    assert tc.accelerates is True  # BF16 3x >= threshold
    assert tc.supported_precisions == ["FP32", "FP16", "BF16"]
    assert tc.note.startswith("CPU: no tensor cores. CPU matrix unit:")


def test_cpu_slow_low_precision_does_not_accelerate(fixed_backend: FixedNumpyBackend) -> None:
    tc = assess(fixed_backend, compute=compute("cpu", {"FP32": 0.2, "FP16": 0.002, "BF16": 0.002}))
    assert tc.accelerates is False
    assert "does not run faster than FP32" in tc.note


def test_gpu_generation_from_the_table_and_measured_acceleration(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = fake_cuda(monkeypatch, props("Tesla V100-SXM2-32GB", 7, 0))
    tc = assess(backend, compute=compute("cuda:0", {"FP32": 14.0, "FP16": 100.0, "BF16": None}))
    assert (tc.kind, tc.present, tc.generation, tc.architecture) == ("gpu", True, 1, "Volta")
    assert tc.compute_capability == [7, 0]
    assert tc.supported_precisions == ["FP64", "FP32", "FP16", "INT8"]
    assert tc.speedup_vs_fp32 == pytest.approx({"FP16": 100.0 / 14.0})
    assert tc.accelerates is True


def test_gpu_tensor_cores_that_do_not_accelerate_are_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = fake_cuda(monkeypatch, props("NVIDIA A100-SXM4-40GB", 8, 0))
    tc = assess(backend, compute=compute("cuda:0", {"FP32": 19.0, "FP16": 20.0, "BF16": 21.0}))
    assert tc.present and tc.generation == 3
    assert tc.accelerates is False
    assert f"below {SPEEDUP_THRESHOLD:g}x" in tc.note


def test_pre_volta_gpu_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = fake_cuda(monkeypatch, props("NVIDIA GeForce GTX 1070", 6, 1))
    tc = assess(backend, compute=compute("cuda:0", {"FP32": 6.0, "FP16": 0.1, "BF16": None}))
    assert not tc.present and tc.generation is None and tc.architecture == "Pascal"


def test_cuda_precisions_are_gated_by_compute_capability(monkeypatch: pytest.MonkeyPatch) -> None:
    v100 = fake_cuda(monkeypatch, props("Tesla V100-SXM2-32GB", 7, 0))
    assert v100.precision_skip_reason("FP16") is None
    assert v100.precision_skip_reason("INT8") is None
    reasons: dict[str, Any] = {p: v100.precision_skip_reason(p) for p in ("TF32", "BF16", "FP8")}
    assert (
        reasons["TF32"] == "TF32 needs compute capability ≥ 8.0 (Ampere); Tesla V100-SXM2-32GB is 7.0 (Volta)"
    )
    assert (
        reasons["BF16"] == "BF16 needs compute capability ≥ 8.0 (Ampere); Tesla V100-SXM2-32GB is 7.0 (Volta)"
    )
    assert reasons["FP8"].startswith("FP8 needs compute capability ≥ 8.9 (Ada, Hopper)")
    ada = fake_cuda(monkeypatch, props("NVIDIA GeForce RTX 4090", 8, 9))
    assert all(ada.precision_skip_reason(p) is None for p in ("TF32", "BF16", "FP8", "INT8"))
    assert ada.memory_tests() == ("copy", "read", "write", "triad", "h2d", "d2h")


def test_share_of_peak_uses_the_datasheet_row() -> None:
    result = BenchmarkSuiteResult(
        device="cuda:0",
        device_name="NVIDIA H100 80GB HBM3",
        backend="torch",
        memory_bandwidth=MemoryBandwidthResult(
            device="cuda:0",
            backend="torch",
            llc_bytes=50 << 20,
            llc_source="test",
            free_memory_bytes=80 << 30,
            max_memory_usage_percent=50,
            memory_limit_bytes=40 << 30,
            peak_bandwidth_gb_s=2680.0,
        ),
        compute=compute("cuda:0", {"FP16": 742.125, "FP32": 50.25, "TF32": None}),
    )
    name, share = share_of_peak(result)
    # H100 SXM datasheet: 3,350 GB/s; FP16 989.5 and FP32 67 TFLOPS dense
    assert name == "NVIDIA H100 SXM"
    assert share == pytest.approx({"memory_bandwidth": 2680.0 / 3350.0, "FP16": 0.75, "FP32": 0.75})


def test_no_share_of_peak_for_a_cpu_or_an_unknown_gpu() -> None:
    cpu = BenchmarkSuiteResult(
        device="cpu", device_name="NVIDIA H100 80GB HBM3 (not really)", backend="numpy"
    )
    assert share_of_peak(cpu) == (None, None)
    odd = BenchmarkSuiteResult(device="cuda:0", device_name="Some Future GPU", backend="torch")
    assert share_of_peak(odd) == (None, None)
