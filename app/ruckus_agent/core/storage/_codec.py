"""Rules every backend shares, so all of them store and return exactly the same values.

Datetimes are stored as UTC (naive ones are taken to be UTC already); JSON payloads are normalized
through one encoder (NaN and infinities become null, tuples and sets become lists), so what a reader
gets back does not depend on the backend.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pydantic_core

from ruckus_agent.models.storage import BenchmarkRecord, JobRecord, RunRecord, SystemSnapshot

#: JobRecord fields `update_job` may set (the id is the key, not a field one can change)
UPDATABLE_JOB_FIELDS = frozenset(JobRecord.model_fields) - {"job_id"}

INTERRUPTED_STATUS = "interrupted"


def utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def dumps_json(value: Any) -> str:
    """JSON text of a payload; the one encoder every backend uses (NaN/inf -> null)."""
    return pydantic_core.to_json(value, inf_nan_mode="null").decode()


def loads_json(text: str) -> Any:
    return json.loads(text)


def normalize_json(value: Any) -> Any:
    """The payload as a JSON round trip gives it back (plain dicts, lists, str, numbers, None)."""
    return loads_json(dumps_json(value))


def normalize_job(job: JobRecord) -> JobRecord:
    """A new JobRecord with UTC datetimes and JSON-normalized payloads (the caller's object is untouched)."""
    return JobRecord(
        job_id=job.job_id,
        status=job.status,
        task_type=job.task_type,
        submitted_at=utc(job.submitted_at),
        started_at=utc_or_none(job.started_at),
        completed_at=utc_or_none(job.completed_at),
        runs_total=job.runs_total,
        runs_completed=job.runs_completed,
        stage=job.stage,
        error=job.error,
        request=normalize_json(job.request),
        result=None if job.result is None else normalize_json(job.result),
    )


def normalize_run(run: RunRecord) -> RunRecord:
    return RunRecord(
        job_id=run.job_id,
        run_index=run.run_index,
        success=run.success,
        created_at=utc(run.created_at),
        data=normalize_json(run.data),
    )


def normalize_snapshot(snapshot: SystemSnapshot, snapshot_id: int) -> SystemSnapshot:
    return SystemSnapshot(
        id=snapshot_id, created_at=utc(snapshot.created_at), data=normalize_json(snapshot.data)
    )


def normalize_benchmark(record: BenchmarkRecord, record_id: int) -> BenchmarkRecord:
    return BenchmarkRecord(
        id=record_id,
        device=record.device,
        created_at=utc(record.created_at),
        data=normalize_json(record.data),
    )


def updated_job(current: JobRecord, fields: Mapping[str, Any]) -> JobRecord:
    """`current` with `fields` set, validated and normalized. ValueError for unknown fields or bad values."""
    check_job_fields(fields)
    merged = current.model_dump()
    merged.update(fields)
    return normalize_job(JobRecord.model_validate(merged))


def check_job_fields(fields: Mapping[str, Any]) -> None:
    """ValueError unless every name is an updatable JobRecord field."""
    unknown = sorted(set(fields) - UPDATABLE_JOB_FIELDS)
    if unknown:
        raise ValueError(f"not updatable JobRecord fields: {', '.join(unknown)}")


def status_list(status: str | Sequence[str] | None) -> list[str] | None:
    """The statuses to filter by, or None for no filter (a single string is one status)."""
    if status is None:
        return None
    if isinstance(status, str):
        return [status]
    return list(status)


def check_paging(limit: int, offset: int = 0) -> None:
    """ValueError for a negative limit or offset (backends disagree on what those would mean)."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0, got limit={limit}, offset={offset}")
