"""In-process storage in dicts: for tests, benchmarks of the harness and throwaway agents.

Records are normalized on write (UTC datetimes, JSON payloads) and copied on read, so callers never share
mutable state with the store and see the same values the SQL backends return. Data lives as long as the
object: closing and reopening the same instance keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from ruckus_agent.core.storage import _codec
from ruckus_agent.core.storage.base import (
    ACTIVE_JOB_STATUSES,
    AgentStorage,
    DuplicateJobError,
    JobNotFoundError,
    StorageError,
)
from ruckus_agent.core.storage.migrations import LATEST_VERSION
from ruckus_agent.models.common import utcnow
from ruckus_agent.models.storage import BenchmarkRecord, JobRecord, RunRecord, SystemSnapshot

_M = TypeVar("_M", bound=BaseModel)


def _copy(record: _M) -> _M:
    """A copy sharing no containers with the stored record (5x faster than model_copy(deep=True))."""
    return type(record).model_validate(record.model_dump())


class MemoryStorage(AgentStorage):
    """AgentStorage in plain dicts."""

    scheme = "memory"

    def __init__(self) -> None:
        self._open = False
        self._snapshots: list[SystemSnapshot] = []
        self._jobs: dict[str, JobRecord] = {}
        self._runs: dict[str, dict[int, RunRecord]] = {}
        self._benchmarks: list[BenchmarkRecord] = []
        self._next_snapshot_id = 1
        self._next_benchmark_id = 1

    # lifecycle -----------------------------------------------------------------
    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    async def schema_version(self) -> int:
        self._check_open()
        return LATEST_VERSION

    def _check_open(self) -> None:
        if not self._open:
            raise StorageError("memory storage is not open")

    # system snapshots ------------------------------------------------------------
    async def save_system_snapshot(self, snapshot: SystemSnapshot) -> int:
        self._check_open()
        snapshot_id = self._next_snapshot_id
        self._snapshots.append(_codec.normalize_snapshot(snapshot, snapshot_id))
        self._next_snapshot_id += 1
        return snapshot_id

    async def latest_system_snapshot(self) -> SystemSnapshot | None:
        newest = await self.list_system_snapshots(limit=1)
        return newest[0] if newest else None

    async def list_system_snapshots(self, limit: int = 10) -> list[SystemSnapshot]:
        self._check_open()
        _codec.check_paging(limit)
        ordered = sorted(self._snapshots, key=lambda s: (s.created_at, s.id or 0), reverse=True)
        return [_copy(s) for s in ordered[:limit]]

    # jobs -----------------------------------------------------------------------
    async def create_job(self, job: JobRecord) -> None:
        self._check_open()
        if job.job_id in self._jobs:
            raise DuplicateJobError(f"job {job.job_id!r} exists already")
        self._jobs[job.job_id] = _codec.normalize_job(job)

    async def create_jobs(self, jobs: Sequence[JobRecord]) -> None:
        self._check_open()
        seen: set[str] = set()
        for job in jobs:
            if job.job_id in self._jobs or job.job_id in seen:
                raise DuplicateJobError(f"job {job.job_id!r} exists already")
            seen.add(job.job_id)
        normalized = [_codec.normalize_job(job) for job in jobs]  # all validated before any is stored
        self._jobs.update((job.job_id, job) for job in normalized)

    async def update_job(self, job_id: str, **fields: Any) -> JobRecord:
        self._check_open()
        _codec.check_job_fields(fields)
        current = self._jobs.get(job_id)
        if current is None:
            raise JobNotFoundError(job_id)
        updated = _codec.updated_job(current, fields)
        self._jobs[job_id] = updated
        return _copy(updated)

    async def get_job(self, job_id: str) -> JobRecord | None:
        self._check_open()
        job = self._jobs.get(job_id)
        return None if job is None else _copy(job)

    def _select_jobs(self, status: str | Sequence[str] | None) -> list[JobRecord]:
        """Jobs with one of the statuses, newest submitted first, ties by job_id descending."""
        wanted = _codec.status_list(status)
        jobs = [j for j in self._jobs.values() if wanted is None or j.status in wanted]
        jobs.sort(key=lambda j: (j.submitted_at, j.job_id), reverse=True)
        return jobs

    async def list_jobs(
        self, status: str | Sequence[str] | None = None, limit: int = 50, offset: int = 0
    ) -> list[JobRecord]:
        self._check_open()
        _codec.check_paging(limit, offset)
        return [_copy(j) for j in self._select_jobs(status)[offset : offset + limit]]

    async def count_jobs(self, status: str | Sequence[str] | None = None) -> int:
        self._check_open()
        wanted = _codec.status_list(status)
        return sum(1 for j in self._jobs.values() if wanted is None or j.status in wanted)

    async def mark_interrupted(self, reason: str) -> list[str]:
        self._check_open()
        now = utcnow()
        interrupted = []
        for job in self._select_jobs(ACTIVE_JOB_STATUSES):
            self._jobs[job.job_id] = _codec.updated_job(
                job, {"status": _codec.INTERRUPTED_STATUS, "error": reason, "completed_at": now}
            )
            interrupted.append(job.job_id)
        return interrupted

    # runs -----------------------------------------------------------------------
    async def add_run(self, run: RunRecord) -> None:
        self._check_open()
        if run.job_id not in self._jobs:
            raise JobNotFoundError(run.job_id)
        self._runs.setdefault(run.job_id, {})[run.run_index] = _codec.normalize_run(run)

    async def list_runs(self, job_id: str) -> list[RunRecord]:
        self._check_open()
        runs = self._runs.get(job_id, {})
        return [_copy(runs[index]) for index in sorted(runs)]

    # benchmark results ----------------------------------------------------------
    async def save_benchmark(self, record: BenchmarkRecord) -> int:
        self._check_open()
        record_id = self._next_benchmark_id
        self._benchmarks.append(_codec.normalize_benchmark(record, record_id))
        self._next_benchmark_id += 1
        return record_id

    def _newest_benchmarks(self) -> list[BenchmarkRecord]:
        return sorted(self._benchmarks, key=lambda b: (b.created_at, b.id or 0), reverse=True)

    async def latest_benchmarks(self) -> dict[str, BenchmarkRecord]:
        self._check_open()
        latest: dict[str, BenchmarkRecord] = {}
        for record in self._newest_benchmarks():
            latest.setdefault(record.device, record)
        return {device: _copy(latest[device]) for device in sorted(latest)}

    async def list_benchmarks(self, device: str | None = None, limit: int = 20) -> list[BenchmarkRecord]:
        self._check_open()
        _codec.check_paging(limit)
        records = [b for b in self._newest_benchmarks() if device is None or b.device == device]
        return [_copy(b) for b in records[:limit]]
