"""Memory-bandwidth sweep: size curve, plateau, STREAM byte counting, memory limit, cancellation, real runs."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import pytest

from bench_support import KIB, MIB, TINY_MEMORY, FixedNumpyBackend
from ruckus_agent.bench import BenchmarkCancelled, BenchmarkError, FakeTimer, Region, run_memory_bandwidth
from ruckus_agent.bench.memory import MemoryConfig
from ruckus_agent.models.benchmark import MemoryBandwidthResult

FACTORS = {"copy": 2, "read": 1, "write": 1, "triad": 3}


def stream_timer(bandwidth_gb_s: Callable[[int], float]) -> FakeTimer:
    """A call of a test on arrays of `size` bytes moves FACTORS[test] x size bytes at bandwidth_gb_s(size)."""
    return FakeTimer(lambda r: FACTORS[r.kind] * r.size_bytes / (bandwidth_gb_s(r.size_bytes) * 1e9))


def config(**changes: object) -> MemoryConfig:
    base = dict(
        start_bytes=4 * KIB,
        growth=2,
        max_size_bytes=1 * MIB,
        target_region_s=0.01,
        repeats=3,
        window=3,
        tolerance=0.05,
        plateau_floor_bytes=64 * KIB,
    )
    base.update(changes)
    return MemoryConfig(**base)  # type: ignore[arg-type]


def cache_then_memory(size: int) -> float:
    """100 GB/s in cache (< 32 KiB), 50 at 32 KiB, 20 from 64 KiB on."""
    if size < 32 * KIB:
        return 100.0
    return 50.0 if size == 32 * KIB else 20.0


def test_size_curve_and_plateau_are_exact(fixed_backend: FixedNumpyBackend) -> None:
    result = run_memory_bandwidth(
        backend=fixed_backend, timer=stream_timer(cache_then_memory), config=config(), tests={"copy"}
    )
    copy = result.tests["copy"]
    sizes = [4 * KIB * 2**i for i in range(7)]  # 4 KiB ... 256 KiB: three sizes >= 64 KiB agree
    assert [p.size_bytes for p in copy.points] == sizes
    assert [p.bandwidth_gb_s for p in copy.points] == pytest.approx(
        [100, 100, 100, 50, 20, 20, 20], rel=1e-12
    )
    assert copy.plateau_reached and copy.stopped_by == "plateau"
    assert copy.plateau_sizes_bytes == [64 * KIB, 128 * KIB, 256 * KIB]
    assert copy.peak_bandwidth_gb_s == pytest.approx(20.0, rel=1e-12)
    assert copy.max_bandwidth_gb_s == pytest.approx(100.0, rel=1e-12)
    assert result.peak_bandwidth_gb_s == copy.peak_bandwidth_gb_s
    for p in copy.points:  # iterations adapt so a region lasts the target
        per_call = 2 * p.size_bytes / (cache_then_memory(p.size_bytes) * 1e9)
        assert p.iterations == math.ceil(0.01 / per_call)
        assert p.region_iterations == [p.iterations] * 3


def test_plateau_after_a_disagreeing_size(fixed_backend: FixedNumpyBackend) -> None:
    figures = {64: 20.0, 128: 25.0, 256: 20.0, 512: 20.5, 1024: 20.0}
    timer = stream_timer(lambda size: figures.get(size // KIB, 100.0))
    result = run_memory_bandwidth(backend=fixed_backend, timer=timer, config=config(), tests={"read"})
    read = result.tests["read"]
    assert read.plateau_sizes_bytes == [256 * KIB, 512 * KIB, 1024 * KIB]
    assert read.peak_bandwidth_gb_s == pytest.approx(20.0, rel=1e-12)  # median of 20, 20.5, 20


def test_no_plateau_reports_the_median_of_the_tail_and_says_so(fixed_backend: FixedNumpyBackend) -> None:
    figures = {64: 20.0, 128: 30.0, 256: 20.0, 512: 30.0, 1024: 24.0}
    timer = stream_timer(lambda size: figures.get(size // KIB, 100.0))
    result = run_memory_bandwidth(backend=fixed_backend, timer=timer, config=config(), tests={"write"})
    write = result.tests["write"]
    assert not write.plateau_reached and write.stopped_by == "max_size"
    assert write.plateau_sizes_bytes == [256 * KIB, 512 * KIB, 1024 * KIB]
    assert write.peak_bandwidth_gb_s == pytest.approx(24.0, rel=1e-12)
    assert any("no plateau" in note for note in write.notes)


def test_stream_byte_counting(fixed_backend: FixedNumpyBackend) -> None:
    """At a fixed 1 ms per call: copy counts 2 arrays, read and write 1, triad 3."""
    size = 1 * MIB
    result = run_memory_bandwidth(
        backend=fixed_backend,
        timer=FakeTimer(lambda r: 1e-3),
        config=config(start_bytes=size, max_size_bytes=size),
    )
    for test, arrays in FACTORS.items():
        point = result.tests[test].points[0]
        assert result.tests[test].stream_byte_factor == arrays
        assert point.bytes_per_iteration == arrays * size
        assert point.bandwidth_gb_s == pytest.approx(arrays * size / 1e-3 / 1e9, rel=1e-12)


def test_memory_limit_stops_each_test_at_its_own_size() -> None:
    backend = FixedNumpyBackend(free_bytes=1 * MIB)  # 50% -> 512 KiB may be allocated at once
    result = run_memory_bandwidth(
        backend=backend,
        timer=FakeTimer(lambda r: 1e-4),
        config=config(start_bytes=64 * KIB, max_size_bytes=4 * MIB, plateau_floor_bytes=16 * MIB),
        max_memory_usage_percent=50,
    )
    assert result.memory_limit_bytes == 512 * KIB
    largest = {t: r.points[-1].size_bytes for t, r in result.tests.items()}
    assert largest == {"copy": 256 * KIB, "read": 512 * KIB, "write": 512 * KIB, "triad": 128 * KIB}
    assert all(r.stopped_by == "memory_limit" for r in result.tests.values())
    assert max(backend.allocations) <= 512 * KIB
    # no size reached the floor: no main-memory figure is made up
    assert result.peak_bandwidth_gb_s is None
    assert any("no main-memory figure" in n for n in result.tests["copy"].notes)


def test_percent_must_be_sensible(fixed_backend: FixedNumpyBackend) -> None:
    with pytest.raises(BenchmarkError):
        run_memory_bandwidth(backend=fixed_backend, max_memory_usage_percent=0)
    with pytest.raises(BenchmarkError):
        run_memory_bandwidth(backend=fixed_backend, max_memory_usage_percent=150)


def test_host_device_tests_need_cuda(fixed_backend: FixedNumpyBackend) -> None:
    with pytest.raises(BenchmarkError, match="CUDA"):
        run_memory_bandwidth(backend=fixed_backend, tests={"h2d"})
    with pytest.raises(BenchmarkError, match="unknown"):
        run_memory_bandwidth(backend=fixed_backend, tests={"scale"})


def test_cancel_returns_the_partial_result(fixed_backend: FixedNumpyBackend) -> None:
    cancel = threading.Event()
    steps: list[str] = []

    def progress(step: str, fraction: float) -> None:
        steps.append(step)
        if len(steps) == 5:  # copy, read, write, triad at 4 KiB, then copy at 8 KiB
            cancel.set()

    with pytest.raises(BenchmarkCancelled) as caught:
        run_memory_bandwidth(
            backend=fixed_backend,
            timer=FakeTimer(lambda r: 1e-4),
            config=config(),
            progress=progress,
            cancel=cancel,
        )
    partial = caught.value.partial
    assert isinstance(partial, MemoryBandwidthResult)
    assert partial.cancelled
    assert [len(r.points) for r in partial.tests.values()] == [1, 1, 1, 1]
    assert all(r.stopped_by == "cancelled" for r in partial.tests.values())


def test_telemetry_is_asked_for_each_point_with_its_window(fixed_backend: FixedNumpyBackend) -> None:
    windows: list[tuple[object, object]] = []

    def telemetry(start, end):  # type: ignore[no-untyped-def]
        windows.append((start, end))
        return {"sm_clock_mhz": 1980, "throttled": False}

    result = run_memory_bandwidth(
        backend=fixed_backend,
        timer=stream_timer(cache_then_memory),
        config=config(),
        tests={"copy"},
        telemetry=telemetry,
    )
    points = result.tests["copy"].points
    assert all(p.telemetry == {"sm_clock_mhz": 1980, "throttled": False} for p in points)
    assert len(windows) == len(points) + 1  # each point, then the whole run
    assert all(start <= end for start, end in windows)
    assert windows[-1] == (result.started_at, result.finished_at)


def test_a_failing_telemetry_hook_is_recorded_not_fatal(fixed_backend: FixedNumpyBackend) -> None:
    def broken(start, end):  # type: ignore[no-untyped-def]
        raise RuntimeError("monitor stopped")

    result = run_memory_bandwidth(
        backend=fixed_backend,
        timer=FakeTimer(lambda r: 1e-4),
        config=TINY_MEMORY,
        tests={"copy"},
        telemetry=broken,
    )
    assert result.tests["copy"].points[0].telemetry == {"error": "RuntimeError: monitor stopped"}


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_real_tiny_run_gives_positive_sane_figures(backend: str) -> None:
    result = run_memory_bandwidth("cpu", backend=backend, config=TINY_MEMORY, max_memory_usage_percent=10)
    assert result.backend == backend
    assert set(result.tests) == {"copy", "read", "write", "triad"}
    for test in result.tests.values():
        assert test.points
        for p in test.points:
            # between 1 MB/s (a tiny op while other processes hold the CPUs) and 10 TB/s (a units slip)
            assert 0.001 < p.bandwidth_gb_s < 10_000
            assert p.median_bandwidth_gb_s <= p.bandwidth_gb_s
            assert p.iterations >= 1 and all(t > 0 for t in p.region_times_s)
        assert test.peak_bandwidth_gb_s is not None and test.peak_bandwidth_gb_s > 0.001
    assert result.llc_bytes > 0
    assert result.host_load is None or result.host_load["window_s"] > 0


def test_region_kinds_reach_the_timer(fixed_backend: FixedNumpyBackend) -> None:
    timer = FakeTimer(lambda r: 1e-4)
    run_memory_bandwidth(backend=fixed_backend, timer=timer, config=TINY_MEMORY)
    kinds = {region.kind for region, _, _ in timer.calls}
    assert kinds == {"copy", "read", "write", "triad"}
    assert all(isinstance(region, Region) and region.size_bytes >= 64 * KIB for region, _, _ in timer.calls)


def test_a_zero_floor_means_every_size_counts(fixed_backend: FixedNumpyBackend) -> None:
    """plateau_floor_bytes=0 (a fixed-size job) is a floor of 0, not 'use the default'."""
    result = run_memory_bandwidth(
        backend=fixed_backend,
        timer=FakeTimer(lambda r: 1e-4),
        config=config(start_bytes=64 * KIB, max_size_bytes=64 * KIB, window=1, plateau_floor_bytes=0),
        tests={"copy"},
    )
    copy = result.tests["copy"]
    assert copy.plateau_rule.min_size_bytes == 0
    assert copy.plateau_reached and copy.plateau_sizes_bytes == [64 * KIB]
