"""Measuring: timers that time a loop of calls as one region, and the adaptive iteration count.

A clock read costs ~150 ns on the development machine, so the loop is timed, never each call. Timers are
injectable: `FakeTimer` makes every duration exact, so tests pin down the size curve and the plateau rule.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Region:
    """What a timed region runs; real timers ignore it, fake timers and records use it."""

    kind: str  # "copy", "read", "write", "triad", "h2d", "d2h", "matmul"
    size_bytes: int = 0  # bytes of one array (memory tests)
    n: int = 0  # matrix order (matmul)
    precision: str = ""  # matmul precision


class Timer(Protocol):
    """Times up to `iterations` back-to-back calls of `fn` as one region.

    Returns (seconds, calls run). A timer may stop a region early once it has lasted `deadline_s` (then
    fewer calls ran); that bounds a region whose calls slowed down after calibration.
    """

    def time(
        self, fn: Callable[[], object], iterations: int, region: Region, deadline_s: float | None = None
    ) -> tuple[float, int]: ...


CHUNK_MAX = 256
"""Most calls between two clock reads when a region has a deadline (150 ns per read / 256 calls)."""


class PerfCounterTimer:
    """Host clock around the whole loop; `sync` (e.g. a device synchronize) runs before both clock reads.

    With a deadline the loop runs in chunks of 1, 2, 4, ... CHUNK_MAX calls and reads the clock between
    chunks only.
    """

    def __init__(
        self,
        sync: Callable[[], object] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._sync = sync
        self._clock = clock

    def time(
        self, fn: Callable[[], object], iterations: int, region: Region, deadline_s: float | None = None
    ) -> tuple[float, int]:
        sync, clock = self._sync, self._clock
        if sync is not None:
            sync()
        start = clock()
        if deadline_s is None:
            for _ in range(iterations):
                fn()
            done = iterations
        else:
            done, chunk = 0, 1
            while done < iterations:
                step = min(chunk, iterations - done)
                for _ in range(step):
                    fn()
                done += step
                if clock() - start > deadline_s:
                    break
                chunk = min(chunk * 2, CHUNK_MAX)
        if sync is not None:
            sync()
        return clock() - start, done


@dataclass
class FakeTimer:
    """Exact timer for tests: each call lasts `seconds_per_call(region)`; a region with a deadline stops
    after ceil(deadline / per-call) calls.

    `fn` is not called unless `run` is True, so a test can sweep sizes whose real timing would be slow.
    Every region is recorded in `calls` as (region, calls run, seconds); `elapsed_s` is their sum.
    """

    seconds_per_call: Callable[[Region], float]
    run: bool = False
    calls: list[tuple[Region, int, float]] = field(default_factory=list)

    def time(
        self, fn: Callable[[], object], iterations: int, region: Region, deadline_s: float | None = None
    ) -> tuple[float, int]:
        per_call = self.seconds_per_call(region)
        done = iterations
        if deadline_s is not None and per_call > 0 and iterations * per_call > deadline_s:
            done = max(1, min(iterations, math.ceil(deadline_s / per_call)))
        if self.run:
            for _ in range(done):
                fn()
        seconds = done * per_call
        self.calls.append((region, done, seconds))
        return seconds, done

    @property
    def elapsed_s(self) -> float:
        return sum(seconds for _, _, seconds in self.calls)


@dataclass(frozen=True)
class Timing:
    """The timed regions of one measurement (the warm-up/calibration regions are not among them)."""

    iterations: int  # calls per region, as last calibrated
    region_times_s: list[float]
    region_iterations: list[int]  # calls each region ran (fewer than `iterations` when cut by the deadline)
    budget_limited: bool = False

    def per_call_s(self) -> list[float]:
        return [t / k for t, k in zip(self.region_times_s, self.region_iterations, strict=True)]

    @property
    def best_s(self) -> float:
        """Fastest region's time per call."""
        return min(self.per_call_s())

    @property
    def median_s(self) -> float:
        """Median region's time per call."""
        return statistics.median(self.per_call_s())


DEADLINE_FACTOR = 4.0
"""A region may last at most this many times the target before the timer cuts it short."""

MAX_CALIBRATION_STEPS = 8


def iterations_for(per_call_s: float, target_s: float, max_iterations: int) -> int:
    """Calls a region needs to last `target_s`: ceil(target_s / per_call_s), within [1, max_iterations]."""
    if per_call_s <= 0:
        return max_iterations
    return max(1, min(max_iterations, math.ceil(target_s / per_call_s)))


def measure(
    timer: Timer,
    fn: Callable[[], object],
    region: Region,
    *,
    target_s: float,
    repeats: int,
    max_iterations: int = 1_000_000,
    budget_s: float | None = None,
    check: Callable[[], None] | None = None,
) -> Timing:
    """Warm up, adapt the iteration count so a region lasts ≥ `target_s`, then time `repeats` regions.

    Calibration: one call (also the warm-up), then k = ceil(target_s / per-call time) calls, again until a
    region runs all its k calls and lasts ≥ 90% of the target (a slow first call only underestimates k).
    Every region has a deadline of DEADLINE_FACTOR x target_s, so calls that slow down later (another
    process on the CPU) cannot stretch a region without bound; after a cut region k is recalibrated from
    it. With a time budget, k is capped so `repeats` regions fit in what is left of it; `budget_limited`
    says so. `check` runs between regions (the cancellation point).
    """
    deadline = DEADLINE_FACTOR * target_s
    seconds, done = timer.time(fn, 1, region, deadline)
    spent, iterations = seconds, 1
    budget_limited = False
    for _ in range(MAX_CALIBRATION_STEPS):
        if done == iterations and (seconds >= 0.9 * target_s or iterations >= max_iterations):
            break
        per_call = seconds / done
        wanted = iterations_for(per_call, target_s, max_iterations)
        if budget_s is not None and per_call > 0:
            affordable = math.floor((budget_s - spent) / (per_call * repeats))
            if affordable < wanted:
                budget_limited = True
                iterations = max(1, affordable)
                break
        if wanted == iterations and done == iterations:
            break
        if check is not None:
            check()
        iterations = wanted
        seconds, done = timer.time(fn, iterations, region, deadline)
        spent += seconds
    times: list[float] = []
    counts: list[int] = []
    for _ in range(repeats):
        if check is not None:
            check()
        seconds, done = timer.time(fn, iterations, region, deadline)
        times.append(seconds)
        counts.append(done)
        if done < iterations:  # cut by the deadline: the calls got slower, so later regions run fewer
            iterations = iterations_for(seconds / done, target_s, max_iterations)
    return Timing(
        iterations=iterations, region_times_s=times, region_iterations=counts, budget_limited=budget_limited
    )
