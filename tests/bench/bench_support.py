"""Shared pieces of the benchmark tests: tiny sweep configs and a numpy backend with fixed hardware readings."""

from __future__ import annotations

from ruckus_agent.bench.backends import Buffers, NumpyBackend
from ruckus_agent.bench.hardware import CacheInfo
from ruckus_agent.bench.matmul import MatmulConfig
from ruckus_agent.bench.memory import MemoryConfig

KIB = 1024
MIB = 1024 * 1024


class FixedNumpyBackend(NumpyBackend):
    """numpy backend whose hardware readings (LLC, free memory) are fixed; records every allocation."""

    def __init__(self, *, llc_bytes: int = 32 * KIB, free_bytes: int = 1024 * MIB) -> None:
        super().__init__("cpu")
        self._fixed_cache = CacheInfo(llc_bytes, 3, "test")
        self._free_bytes = free_bytes
        self.allocations: list[int] = []  # bytes of each allocate() call

    def cache_info(self) -> CacheInfo:
        return self._fixed_cache

    def free_memory_bytes(self) -> int:
        return self._free_bytes

    def allocate(self, n_elems: int, device_arrays: int, host_array: bool) -> Buffers:
        self.allocations.append(n_elems * 4 * device_arrays)
        return super().allocate(n_elems, device_arrays, host_array)


TINY_MEMORY = MemoryConfig(
    start_bytes=64 * KIB,
    growth=2,
    max_size_bytes=512 * KIB,
    target_region_s=0.002,
    repeats=2,
    window=2,
    tolerance=0.5,
    plateau_floor_bytes=256 * KIB,
)
"""A real sweep that finishes in well under a second."""

TINY_MATMUL = MatmulConfig(
    start_n=32,
    max_n_cpu=64,
    max_n_cuda=64,
    min_product_s=0.001,
    target_region_s=0.002,
    repeats=2,
    budget_s=0.5,
)
"""Real matmuls that finish in well under a second per precision (FP16/BF16 on this CPU are slow)."""
