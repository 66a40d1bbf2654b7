"""Capability tables: compute capability → architecture, tensor cores, precisions, and datasheet peaks.

Pure data and pure functions: no hardware access, no heavy imports, so `bench` and the API use them anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

ComputeCapability = tuple[int, int] | list[int] | Sequence[int] | str | None

PRECISIONS: tuple[str, ...] = ("FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8", "FP4")
"""Every precision name this module uses, in display order."""

# (major, minor) → architecture; a major version alone (minor None) covers the whole family.
ARCHITECTURES: dict[tuple[int, int | None], str] = {
    (2, None): "Fermi",
    (3, None): "Kepler",
    (5, None): "Maxwell",
    (6, None): "Pascal",
    (7, 0): "Volta",
    (7, 2): "Volta",  # Jetson Xavier
    (7, 5): "Turing",
    (8, 0): "Ampere",
    (8, 6): "Ampere",
    (8, 7): "Ampere",  # Jetson Orin
    (8, 9): "Ada",
    (9, None): "Hopper",
    (10, None): "Blackwell",  # B100/B200/GB200 (10.0), B300 (10.3)
    (11, None): "Blackwell",  # Jetson Thor (renumbered from 10.1 in CUDA 13)
    (12, None): "Blackwell",  # RTX 50 series, RTX PRO Blackwell
}

TENSOR_CORE_GENERATIONS: dict[str, int] = {
    "Volta": 1,
    "Turing": 2,
    "Ampere": 3,
    "Ada": 4,
    "Hopper": 4,
    "Blackwell": 5,
}


def parse_compute_capability(cc: ComputeCapability) -> tuple[int, int] | None:
    """Normalise (8, 9), [8, 9] or "8.9" to (8, 9); anything else to None."""
    if cc is None:
        return None
    try:
        if isinstance(cc, str):
            major_s, _, minor_s = cc.strip().partition(".")
            return int(major_s), int(minor_s or 0)
        if len(cc) >= 2:
            return int(cc[0]), int(cc[1])
    except (TypeError, ValueError):
        return None
    return None


def architecture_name(cc: ComputeCapability) -> str | None:
    """Architecture name for a compute capability ("Ada" for 8.9), None when unknown."""
    parsed = parse_compute_capability(cc)
    if parsed is None:
        return None
    major, minor = parsed
    return ARCHITECTURES.get((major, minor)) or ARCHITECTURES.get((major, None))


def tensor_core_generation(cc: ComputeCapability) -> int | None:
    """Tensor-core generation (Volta 1 … Blackwell 5); None before Volta or when unknown."""
    arch = architecture_name(cc)
    return TENSOR_CORE_GENERATIONS.get(arch) if arch else None


def supported_precisions(cc: ComputeCapability) -> list[str]:
    """Precisions the hardware computes natively at this compute capability (empty when unknown)."""
    parsed = parse_compute_capability(cc)
    if parsed is None:
        return []
    out = ["FP64", "FP32"]
    if parsed >= (8, 0):
        out.append("TF32")
    if parsed >= (5, 3):  # Tegra X1 (5.3) and P100 (6.0) onward
        out.append("FP16")
    if parsed >= (8, 0):
        out.append("BF16")
    if parsed >= (8, 9):
        out.append("FP8")
    if parsed >= (6, 1):  # dp4a
        out.append("INT8")
    if parsed >= (10, 0):
        out.append("FP4")
    return out


# Lowest compute capability of each family: what a GPU of that family is sure to support.
_ARCH_MIN_CC: dict[str, tuple[int, int]] = {
    "Fermi": (2, 0),
    "Kepler": (3, 0),
    "Maxwell": (5, 0),
    "Pascal": (6, 0),
    "Volta": (7, 0),
    "Turing": (7, 5),
    "Ampere": (8, 0),
    "Ada": (8, 9),
    "Hopper": (9, 0),
    "Blackwell": (10, 0),
}

# Product name → family, for reports that give neither compute capability nor architecture (old nvidia-smi).
# Matched in order on the upper-cased name; a heuristic, used only when nothing better is known.
_NAME_ARCHITECTURES: tuple[tuple[str, str], ...] = (
    ("Blackwell", r"\bG?B(100|200|300)\b|\bRTX 50\d\d\b|\bBLACKWELL\b"),
    ("Hopper", r"\bG?H(100|200|20|800)\b"),
    ("Ada", r"\bRTX 40\d\d\b|\bL(4|20|40|40S)\b|\bADA\b"),
    ("Ampere", r"\bA(2|10G?|16|30|40|100|800)\b|\bRTX 30\d\d\b|\bRTX A\d{3,4}\b"),
    ("Turing", r"\bT4\b|\bRTX 20\d\d\b|\bGTX 16\d\d\b|\bQUADRO RTX\b|\bTITAN RTX\b"),
    ("Volta", r"\bV100S?\b|\bTITAN V\b"),
    ("Pascal", r"\bP(4|40|100)\b|\bGTX 10\d\d\b|\bTITAN XP\b"),
    ("Maxwell", r"\bM(4|40|60)\b|\bGTX (9\d\d|75\d)\b"),
    ("Kepler", r"\bK(10|20X?|40|80|520)\b|\bGTX (6\d\d|7[0-46-9]\d)\b"),
)


def normalise_architecture(name: str | None) -> str | None:
    """Map nvidia-smi's `product_architecture` ("Ada Lovelace", "Ampere") to this module's family names."""
    if not name:
        return None
    upper = name.strip().upper()
    for family in _ARCH_MIN_CC:
        if upper.startswith(family.upper()):
            return family
    return None


def architecture_from_name(gpu_name: str | None) -> str | None:
    """Best guess of the family from a product name ("GeForce GTX 1070" → "Pascal"); None when unsure."""
    if not gpu_name:
        return None
    name = _normalise_name(gpu_name)
    for family, pattern in _NAME_ARCHITECTURES:
        if re.search(pattern, name):
            return family
    return None


def architecture_tensor_core_generation(architecture: str | None) -> int | None:
    """Tensor-core generation of a family name; None before Volta or when unknown."""
    return TENSOR_CORE_GENERATIONS.get(architecture) if architecture else None


def architecture_precisions(architecture: str | None) -> list[str]:
    """Precisions every GPU of the family supports (the family's lowest compute capability)."""
    cc = _ARCH_MIN_CC.get(architecture) if architecture else None
    return supported_precisions(cc) if cc else []


@dataclass(frozen=True)
class PeakSpec:
    """Published peak figures of one GPU model: dense (no sparsity), boost clock.

    `tflops` is keyed by precision name; the INT8 entry is in TOPS. For TF32/FP16/BF16/FP8 the figure is the
    tensor-core one. GeForce cards run FP16/BF16/FP8 with FP32 accumulate at half rate; their rows give the
    FP32-accumulate figure, which is what torch matmuls use.
    """

    name: str
    memory_bandwidth_gb_s: float
    tflops: dict[str, float] = field(default_factory=dict)
    patterns: tuple[str, ...] = field(default=(), repr=False, compare=False)


def _spec(name: str, bw_gb_s: float, tflops: dict[str, float], *patterns: str) -> PeakSpec:
    return PeakSpec(name=name, memory_bandwidth_gb_s=bw_gb_s, tflops=tflops, patterns=patterns)


# Order matters: the first row whose pattern matches wins, so specific variants come before the family row.
# Names are matched upper-cased with "-" and "_" turned into spaces.
PEAK_SPECS: tuple[PeakSpec, ...] = (
    # B200 — DGX B200 datasheet (8 GPUs: 64 TB/s, 72 PF FP8 and 144 PF FP4 sparse) ÷ 8 GPUs, ÷ 2 for dense
    _spec(
        "NVIDIA B200",
        8000.0,
        {
            "FP64": 37.0,
            "FP32": 75.0,
            "TF32": 1100.0,
            "FP16": 2250.0,
            "BF16": 2250.0,
            "FP8": 4500.0,
            "INT8": 4500.0,
            "FP4": 9000.0,
        },
        r"\bB200\b",
    ),
    # H200 NVL — H200 datasheet (NVL column): 4.8 TB/s, BF16 1671 sparse
    _spec(
        "NVIDIA H200 NVL",
        4800.0,
        {
            "FP64": 30.0,
            "FP32": 60.0,
            "TF32": 417.5,
            "FP16": 835.5,
            "BF16": 835.5,
            "FP8": 1670.5,
            "INT8": 1670.5,
        },
        r"\bH200 NVL\b",
    ),
    # H200 SXM — H200 datasheet (SXM column): 4.8 TB/s HBM3e, BF16 1979 sparse
    _spec(
        "NVIDIA H200",
        4800.0,
        {
            "FP64": 34.0,
            "FP32": 67.0,
            "TF32": 494.5,
            "FP16": 989.5,
            "BF16": 989.5,
            "FP8": 1979.0,
            "INT8": 1979.0,
        },
        r"\bH200\b",
    ),
    # H100 NVL — H100 datasheet (NVL column): 3.9 TB/s, BF16 1671 sparse
    _spec(
        "NVIDIA H100 NVL",
        3900.0,
        {
            "FP64": 30.0,
            "FP32": 60.0,
            "TF32": 417.5,
            "FP16": 835.5,
            "BF16": 835.5,
            "FP8": 1670.5,
            "INT8": 1670.5,
        },
        r"\bH100 NVL\b",
    ),
    # H100 PCIe — H100 datasheet (PCIe column): 2 TB/s HBM2e, BF16 1513 sparse
    _spec(
        "NVIDIA H100 PCIe",
        2000.0,
        {
            "FP64": 26.0,
            "FP32": 51.0,
            "TF32": 378.0,
            "FP16": 756.0,
            "BF16": 756.0,
            "FP8": 1513.0,
            "INT8": 1513.0,
        },
        r"\bH100\b.*\bPCIE\b",
    ),
    # H100 SXM ("NVIDIA H100 80GB HBM3") — H100 datasheet (SXM column): 3.35 TB/s, BF16 1979 sparse
    _spec(
        "NVIDIA H100 SXM",
        3350.0,
        {
            "FP64": 34.0,
            "FP32": 67.0,
            "TF32": 494.5,
            "FP16": 989.5,
            "BF16": 989.5,
            "FP8": 1979.0,
            "INT8": 1979.0,
        },
        r"\bH100\b",
    ),
    # A100 80GB PCIe — A100 datasheet: 1,935 GB/s HBM2e; FP64 9.7, TF32 156, BF16/FP16 312, INT8 624
    _spec(
        "NVIDIA A100 80GB PCIe",
        1935.0,
        {"FP64": 9.7, "FP32": 19.5, "TF32": 156.0, "FP16": 312.0, "BF16": 312.0, "INT8": 624.0},
        r"\bA100\b.*\b80GB\b.*\bPCIE\b",
        r"\bA100\b.*\bPCIE\b.*\b80GB\b",
    ),
    # A100 40GB PCIe — A100 datasheet (40GB PCIe): 1,555 GB/s HBM2
    _spec(
        "NVIDIA A100 40GB PCIe",
        1555.0,
        {"FP64": 9.7, "FP32": 19.5, "TF32": 156.0, "FP16": 312.0, "BF16": 312.0, "INT8": 624.0},
        r"\bA100\b.*\bPCIE\b",
    ),
    # A100 80GB SXM — A100 datasheet: 2,039 GB/s HBM2e
    _spec(
        "NVIDIA A100 80GB SXM",
        2039.0,
        {"FP64": 9.7, "FP32": 19.5, "TF32": 156.0, "FP16": 312.0, "BF16": 312.0, "INT8": 624.0},
        r"\bA100\b.*\b80GB\b",
    ),
    # A100 40GB SXM — A100 datasheet: 1,555 GB/s HBM2
    _spec(
        "NVIDIA A100 40GB SXM",
        1555.0,
        {"FP64": 9.7, "FP32": 19.5, "TF32": 156.0, "FP16": 312.0, "BF16": 312.0, "INT8": 624.0},
        r"\bA100\b",
    ),
    # A10 — A10 datasheet: 600 GB/s GDDR6; FP32 31.2, TF32 62.5, BF16/FP16 125, INT8 250 (dense)
    _spec(
        "NVIDIA A10",
        600.0,
        {"FP32": 31.2, "TF32": 62.5, "FP16": 125.0, "BF16": 125.0, "INT8": 250.0},
        r"\bA10\b",
    ),
    # L40S — L40S datasheet: 864 GB/s; FP32 91.6, TF32 183, BF16/FP16 362.05, FP8/INT8 733 (dense)
    _spec(
        "NVIDIA L40S",
        864.0,
        {"FP32": 91.6, "TF32": 183.0, "FP16": 362.05, "BF16": 362.05, "FP8": 733.0, "INT8": 733.0},
        r"\bL40S\b",
    ),
    # L4 — L4 datasheet: 300 GB/s; FP32 30.3, TF32 120, BF16/FP16 242, FP8/INT8 485 (sparse) → halved
    _spec(
        "NVIDIA L4",
        300.0,
        {"FP32": 30.3, "TF32": 60.0, "FP16": 121.0, "BF16": 121.0, "FP8": 242.5, "INT8": 242.5},
        r"\bL4\b",
    ),
    # T4 — T4 datasheet: 320 GB/s GDDR6; FP32 8.1, mixed FP16/FP32 65, INT8 130
    _spec("NVIDIA T4", 320.0, {"FP32": 8.1, "FP16": 65.0, "INT8": 130.0}, r"\bT4\b"),
    # V100S PCIe — V100S datasheet: 1,134 GB/s; FP64 8.2, FP32 16.4, tensor 130
    _spec("NVIDIA V100S PCIe", 1134.0, {"FP64": 8.2, "FP32": 16.4, "FP16": 130.0}, r"\bV100S\b"),
    # V100 PCIe — V100 datasheet (PCIe column): 900 GB/s; FP64 7, FP32 14, tensor 112
    _spec("NVIDIA V100 PCIe", 900.0, {"FP64": 7.0, "FP32": 14.0, "FP16": 112.0}, r"\bV100\b.*\bPCIE\b"),
    # V100 SXM2 — V100 datasheet (SXM2 column): 900 GB/s; FP64 7.8, FP32 15.7, tensor 125
    _spec("NVIDIA V100 SXM2", 900.0, {"FP64": 7.8, "FP32": 15.7, "FP16": 125.0}, r"\bV100\b"),
    # RTX 6000 Ada — RTX 6000 Ada datasheet: 960 GB/s; FP32 91.1; 1,457 FP8 sparse → FP8 728.5, FP16 364.2
    _spec(
        "NVIDIA RTX 6000 Ada Generation",
        960.0,
        {"FP32": 91.1, "TF32": 182.1, "FP16": 364.2, "BF16": 364.2, "FP8": 728.5, "INT8": 728.5},
        r"\bRTX 6000 ADA\b",
    ),
    # RTX 5090 — RTX Blackwell whitepaper, appendix: 1,792 GB/s; FP32 104.8; FP16 FP32-acc 209.5; FP4 1676
    _spec(
        "NVIDIA GeForce RTX 5090",
        1792.0,
        {
            "FP32": 104.8,
            "TF32": 104.8,
            "FP16": 209.5,
            "BF16": 209.5,
            "FP8": 419.0,
            "INT8": 838.0,
            "FP4": 1676.0,
        },
        r"\bRTX 5090$",
    ),
    # RTX 4090 — Ada Lovelace whitepaper, appendix: 1,008 GB/s; FP32 82.6; FP16 FP32-acc 165.2; FP8 330.3
    _spec(
        "NVIDIA GeForce RTX 4090",
        1008.0,
        {"FP32": 82.6, "TF32": 82.6, "FP16": 165.2, "BF16": 165.2, "FP8": 330.3, "INT8": 660.6},
        r"\bRTX 4090$",
    ),
    # RTX 3090 — NVIDIA Ampere GA102 whitepaper, appendix: 936 GB/s; FP32 35.6; FP16 FP32-acc 71; INT8 284
    _spec(
        "NVIDIA GeForce RTX 3090",
        936.0,
        {"FP32": 35.6, "TF32": 35.6, "FP16": 71.0, "BF16": 71.0, "INT8": 284.0},
        r"\bRTX 3090$",
    ),
    # RTX 2080 — NVIDIA Turing whitepaper (reference boost 1,710 MHz): 448 GB/s; FP32 10.1; FP16 FP32-acc 40.3
    _spec("NVIDIA GeForce RTX 2080", 448.0, {"FP32": 10.1, "FP16": 40.3, "INT8": 161.1}, r"\bRTX 2080$"),
)

_COMPILED: tuple[tuple[PeakSpec, tuple[re.Pattern[str], ...]], ...] = tuple(
    (spec, tuple(re.compile(p) for p in spec.patterns)) for spec in PEAK_SPECS
)


def _normalise_name(gpu_name: str) -> str:
    return " ".join(re.sub(r"[-_]", " ", gpu_name.upper()).split())


def lookup_peak(gpu_name: str | None) -> PeakSpec | None:
    """Datasheet peaks for a GPU name as NVML, torch or nvidia-smi spell it; None when not in the table."""
    if not gpu_name:
        return None
    name = _normalise_name(gpu_name)
    for spec, patterns in _COMPILED:
        if any(p.search(name) for p in patterns):
            return spec
    return None


__all__ = [
    "ARCHITECTURES",
    "PEAK_SPECS",
    "PRECISIONS",
    "TENSOR_CORE_GENERATIONS",
    "ComputeCapability",
    "PeakSpec",
    "architecture_from_name",
    "architecture_name",
    "architecture_precisions",
    "architecture_tensor_core_generation",
    "lookup_peak",
    "normalise_architecture",
    "parse_compute_capability",
    "supported_precisions",
    "tensor_core_generation",
]
