"""Records the storage layer keeps. Payloads are JSON documents; the columns that are queried are fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from ruckus_agent.models.common import WireModel, utcnow


class SystemSnapshot(WireModel):
    id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    data: dict[str, Any]


class JobRecord(WireModel):
    job_id: str
    status: str = "queued"
    task_type: str | None = None
    submitted_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    runs_total: int = 1
    runs_completed: int = 0
    stage: str | None = None
    error: str | None = None
    request: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None


class RunRecord(WireModel):
    job_id: str
    run_index: int = Field(ge=0, description="0 is the cold start")
    success: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    data: dict[str, Any] = Field(default_factory=dict)


class BenchmarkRecord(WireModel):
    id: int | None = None
    device: str = Field(description="'cpu' or 'cuda:N'")
    created_at: datetime = Field(default_factory=utcnow)
    data: dict[str, Any]
