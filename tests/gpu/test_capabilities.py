"""Capability tables: one case per architecture generation, and datasheet name matching."""

from __future__ import annotations

import pytest

from ruckus_agent.gpu.capabilities import (
    PRECISIONS,
    architecture_name,
    lookup_peak,
    parse_compute_capability,
    supported_precisions,
    tensor_core_generation,
)

# cc, architecture, tensor-core generation, precisions — written from CUDA's compute-capability table.
GENERATIONS = [
    ((3, 5), "Kepler", None, ["FP64", "FP32"]),
    ((5, 2), "Maxwell", None, ["FP64", "FP32"]),
    ((5, 3), "Maxwell", None, ["FP64", "FP32", "FP16"]),
    ((6, 0), "Pascal", None, ["FP64", "FP32", "FP16"]),
    ((6, 1), "Pascal", None, ["FP64", "FP32", "FP16", "INT8"]),
    ((7, 0), "Volta", 1, ["FP64", "FP32", "FP16", "INT8"]),
    ((7, 2), "Volta", 1, ["FP64", "FP32", "FP16", "INT8"]),
    ((7, 5), "Turing", 2, ["FP64", "FP32", "FP16", "INT8"]),
    ((8, 0), "Ampere", 3, ["FP64", "FP32", "TF32", "FP16", "BF16", "INT8"]),
    ((8, 6), "Ampere", 3, ["FP64", "FP32", "TF32", "FP16", "BF16", "INT8"]),
    ((8, 7), "Ampere", 3, ["FP64", "FP32", "TF32", "FP16", "BF16", "INT8"]),
    ((8, 9), "Ada", 4, ["FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8"]),
    ((9, 0), "Hopper", 4, ["FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8"]),
    ((10, 0), "Blackwell", 5, ["FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8", "FP4"]),
    ((12, 0), "Blackwell", 5, ["FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8", "FP4"]),
]


@pytest.mark.parametrize(("cc", "arch", "gen", "precisions"), GENERATIONS, ids=lambda v: str(v))
def test_generation_table(cc: tuple[int, int], arch: str, gen: int | None, precisions: list[str]) -> None:
    assert architecture_name(cc) == arch
    assert tensor_core_generation(cc) == gen
    assert supported_precisions(cc) == precisions
    assert set(precisions) <= set(PRECISIONS)


@pytest.mark.parametrize("cc", [[8, 9], (8, 9), "8.9"])
def test_cc_forms_are_equivalent(cc: object) -> None:
    assert architecture_name(cc) == "Ada"  # type: ignore[arg-type]
    assert tensor_core_generation(cc) == 4  # type: ignore[arg-type]


@pytest.mark.parametrize("cc", [None, [], [8], "x.y", (1, 0)])
def test_unknown_cc(cc: object) -> None:
    assert architecture_name(cc) is None  # type: ignore[arg-type]
    assert tensor_core_generation(cc) is None  # type: ignore[arg-type]


def test_parse_compute_capability() -> None:
    assert parse_compute_capability("9") == (9, 0)
    assert parse_compute_capability([12, 0, 5]) == (12, 0)
    assert supported_precisions(None) == []


# name as NVML / nvidia-smi spell it → table row, bandwidth GB/s, dense BF16-or-FP16 TFLOPS
PEAKS = [
    ("NVIDIA H200", "NVIDIA H200", 4800.0, 989.5),
    ("NVIDIA H200 NVL", "NVIDIA H200 NVL", 4800.0, 835.5),
    ("NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM", 3350.0, 989.5),
    ("NVIDIA H100 PCIe", "NVIDIA H100 PCIe", 2000.0, 756.0),
    ("NVIDIA H100 NVL", "NVIDIA H100 NVL", 3900.0, 835.5),
    ("NVIDIA A100-SXM4-40GB", "NVIDIA A100 40GB SXM", 1555.0, 312.0),
    ("NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB SXM", 2039.0, 312.0),
    ("NVIDIA A100-PCIE-40GB", "NVIDIA A100 40GB PCIe", 1555.0, 312.0),
    ("NVIDIA A100 80GB PCIe", "NVIDIA A100 80GB PCIe", 1935.0, 312.0),
    ("NVIDIA A10", "NVIDIA A10", 600.0, 125.0),
    ("NVIDIA L4", "NVIDIA L4", 300.0, 121.0),
    ("NVIDIA L40S", "NVIDIA L40S", 864.0, 362.05),
    ("Tesla T4", "NVIDIA T4", 320.0, 65.0),
    ("Tesla V100-SXM2-16GB", "NVIDIA V100 SXM2", 900.0, 125.0),
    ("Tesla V100-PCIE-32GB", "NVIDIA V100 PCIe", 900.0, 112.0),
    ("NVIDIA B200", "NVIDIA B200", 8000.0, 2250.0),
    ("NVIDIA GeForce RTX 2080", "NVIDIA GeForce RTX 2080", 448.0, 40.3),
    ("NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 3090", 936.0, 71.0),
    ("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090", 1008.0, 165.2),
    ("NVIDIA GeForce RTX 5090", "NVIDIA GeForce RTX 5090", 1792.0, 209.5),
    ("NVIDIA RTX 6000 Ada Generation", "NVIDIA RTX 6000 Ada Generation", 960.0, 364.2),
]


@pytest.mark.parametrize(("gpu_name", "row", "bw_gb_s", "fp16_tflops"), PEAKS)
def test_lookup_peak(gpu_name: str, row: str, bw_gb_s: float, fp16_tflops: float) -> None:
    spec = lookup_peak(gpu_name)
    assert spec is not None
    assert spec.name == row
    assert spec.memory_bandwidth_gb_s == bw_gb_s
    assert spec.tflops["FP16"] == fp16_tflops
    assert set(spec.tflops) <= set(PRECISIONS)


@pytest.mark.parametrize(
    "gpu_name",
    [
        None,
        "",
        "NVIDIA GeForce RTX 2080 Ti",
        "NVIDIA GeForce RTX 4090 Laptop GPU",
        "NVIDIA A10G",
        "Quadro RTX 6000",
        "NVIDIA GeForce GTX 1070",
    ],
)
def test_lookup_peak_unknown(gpu_name: str | None) -> None:
    assert lookup_peak(gpu_name) is None
