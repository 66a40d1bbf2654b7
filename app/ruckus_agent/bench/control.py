"""Progress, cancellation and telemetry hooks shared by every benchmark.

Cancellation: a cancel token (anything with `is_set()`, e.g. `threading.Event`) is checked between timed
regions, never inside one. A cancelled run raises `BenchmarkCancelled`; its `partial` holds the result of
what finished (marked `cancelled=True`): a `BenchmarkSuiteResult` from `run_suite`, a
`MemoryBandwidthResult` or `ComputeResult` from the smaller entry points.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, float], None]
"""Called with (step name, overall fraction done in [0, 1])."""

TelemetryHook = Callable[[datetime, datetime], dict[str, Any]]
"""Called with a measurement's (start, end) window in UTC; returns a summary (clocks, temperature, power)
that is stored with the measurement, so a throttled result can be recognised."""


class CancelToken(Protocol):
    def is_set(self) -> bool: ...


class BenchmarkError(Exception):
    """A benchmark could not run at all (unknown device, CUDA absent, bad arguments)."""


class BenchmarkCancelled(BenchmarkError):
    """The run was cancelled; `partial` holds what finished, marked cancelled."""

    def __init__(self, message: str = "benchmark cancelled", partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunControl:
    """The hooks of one run, with the part [start, end] of overall progress this piece of work covers."""

    progress: ProgressCallback | None = None
    cancel: CancelToken | None = None
    telemetry: TelemetryHook | None = None
    start: float = 0.0
    end: float = 1.0

    def check(self) -> None:
        """Raise BenchmarkCancelled if the token is set (called between timed regions)."""
        if self.cancel is not None and self.cancel.is_set():
            raise BenchmarkCancelled()

    def report(self, step: str, fraction: float) -> None:
        """Report `fraction` of this piece of work done; a failing callback is logged, never fatal."""
        if self.progress is None:
            return
        local = min(1.0, max(0.0, fraction))
        try:
            self.progress(step, self.start + (self.end - self.start) * local)
        except Exception:
            log.exception("benchmark progress callback failed")

    def part(self, start: float, end: float) -> RunControl:
        """The control of a sub-piece covering [start, end] of this piece's progress."""
        span = self.end - self.start
        return RunControl(
            progress=self.progress,
            cancel=self.cancel,
            telemetry=self.telemetry,
            start=self.start + span * start,
            end=self.start + span * end,
        )

    def observe(self, started_at: datetime, finished_at: datetime) -> dict[str, Any] | None:
        """The telemetry hook's summary of a window; a failing hook gives {'error': ...}, never an abort."""
        if self.telemetry is None:
            return None
        try:
            return dict(self.telemetry(started_at, finished_at))
        except Exception as exc:
            log.warning("benchmark telemetry hook failed: %s", exc)
            return {"error": f"{type(exc).__name__}: {exc}"}
