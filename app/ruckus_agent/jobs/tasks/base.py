"""The task interface: `load()` once (the cold start), then `run(run_id)` per run, each returning metrics.

Tasks run inside the job's worker process. Keep module imports light: heavy back-ends (torch,
transformers) are imported in `load()`, which is timed as model_load_time_seconds.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ruckus_agent.core.config import Settings


class TaskParams(BaseModel):
    """Base of every task's parameters: unknown fields are errors, so a typo gets a 422 naming it."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class RunOutput:
    metrics: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskContext:
    """What a task knows about its job (plain data: it crosses the process boundary)."""

    job_id: str
    model: str | None = None
    framework: str | None = None
    model_path: str | None = None
    allow_absolute_model_paths: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Task(abc.ABC):
    params_model: ClassVar[type[TaskParams]] = TaskParams
    #: agent types that may run it (benchmark tasks run on every type)
    agent_types: ClassVar[tuple[str, ...]] = ("white_box", "gray_box", "black_box")
    description: ClassVar[str] = ""

    def __init__(self, params: TaskParams, context: TaskContext) -> None:
        self.params = params
        self.context = context

    @classmethod
    def missing(cls, agent_type: str) -> str | None:
        """Why this task cannot run on this install (e.g. a library is absent), or None."""
        return None

    @classmethod
    def context_extra(cls, settings: Settings) -> dict[str, Any]:
        """Settings the task needs in its worker (plain, picklable data) -> TaskContext.extra."""
        return {}

    @classmethod
    def check_model(cls, model: str | None, settings: Settings) -> str | None:
        """Why the job's `model` field must be refused at submit time (a 422 on `model`), or None."""
        return None

    def device(self) -> str | None:
        """'cpu' or 'cuda:N' when the task runs on a local device (its GPU's telemetry goes with each run)."""
        return getattr(self.params, "device", None)

    def load(self) -> dict[str, Any]:
        """Cold start: import back-ends, allocate, warm up. Returns facts about the load (e.g. memory)."""
        return {}

    @abc.abstractmethod
    def run(self, run_id: int) -> RunOutput:
        """One run. Raise to fail this run (the job goes on with the next)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what load() took."""
