"""Memory-bandwidth benchmark: copy, read, write and triad on the device (plus host↔device on GPUs).

Array sizes grow geometrically from cache-sized until each test's figure plateaus (stats.PlateauRule) or the
next size would take more than `max_memory_usage_percent` of the memory free at the start. Each size is
timed with an adaptive iteration count (timing.measure); the point's figure is the best region (STREAM
reports the best of its repeats too). Bytes are counted as STREAM counts them (models.benchmark
STREAM_BYTE_FACTORS); GB/s is 1e9 bytes per second.

Sweeps run size by size with the tests inside, so one set of arrays serves every test of a size; a test
leaves the sweep once it has plateaued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ruckus_agent.bench.backends import Backend, Buffers, make_backend
from ruckus_agent.bench.control import (
    BenchmarkCancelled,
    BenchmarkError,
    CancelToken,
    ProgressCallback,
    RunControl,
    TelemetryHook,
    utcnow,
)
from ruckus_agent.bench.hardware import load_since, read_cpu_times
from ruckus_agent.bench.stats import (
    MIB,
    PlateauRule,
    device_plateau_floor,
    eligible,
    find_plateau,
    window_figure,
)
from ruckus_agent.bench.timing import Region, Timer, measure
from ruckus_agent.models.benchmark import (
    MEMORY_TESTS,
    STREAM_BYTE_FACTORS,
    BandwidthPoint,
    BandwidthTestResult,
    MemoryBandwidthResult,
)
from ruckus_agent.models.benchmark import PlateauRule as PlateauRuleModel

ELEMENT_BYTES = 4  # float32
ARRAYS_PER_TEST: dict[str, int] = {"copy": 2, "read": 1, "write": 1, "triad": 3, "h2d": 1, "d2h": 1}
TRANSFER_TESTS = ("h2d", "d2h")


@dataclass(frozen=True)
class MemoryConfig:
    """Knobs of the size sweep. `plateau_floor_bytes` None means max(4 x LLC, 256 MiB)."""

    start_bytes: int
    growth: int
    max_size_bytes: int
    target_region_s: float
    repeats: int
    window: int = 3
    tolerance: float = 0.10
    plateau_floor_bytes: int | None = None
    transfer_floor_bytes: int = 64 * MIB

    def __post_init__(self) -> None:
        if self.start_bytes < ELEMENT_BYTES or self.growth < 2 or self.repeats < 1:
            raise ValueError("MemoryConfig needs start_bytes ≥ 4, growth ≥ 2 and repeats ≥ 1")

    def sizes(self) -> list[int]:
        """Array sizes in sweep order: start, start·growth, ... up to max_size_bytes."""
        out, size = [], self.start_bytes
        while size <= self.max_size_bytes:
            out.append(size)
            size *= self.growth
        return out


FULL_MEMORY = MemoryConfig(
    start_bytes=64 * 1024, growth=2, max_size_bytes=2048 * MIB, target_region_s=0.05, repeats=7, window=3
)
QUICK_MEMORY = MemoryConfig(
    start_bytes=1 * MIB, growth=4, max_size_bytes=1024 * MIB, target_region_s=0.02, repeats=5, window=2
)


def _format_size(size_bytes: int) -> str:
    if size_bytes >= 1024 * MIB:
        return f"{size_bytes / (1024 * MIB):g} GiB"
    if size_bytes >= MIB:
        return f"{size_bytes / MIB:g} MiB"
    return f"{size_bytes / 1024:g} KiB"


def _select_tests(backend: Backend, tests: Iterable[str] | None) -> list[str]:
    available = backend.memory_tests()
    if tests is None:
        return list(available)
    wanted = set(tests)
    unknown = wanted - set(MEMORY_TESTS)
    if unknown:
        raise BenchmarkError(f"unknown memory tests {sorted(unknown)}: choose from {list(MEMORY_TESTS)}")
    missing = wanted - set(available)
    if missing:
        raise BenchmarkError(f"memory tests {sorted(missing)} need a CUDA device (this is {backend.device})")
    return [t for t in MEMORY_TESTS if t in wanted]


def _finish_test(result: BandwidthTestResult, rule: PlateauRule) -> None:
    """Fill the figures of a test whose sweep ended without a plateau."""
    points = [(p.size_bytes, p.bandwidth_gb_s) for p in result.points]
    if points:
        result.max_bandwidth_gb_s = max(figure for _, figure in points)
    if result.plateau_reached:
        return
    tail = eligible(points, rule)[-rule.window :]
    if tail:
        result.peak_bandwidth_gb_s = window_figure(tail)
        result.plateau_sizes_bytes = [size for size, _ in tail]
        result.notes.append(
            f"no plateau (stopped by {result.stopped_by}): figure is the median of the last "
            f"{len(tail)} size(s) ≥ {_format_size(rule.min_size_bytes)}, which did not agree within "
            f"{rule.tolerance * 100:g}%"
        )
    else:
        result.notes.append(
            f"no size reached the plateau floor ({_format_size(rule.min_size_bytes)}) before the sweep "
            f"stopped ({result.stopped_by}): no main-memory figure"
        )


def sweep_memory(
    backend: Backend,
    *,
    config: MemoryConfig,
    tests: Iterable[str] | None = None,
    max_memory_usage_percent: float = 50.0,
    timer: Timer | None = None,
    control: RunControl | None = None,
) -> MemoryBandwidthResult:
    """Run the sweep on a ready backend; raises BenchmarkCancelled(partial=result) when cancelled."""
    if not 0 < max_memory_usage_percent <= 100:
        raise BenchmarkError("max_memory_usage_percent must be in (0, 100]")
    control = control or RunControl()
    timer = timer or backend.timer()
    selected = _select_tests(backend, tests)
    cache = backend.cache_info()
    free_bytes = backend.free_memory_bytes()
    limit_bytes = int(free_bytes * max_memory_usage_percent / 100)
    transfers = any(t in TRANSFER_TESTS for t in selected)
    host_limit_bytes = (
        int(backend.host_free_memory_bytes() * max_memory_usage_percent / 100) if transfers else 0
    )

    device_floor = (
        config.plateau_floor_bytes
        if config.plateau_floor_bytes is not None
        else device_plateau_floor(cache.llc_bytes)
    )
    rules = {
        t: PlateauRule(
            config.window,
            config.tolerance,
            config.transfer_floor_bytes if t in TRANSFER_TESTS else device_floor,
        )
        for t in selected
    }
    result = MemoryBandwidthResult(
        device=backend.device,
        backend=backend.name,
        llc_bytes=cache.llc_bytes,
        llc_source=cache.source,
        free_memory_bytes=free_bytes,
        max_memory_usage_percent=max_memory_usage_percent,
        memory_limit_bytes=limit_bytes,
        started_at=utcnow(),
    )
    run_cpu_before = read_cpu_times()
    for t in selected:
        rule = rules[t]
        result.tests[t] = BandwidthTestResult(
            test=t,
            stream_byte_factor=STREAM_BYTE_FACTORS[t],
            plateau_rule=PlateauRuleModel(
                window=rule.window,
                tolerance=rule.tolerance,
                min_size_bytes=rule.min_size_bytes,
                description=rule.describe(),
            ),
        )

    most_arrays = max(ARRAYS_PER_TEST[t] for t in selected)
    planned = [s for s in config.sizes() if s * most_arrays <= limit_bytes] or config.sizes()[:1]
    active = list(selected)
    buffers: Buffers | None = None
    try:
        for i, size in enumerate(config.sizes()):
            if not active:
                break
            control.check()
            n_elems = size // ELEMENT_BYTES
            fitting = [
                t
                for t in active
                if size * ARRAYS_PER_TEST[t] <= limit_bytes
                and (t not in TRANSFER_TESTS or size <= host_limit_bytes)
            ]
            for t in active:
                if t not in fitting:
                    result.tests[t].stopped_by = "memory_limit"
                    result.tests[t].notes.append(
                        f"{_format_size(size)} x {ARRAYS_PER_TEST[t]} array(s) would exceed "
                        f"{max_memory_usage_percent:g}% of free memory"
                    )
            active = fitting
            if not active:
                break
            arrays = max(ARRAYS_PER_TEST[t] for t in active)
            host = any(t in TRANSFER_TESTS for t in active)
            if buffers is None or buffers.capacity_elems < n_elems or len(buffers.device) < arrays:
                buffers = None
                backend.release()
                buffers = backend.allocate(n_elems, arrays, host)
            for j, test in enumerate(list(active)):
                control.report(
                    f"memory_bandwidth: {test} {_format_size(size)}",
                    min(1.0, (i + j / len(active)) / max(len(planned), 1)),
                )
                test_result = result.tests[test]
                fn = backend.memory_kernel(test, buffers, n_elems)
                started, cpu_before = utcnow(), read_cpu_times()
                timing = measure(
                    timer,
                    fn,
                    Region(test, size_bytes=size),
                    target_s=config.target_region_s,
                    repeats=config.repeats,
                    check=control.check,
                )
                finished = utcnow()
                bytes_per_iteration = STREAM_BYTE_FACTORS[test] * size
                test_result.points.append(
                    BandwidthPoint(
                        size_bytes=size,
                        bytes_per_iteration=bytes_per_iteration,
                        iterations=timing.iterations,
                        region_times_s=timing.region_times_s,
                        region_iterations=timing.region_iterations,
                        bandwidth_gb_s=bytes_per_iteration / timing.best_s / 1e9,
                        median_bandwidth_gb_s=bytes_per_iteration / timing.median_s / 1e9,
                        started_at=started,
                        finished_at=finished,
                        telemetry=control.observe(started, finished),
                        host_load=load_since(cpu_before),
                    )
                )
                window = find_plateau(
                    [(p.size_bytes, p.bandwidth_gb_s) for p in test_result.points], rules[test]
                )
                if window is not None:
                    test_result.plateau_reached = True
                    test_result.stopped_by = "plateau"
                    test_result.plateau_sizes_bytes = [s for s, _ in window]
                    test_result.peak_bandwidth_gb_s = window_figure(window)
                    active.remove(test)
        for t in active:
            result.tests[t].stopped_by = "max_size"
    except BenchmarkCancelled:
        for t in active:
            result.tests[t].stopped_by = "cancelled"
        result.cancelled = True
    finally:
        buffers = None
        backend.release()

    for t in selected:
        _finish_test(result.tests[t], rules[t])
    if "copy" in result.tests:
        result.peak_bandwidth_gb_s = result.tests["copy"].peak_bandwidth_gb_s
    result.finished_at = utcnow()
    result.telemetry = control.observe(result.started_at, result.finished_at)
    result.host_load = load_since(run_cpu_before)
    if result.cancelled:
        raise BenchmarkCancelled("memory-bandwidth benchmark cancelled", partial=result)
    control.report("memory_bandwidth: done", 1.0)
    return result


def run_memory_bandwidth(
    device: str = "cpu",
    *,
    quick: bool = False,
    tests: Iterable[str] | None = None,
    max_memory_usage_percent: float = 50.0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    telemetry: TelemetryHook | None = None,
    backend: str | Backend | None = None,
    timer: Timer | None = None,
    config: MemoryConfig | None = None,
) -> MemoryBandwidthResult:
    """Memory bandwidth on `device` ('cpu' or 'cuda:N'). `tests` picks among copy, read, write, triad
    (and h2d, d2h on CUDA); all the device supports by default. Raises BenchmarkCancelled with the partial
    result when `cancel` is set."""
    chosen = make_backend(device, backend)
    return sweep_memory(
        chosen,
        config=config or (QUICK_MEMORY if quick else FULL_MEMORY),
        tests=tests,
        max_memory_usage_percent=max_memory_usage_percent,
        timer=timer,
        control=RunControl(progress=progress, cancel=cancel, telemetry=telemetry),
    )
