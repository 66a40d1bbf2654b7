"""Timers and the adaptive iteration count: exact with the fake timer and a fake clock."""

from __future__ import annotations

import math

import pytest

from ruckus_agent.bench.timing import (
    CHUNK_MAX,
    DEADLINE_FACTOR,
    FakeTimer,
    PerfCounterTimer,
    Region,
    Timing,
    iterations_for,
    measure,
)

REGION = Region("copy", size_bytes=1024)


def noop() -> None:
    return None


def test_fake_timer_times_are_calls_times_per_call() -> None:
    timer = FakeTimer(lambda region: 1e-3)
    assert timer.time(noop, 5, REGION) == (5 * 1e-3, 5)
    assert timer.calls == [(REGION, 5, 5 * 1e-3)]


def test_fake_timer_cuts_a_region_at_its_deadline() -> None:
    timer = FakeTimer(lambda region: 0.25)
    seconds, done = timer.time(noop, 100, REGION, deadline_s=1.1)
    assert done == 5  # ceil(1.1 / 0.25)
    assert seconds == 5 * 0.25


def test_fake_timer_runs_fn_only_when_asked() -> None:
    calls: list[int] = []
    FakeTimer(lambda region: 1.0).time(lambda: calls.append(1), 3, REGION)
    assert calls == []
    FakeTimer(lambda region: 1.0, run=True).time(lambda: calls.append(1), 3, REGION)
    assert calls == [1, 1, 1]


def test_measure_calibrates_iterations_to_the_target() -> None:
    per_call, target = 1e-6, 0.05
    timer = FakeTimer(lambda region: per_call)
    timing = measure(timer, noop, REGION, target_s=target, repeats=3)
    expected = math.ceil(target / per_call)
    assert timing.iterations == expected
    assert timing.region_iterations == [expected] * 3
    assert timing.region_times_s == [expected * per_call] * 3
    assert timing.best_s == pytest.approx(per_call, rel=1e-12)
    # warm-up (1 call), one calibration region, then the 3 timed regions
    assert [calls for _, calls, _ in timer.calls] == [1, expected, expected, expected, expected]
    assert not timing.budget_limited


def test_measure_uses_one_call_when_a_call_outlasts_the_target() -> None:
    timing = measure(FakeTimer(lambda region: 0.2), noop, REGION, target_s=0.05, repeats=2)
    assert timing.iterations == 1
    assert timing.region_times_s == [0.2, 0.2]


def test_measure_caps_iterations_to_the_time_budget() -> None:
    timer = FakeTimer(lambda region: 0.01)
    timing = measure(timer, noop, REGION, target_s=1.0, repeats=3, budget_s=0.5)
    # (0.5 s budget - 0.01 s warm-up) / (0.01 s x 3 repeats) = 16.3 -> 16 calls, no further calibration
    assert timing.iterations == 16
    assert timing.budget_limited
    assert [calls for _, calls, _ in timer.calls] == [1, 16, 16, 16]
    assert timer.elapsed_s <= 0.5


def test_measure_recalibrates_after_a_region_cut_by_its_deadline() -> None:
    """Calls that slow down 100x after calibration are cut at the deadline, then the count adapts."""
    target, fast, slow = 2.0**-7, 2.0**-17, 2.0**-10  # binary fractions: every quotient is exact
    seen = {"n": 0}

    def per_call(region: Region) -> float:
        seen["n"] += 1
        return fast if seen["n"] <= 2 else slow  # warm-up and first calibration region are fast

    timer = FakeTimer(per_call)
    timing = measure(timer, noop, REGION, target_s=target, repeats=2)
    calibrated = math.ceil(target / fast)  # 1024
    cut = math.ceil(DEADLINE_FACTOR * target / slow)  # 32
    recalibrated = math.ceil(target / slow)  # 8
    assert [calls for _, calls, _ in timer.calls] == [1, calibrated, cut, recalibrated]
    assert timing.region_iterations == [cut, recalibrated]
    assert timing.iterations == recalibrated
    assert timing.best_s == pytest.approx(slow)


def test_measure_checks_for_cancellation_between_regions() -> None:
    checks: list[int] = []
    measure(
        FakeTimer(lambda region: 1.0), noop, REGION, target_s=0.5, repeats=3, check=lambda: checks.append(1)
    )
    assert len(checks) == 3  # one before each timed region


def test_perf_counter_timer_times_the_loop_between_syncs() -> None:
    ticks = iter([10.0, 12.5])
    events: list[str] = []
    timer = PerfCounterTimer(sync=lambda: events.append("sync"), clock=lambda: next(ticks))
    seconds, done = timer.time(lambda: events.append("call"), 3, REGION)
    assert (seconds, done) == (2.5, 3)
    assert events == ["sync", "call", "call", "call", "sync"]


def test_perf_counter_timer_reads_the_clock_between_growing_chunks_under_a_deadline() -> None:
    now = {"t": 0.0}
    reads: list[float] = []

    def clock() -> float:
        reads.append(now["t"])
        return now["t"]

    def call() -> None:
        now["t"] += 1.0

    seconds, done = PerfCounterTimer(clock=clock).time(call, 1000, REGION, deadline_s=10.0)
    # chunks of 1, 2, 4, 8 calls: after 15 calls 15 s > 10 s
    assert (seconds, done) == (15.0, 15)
    assert reads == [0.0, 1.0, 3.0, 7.0, 15.0, 15.0]
    assert CHUNK_MAX >= 8


def test_iterations_for_bounds() -> None:
    assert iterations_for(0.0, 1.0, 500) == 500
    assert iterations_for(2.0, 1.0, 500) == 1
    assert iterations_for(0.001, 1.0, 500) == 500
    assert iterations_for(0.3, 1.0, 500) == 4


def test_timing_best_and_median_per_call() -> None:
    timing = Timing(iterations=10, region_times_s=[1.0, 0.5, 0.9], region_iterations=[10, 10, 5])
    assert timing.best_s == pytest.approx(0.05)
    assert timing.median_s == pytest.approx(0.1)
