"""Task plugins that misbehave on purpose, for the job system's fault tests (RUCKUS_AGENT_TASK_PLUGINS)."""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path

from pydantic import Field

from ruckus_agent.jobs.tasks.base import RunOutput, Task, TaskParams


class FaultParams(TaskParams):
    fail_at: int = Field(1, ge=0, description="Run id that misbehaves")
    marker_dir: str | None = None
    sleep_s: float = 0.0


class _Fault(Task):
    params_model = FaultParams

    def run(self, run_id: int) -> RunOutput:
        p = self.params
        assert isinstance(p, FaultParams)
        if p.marker_dir:
            Path(p.marker_dir, f"run-{run_id}").write_text(str(os.getpid()))
        if run_id == p.fail_at:
            self.misbehave()
        if p.sleep_s:
            time.sleep(p.sleep_s)
        return RunOutput(metrics={"latency_s": 0.001 * (run_id + 1), "value": float(run_id)})

    def misbehave(self) -> None:
        raise NotImplementedError


class Segfault(_Fault):
    def misbehave(self) -> None:
        ctypes.string_at(0)  # reads address 0: SIGSEGV


class Hang(_Fault):
    def misbehave(self) -> None:
        time.sleep(3600)


class Exit(_Fault):
    def misbehave(self) -> None:
        os._exit(7)


class Raise(_Fault):
    def misbehave(self) -> None:
        raise ValueError("this run fails on purpose")


class Values(Task):
    """Reports the values it is given, one per run, so statistics can be checked exactly."""

    class Params(TaskParams):
        values: list[float]

    params_model = Params

    def run(self, run_id: int) -> RunOutput:
        assert isinstance(self.params, Values.Params)
        return RunOutput(metrics={"latency_s": self.params.values[run_id]})


TASKS = {"segfault": Segfault, "hang": Hang, "exit": Exit, "raise": Raise, "values": Values}
