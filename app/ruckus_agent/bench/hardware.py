"""Host facts the benchmarks need: last-level cache size, CPU model and ML-relevant CPU flags.

Readers take their root path as an argument, so tests point them at a fixture tree.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

SYS_CPU_ROOT = Path("/sys/devices/system/cpu")
PROC_CPUINFO = Path("/proc/cpuinfo")
DEFAULT_LLC_BYTES = 32 * 1024 * 1024
"""Used when sysfs gives no cache sizes (macOS, Windows, containers that hide /sys)."""

ML_CPU_FLAGS: tuple[str, ...] = (
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "amx_fp16",
    "avx512f",
    "avx512_bf16",
    "avx512_fp16",
    "avx512_vnni",
    "avx_vnni",
    "avx2",
    "fma",
    "f16c",
)
"""CPU flags that decide how fast low-precision matmul can run, in the order reports list them."""

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMG]?)B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


@dataclass(frozen=True)
class CacheInfo:
    """The last-level cache: total bytes over its distinct instances, its level, and where it was read."""

    llc_bytes: int
    level: int | None
    source: str


def parse_cache_size(text: str) -> int | None:
    """'32768K' → 33554432; None when unreadable."""
    match = _SIZE_RE.match(text)
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def read_cache_info(root: Path = SYS_CPU_ROOT) -> CacheInfo:
    """Sum of the highest-level data/unified cache over its distinct instances (by shared_cpu_list)."""
    instances: dict[tuple[int, str], int] = {}
    for index_dir in sorted(root.glob("cpu[0-9]*/cache/index[0-9]*")):
        kind = _read(index_dir / "type")
        level_text = _read(index_dir / "level")
        size_text = _read(index_dir / "size")
        if kind not in ("Data", "Unified") or not level_text or not size_text:
            continue
        size = parse_cache_size(size_text)
        if size is None or not level_text.isdigit():
            continue
        shared = _read(index_dir / "shared_cpu_list") or str(index_dir.parent.parent.name)
        instances[(int(level_text), shared)] = size
    if not instances:
        return CacheInfo(DEFAULT_LLC_BYTES, None, "default")
    top = max(level for level, _ in instances)
    total = sum(size for (level, _), size in instances.items() if level == top)
    return CacheInfo(total, top, f"{root} (L{top})")


def read_cpuinfo(path: Path = PROC_CPUINFO) -> tuple[str | None, set[str]]:
    """(CPU model name, flags) from /proc/cpuinfo; (platform.processor() or None, empty) elsewhere."""
    text = _read(path)
    if text is None:
        return platform.processor() or None, set()
    model: str | None = None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model or platform.processor() or None, flags


def ml_flags(flags: set[str]) -> list[str]:
    """The ML-relevant subset of `flags`, in ML_CPU_FLAGS order."""
    return [flag for flag in ML_CPU_FLAGS if flag in flags]


def matrix_unit(flags: set[str]) -> str | None:
    """The best CPU matrix/vector unit for low-precision matmul the flags show, or None."""
    if "amx_bf16" in flags or "amx_tile" in flags:
        return "AMX"
    if "avx512_bf16" in flags:
        return "AVX512-BF16"
    if "avx512_fp16" in flags:
        return "AVX512-FP16"
    return None


def logical_cores() -> int | None:
    return os.cpu_count()


PROC_STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuTimes:
    """A snapshot of host CPU time (all CPUs, seconds) and this process's CPU time."""

    busy_s: float  # user + nice + system + irq + softirq, every process
    steal_s: float  # time the hypervisor ran something else on our virtual CPUs
    own_s: float  # this process, all threads
    wall_s: float


def read_cpu_times(path: Path = PROC_STAT) -> CpuTimes | None:
    """Snapshot from /proc/stat; None where it does not exist (macOS, Windows)."""
    import time

    text = _read(path)
    if not text or not text.startswith("cpu "):
        return None
    fields = [int(x) for x in text.splitlines()[0].split()[1:]]
    if len(fields) < 8:
        return None
    tick = float(os.sysconf("SC_CLK_TCK"))
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return CpuTimes(
        busy_s=(user + nice + system + irq + softirq) / tick,
        steal_s=steal / tick,
        own_s=time.process_time(),
        wall_s=time.monotonic(),
    )


def host_load_between(
    before: CpuTimes | None, after: CpuTimes | None, cpus: int | None
) -> dict[str, float] | None:
    """CPU share other processes used and the hypervisor stole between two snapshots, in % of all CPUs."""
    if before is None or after is None or not cpus:
        return None
    capacity = (after.wall_s - before.wall_s) * cpus
    if capacity <= 0:
        return None
    other = (after.busy_s - before.busy_s) - (after.own_s - before.own_s)
    return {
        "window_s": round(after.wall_s - before.wall_s, 3),
        "other_processes_cpu_pct": round(max(0.0, other) / capacity * 100, 1),
        "steal_pct": round(max(0.0, after.steal_s - before.steal_s) / capacity * 100, 1),
    }


def load_since(before: CpuTimes | None) -> dict[str, float] | None:
    """host_load_between(before, now) over all logical CPUs."""
    return host_load_between(before, read_cpu_times(), os.cpu_count())
