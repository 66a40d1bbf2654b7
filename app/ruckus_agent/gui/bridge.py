"""The Agent's plain-Python events as Qt signals.

The EventBus calls back on the loop's thread, which under qasync is Qt's main thread, so each signal is
emitted (and its slots run) right there; widgets connect to these signals instead of to the bus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from ruckus_agent.core import events
from ruckus_agent.core.agent import Agent


def _forward(emit: Callable[[Any], None]) -> Callable[[str, Any], None]:
    def callback(_topic: str, payload: Any) -> None:
        emit(payload)

    return callback


class AgentBridge(QObject):
    state_changed = Signal(str)
    info_changed = Signal()
    sample = Signal(object)  # models.monitor.Sample
    job_changed = Signal(object)  # models.jobs.JobState
    job_run = Signal(object)  # {"job_id": str, "run": dict}
    bench_progress = Signal(object)  # {"device", "step", "fraction"}
    bench_result = Signal(object)  # models.benchmark.BenchmarkSuiteResult

    def __init__(self, agent: Agent, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        routes: dict[str, Callable[[Any], None]] = {
            events.STATE: self.state_changed.emit,
            events.INFO: lambda _payload: self.info_changed.emit(),
            events.SAMPLE: self.sample.emit,
            events.JOB: self.job_changed.emit,
            events.JOB_RUN: self.job_run.emit,
            events.BENCH_PROGRESS: self.bench_progress.emit,
            events.BENCH_RESULT: self.bench_result.emit,
        }
        self._unsubscribe = [agent.events.subscribe(topic, _forward(emit)) for topic, emit in routes.items()]
        # Emitting on a deleted QObject crashes: leave the bus the moment the C++ side goes away.
        unsubscribe = self._unsubscribe
        self.destroyed.connect(lambda *_: [u() for u in unsubscribe])

    def close(self) -> None:
        """Stop listening (the window is going away; the agent may outlive it)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
