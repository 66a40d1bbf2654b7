"""Column arrays of the sampler's ring buffer, for plotting. Plain numpy: no Qt here.

The sampler keeps `Sample` records in a fixed-size ring buffer. Turning thousands of records into arrays on
every redraw would cost tens of milliseconds, so the Monitor tab mirrors the buffer here once, appending each
new sample as it arrives: same capacity, same samples, same order, values as float64 (None -> NaN).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ruckus_agent.models.monitor import Sample

GPU_FIELDS: tuple[str, ...] = (
    "temperature_c",
    "power_usage_w",
    "power_limit_w",
    "utilization_gpu_pct",
    "utilization_memory_pct",
    "memory_used_mb",
    "memory_total_mb",
    "clock_sm_mhz",
)
HOST_FIELDS: tuple[str, ...] = ("cpu_utilization_pct", "memory_used_pct", "memory_used_mb", "memory_total_mb")


def _value(obj: object, name: str) -> float:
    value = getattr(obj, name, None)
    return float("nan") if value is None else float(value)


@dataclass
class Window:
    """Chronological arrays of the samples taken at or after `start`."""

    start: float
    end: float
    t: np.ndarray
    host: dict[str, np.ndarray]
    gpus: dict[int, dict[str, np.ndarray]]


class SeriesStore:
    """A ring of `capacity` samples as columns: `t` (epoch seconds), host fields, per-GPU fields."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._t = np.full(capacity, np.nan)
        self._host = {f: np.full(capacity, np.nan) for f in HOST_FIELDS}
        self._gpus: dict[int, dict[str, np.ndarray]] = {}
        self._head = 0  # next slot to write
        self._count = 0
        self.version = 0  # bumps on every append: "is there anything new to draw?"

    def __len__(self) -> int:
        return self._count

    @property
    def gpu_indices(self) -> list[int]:
        return sorted(self._gpus)

    @property
    def latest_time(self) -> float | None:
        return None if self._count == 0 else float(self._t[(self._head - 1) % self.capacity])

    def append(self, sample: Sample) -> None:
        i = self._head
        self._t[i] = sample.timestamp.timestamp()
        for f in HOST_FIELDS:
            self._host[f][i] = _value(sample.host, f)
        seen = set()
        for reading in sample.gpus:
            cols = self._gpus.get(reading.index)
            if cols is None:
                cols = self._gpus[reading.index] = {f: np.full(self.capacity, np.nan) for f in GPU_FIELDS}
            for f in GPU_FIELDS:
                cols[f][i] = float("nan") if reading.lost else _value(reading, f)
            seen.add(reading.index)
        for index, cols in self._gpus.items():
            if index not in seen:
                for f in GPU_FIELDS:
                    cols[f][i] = np.nan
        self._head = (i + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)
        self.version += 1

    def extend(self, samples: Iterable[Sample]) -> None:
        for sample in samples:
            self.append(sample)

    def _ordered(self, column: np.ndarray) -> np.ndarray:
        if self._count < self.capacity:
            return column[: self._count]
        return np.concatenate((column[self._head :], column[: self._head]))

    def window(self, seconds: float, end: float | None = None) -> Window:
        """Samples of the last `seconds` before `end` (default: the newest sample's time)."""
        t = self._ordered(self._t)
        stop = (self.latest_time or 0.0) if end is None else end
        start = stop - seconds
        lo = int(np.searchsorted(t, start, side="left"))
        hi = int(np.searchsorted(t, stop, side="right"))
        return Window(
            start=start,
            end=stop,
            t=t[lo:hi].copy(),
            host={f: self._ordered(c)[lo:hi].copy() for f, c in self._host.items()},
            gpus={
                index: {f: self._ordered(c)[lo:hi].copy() for f, c in cols.items()}
                for index, cols in sorted(self._gpus.items())
            },
        )
