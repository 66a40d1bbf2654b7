"""`noop`: a task that does nothing measurable, to measure the job harness itself."""

from __future__ import annotations

import time

from pydantic import Field

from ruckus_agent.jobs.tasks.base import RunOutput, Task, TaskParams


class NoopParams(TaskParams):
    sleep_s: float = Field(0.0, ge=0, le=60, description="Sleep this long in each run")


class NoopTask(Task):
    params_model = NoopParams
    description = "Harness self-test: each run sleeps sleep_s (default 0) and reports how long it took"

    def run(self, run_id: int) -> RunOutput:
        assert isinstance(self.params, NoopParams)
        t0 = time.perf_counter()
        if self.params.sleep_s:
            time.sleep(self.params.sleep_s)
        return RunOutput(metrics={"latency_s": time.perf_counter() - t0})
