"""Statistics of benchmark figures: summaries and the plateau rule of the memory size sweep.

The plateau rule. Each size's figure is the best of its timed regions. After each new size, a test has
plateaued when its last `window` figures at sizes ≥ the floor agree within `tolerance` (largest ≤
smallest x (1 + tolerance)); its peak (main-memory) figure is their median, and the test leaves the sweep.
The floor for on-device tests is max(4 x LLC, 256 MiB): STREAM's rule that arrays be at least 4x the sum of
the last-level caches, and 256 MiB because a VM's sysfs can understate the cache. Host<->device transfers
use a 64 MiB floor. Full runs use window 3 and sizes x2 up to 2 GiB; quick runs window 2 and sizes x4 up to
1 GiB; both 10%. A sweep that ends first (largest size, memory limit, cancellation) reports the median of
its last `window` sizes ≥ the floor with `plateau_reached=False` and a note, or no figure at all when no
size reached the floor.

Pure functions over numbers; nothing here measures or formats.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIB = 1024 * 1024

MAIN_MEMORY_FLOOR_BYTES = 256 * MIB
"""Smallest array that counts towards the main-memory plateau, whatever the LLC says. A VM's sysfs can
understate the cache (the development machine shows a 32 MiB L3 yet reaches main memory only at ≥512 MiB
arrays), so a sweep must go at least this far before it may stop."""

STREAM_LLC_MULTIPLE = 4
"""STREAM's rule: each array must be at least 4x the size of the sum of all last-level caches."""


@dataclass(frozen=True)
class Summary:
    """Count, extremes, centre and spread of a list of figures."""

    count: int
    min: float
    max: float
    mean: float
    median: float
    std: float  # sample standard deviation (n-1); 0 for one value
    cv: float  # std / mean; 0 when the mean is 0


def summarize(values: Sequence[float]) -> Summary:
    """Summary of a non-empty sequence."""
    if not values:
        raise ValueError("summarize() needs at least one value")
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return Summary(
        count=len(values),
        min=min(values),
        max=max(values),
        mean=mean,
        median=statistics.median(values),
        std=std,
        cv=std / mean if mean else 0.0,
    )


@dataclass(frozen=True)
class PlateauRule:
    """A size sweep has plateaued when its last `window` points, all at sizes ≥ `min_size_bytes`, agree
    within `tolerance`: the largest figure ≤ the smallest x (1 + tolerance). The plateau figure is their
    median."""

    window: int = 3
    tolerance: float = 0.10
    min_size_bytes: int = MAIN_MEMORY_FLOOR_BYTES

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError("plateau window must be ≥ 1")
        if self.tolerance < 0:
            raise ValueError("plateau tolerance must be ≥ 0")

    def describe(self) -> str:
        return (
            f"last {self.window} sizes ≥ {self.min_size_bytes / MIB:g} MiB within "
            f"{self.tolerance * 100:g}% of each other (largest ≤ smallest x {1 + self.tolerance:g}); "
            "figure = their median"
        )


def device_plateau_floor(llc_bytes: int) -> int:
    """Floor of the plateau window for on-device tests: max(4 x LLC (STREAM), MAIN_MEMORY_FLOOR_BYTES)."""
    return max(STREAM_LLC_MULTIPLE * llc_bytes, MAIN_MEMORY_FLOOR_BYTES)


def eligible(points: Sequence[tuple[int, float]], rule: PlateauRule) -> list[tuple[int, float]]:
    """The (size_bytes, figure) points at or above the rule's floor, in sweep order."""
    return [p for p in points if p[0] >= rule.min_size_bytes]


def find_plateau(points: Sequence[tuple[int, float]], rule: PlateauRule) -> list[tuple[int, float]] | None:
    """The plateau window if the sweep's last `window` eligible points satisfy the rule, else None.

    `points` are (size_bytes, figure) in sweep order; called after each new point, so the first window
    found is where the sweep stops.
    """
    tail = eligible(points, rule)[-rule.window :]
    if len(tail) < rule.window:
        return None
    figures = [figure for _, figure in tail]
    if max(figures) <= min(figures) * (1 + rule.tolerance):
        return list(tail)
    return None


def window_figure(window: Sequence[tuple[int, float]]) -> float:
    """Median figure of a window of (size_bytes, figure) points."""
    return statistics.median(figure for _, figure in window)
