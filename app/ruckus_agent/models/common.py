"""Small shared wire models: errors, health, status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class WireModel(BaseModel):
    """Base of every wire model: forbids nothing on input unless a subclass says so."""

    # defer_build: schemas are built on first use, so start-up pays only for the models it touches
    model_config = ConfigDict(populate_by_name=True, use_enum_values=True, defer_build=True)


class ErrorDetail(WireModel):
    code: str = Field(description="Machine-readable error code, e.g. 'validation_error'")
    message: str = Field(description="One human-readable sentence")
    details: Any = Field(None, description="Extra data, e.g. pydantic's field errors")


class ErrorResponse(WireModel):
    error: ErrorDetail


class Health(WireModel):
    status: Literal["starting", "healthy", "stopping"]
    version: str
    agent_id: str
    uptime_seconds: float


class AgentStatus(WireModel):
    agent_id: str
    state: Literal["starting", "idle", "busy", "stopping"]
    running_jobs: list[str] = Field(default_factory=list)
    queued_jobs: list[str] = Field(default_factory=list)
    uptime_seconds: float
    started_at: datetime
