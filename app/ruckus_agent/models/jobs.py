"""Job wire models: requests (the seed's JobRequest and the RUCKUS server's experiment_spec form), status,
per-run results and the multi-run result with statistics."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AnyHttpUrl, Field, field_validator

from ruckus_agent.models.common import WireModel
from ruckus_agent.models.monitor import RunTelemetry
from ruckus_agent.models.statistics import MetricStatistics

JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


FINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.TIMEOUT, JobStatus.INTERRUPTED}
)


class JobRequest(WireModel):
    """The seed's job request. `parameters` are validated by the task type's own model."""

    job_id: str | None = Field(None, pattern=JOB_ID_PATTERN, description="Generated (job-<hex>) when absent")
    experiment_id: str | None = Field(None, max_length=256)
    model: str | None = Field(None, max_length=1024, description="Required for LLM tasks")
    framework: str | None = Field(None, max_length=128)
    task_type: str = Field(min_length=1, max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict)
    runs_per_job: int = Field(1, ge=1, le=1000)
    timeout_seconds: float = Field(3600, gt=0, le=7 * 24 * 3600)
    required_metrics: list[str] = Field(default_factory=list)
    callback_url: AnyHttpUrl | None = None


class TaskSpec(WireModel):
    name: str | None = None
    type: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


class FrameworkSpec(WireModel):
    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ExperimentSpec(WireModel):
    """The RUCKUS server's form of a job."""

    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    model: str | None = None
    task: TaskSpec
    framework: FrameworkSpec | None = None
    metrics: list[str] = Field(default_factory=list)
    capability_requirements: dict[str, Any] = Field(default_factory=dict)


class ServerJobRequest(WireModel):
    job_id: str | None = Field(None, pattern=JOB_ID_PATTERN)
    experiment_spec: ExperimentSpec
    callback_url: AnyHttpUrl | None = None
    timeout_seconds: float = Field(3600, gt=0, le=7 * 24 * 3600)

    def to_job_request(self) -> JobRequest:
        """task.type -> task_type, task.params -> parameters (runs_per_job taken out of them, default 1),
        framework.name -> framework, the spec's name -> experiment_id."""
        spec = self.experiment_spec
        params = dict(spec.task.params)
        runs = params.pop("runs_per_job", 1)
        timeout = params.pop("timeout_seconds", self.timeout_seconds)
        return JobRequest(
            job_id=self.job_id,
            experiment_id=spec.name,
            model=spec.model,
            framework=spec.framework.name if spec.framework else None,
            task_type=spec.task.type,
            parameters=params,
            runs_per_job=runs,
            timeout_seconds=timeout,
            required_metrics=list(spec.metrics),
            callback_url=self.callback_url,
        )


class JobAccepted(WireModel):
    job_id: str
    status: JobStatus = JobStatus.QUEUED


class JobState(WireModel):
    """GET /api/v1/jobs/{id}."""

    job_id: str
    status: JobStatus
    task_type: str | None = None
    experiment_id: str | None = None
    runs_completed: int
    runs_total: int
    stage: str | None = None
    submitted_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error: str | None = None


class JobList(WireModel):
    jobs: list[JobState]
    total: int
    limit: int
    offset: int


class SingleRunResult(WireModel):
    run_id: int = Field(description="0 is the cold start")
    cold_start: bool
    success: bool
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_seconds: float | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    telemetry: RunTelemetry | None = None
    details: dict[str, Any] = Field(
        default_factory=dict, description="Task-specific detail, e.g. per-size points"
    )
    error: str | None = None


class ColdStartData(WireModel):
    model_load_time_seconds: float | None = None
    first_run: SingleRunResult | None = None


class JobResult(WireModel):
    """Result of a one-run job."""

    job_id: str
    experiment_id: str | None = None
    status: JobStatus
    task_type: str
    model: str | None = None
    framework: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_seconds: float | None = None
    model_load_time_seconds: float | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    run: SingleRunResult | None = None
    error: str | None = None
    environment: dict[str, Any] = Field(default_factory=dict, description="Hardware and software it ran on")

    @field_validator("metrics", mode="before")
    @classmethod
    def _drop_none(cls, value: Any) -> Any:
        return {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value


class MultiRunJobResult(WireModel):
    """Result of a job with runs_per_job > 1: every run, the cold start apart, statistics over the warm runs."""

    job_id: str
    experiment_id: str | None = None
    status: JobStatus
    task_type: str
    model: str | None = None
    framework: str | None = None
    total_runs: int
    runs_completed: int
    successful_runs: int
    failed_runs: int
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_seconds: float | None = None
    cold_start_data: ColdStartData
    individual_runs: list[SingleRunResult]
    summary_stats: dict[str, MetricStatistics] = Field(
        default_factory=dict, description="Per metric, over successful warm runs (1..N-1) only"
    )
    error: str | None = None
    environment: dict[str, Any] = Field(default_factory=dict)
