"""AgentStorage: the async storage interface every backend implements.

Backends have a lifecycle (open/close, or `async with`). Records are the pydantic models of
`ruckus_agent.models.storage`; their JSON payloads are stored as documents.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from ruckus_agent.models.storage import BenchmarkRecord, JobRecord, RunRecord, SystemSnapshot

ACTIVE_JOB_STATUSES = ("queued", "running")


class StorageError(Exception):
    """A storage operation failed."""


class DuplicateJobError(StorageError):
    """A job with this id exists already."""


class JobNotFoundError(StorageError, KeyError):
    """No job with this id."""


class AgentStorage(abc.ABC):
    """Async storage of system snapshots, jobs, their runs and benchmark results."""

    #: URL scheme(s) this backend serves, e.g. "sqlite"
    scheme: str = ""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # lifecycle -----------------------------------------------------------------
    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations. Idempotent."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections. Idempotent."""

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """Number of the newest migration applied."""

    # system snapshots ------------------------------------------------------------
    @abc.abstractmethod
    async def save_system_snapshot(self, snapshot: SystemSnapshot) -> int:
        """Store a snapshot; returns its id."""

    @abc.abstractmethod
    async def latest_system_snapshot(self) -> SystemSnapshot | None: ...

    @abc.abstractmethod
    async def list_system_snapshots(self, limit: int = 10) -> list[SystemSnapshot]:
        """Newest first."""

    # jobs -----------------------------------------------------------------------
    @abc.abstractmethod
    async def create_job(self, job: JobRecord) -> None:
        """Insert a job. Raises DuplicateJobError if the id exists."""

    async def create_jobs(self, jobs: Sequence[JobRecord]) -> None:
        """Insert many jobs at once (imports, tests). Raises DuplicateJobError if an id exists or repeats.

        The bundled backends insert all or none, in one transaction; this fallback inserts one by one.
        """
        for job in jobs:
            await self.create_job(job)

    @abc.abstractmethod
    async def update_job(self, job_id: str, **fields: Any) -> JobRecord:
        """Set the given JobRecord fields; returns the updated record. Raises JobNotFoundError."""

    @abc.abstractmethod
    async def get_job(self, job_id: str) -> JobRecord | None: ...

    @abc.abstractmethod
    async def list_jobs(
        self, status: str | Sequence[str] | None = None, limit: int = 50, offset: int = 0
    ) -> list[JobRecord]:
        """Newest submitted first (ties broken by job_id descending), filtered by status."""

    @abc.abstractmethod
    async def count_jobs(self, status: str | Sequence[str] | None = None) -> int: ...

    @abc.abstractmethod
    async def mark_interrupted(self, reason: str) -> list[str]:
        """Jobs left queued/running by a previous process become 'interrupted'; returns their ids."""

    # runs -----------------------------------------------------------------------
    @abc.abstractmethod
    async def add_run(self, run: RunRecord) -> None:
        """Persist one finished run at once (replaces a run with the same job_id and run_index)."""

    @abc.abstractmethod
    async def list_runs(self, job_id: str) -> list[RunRecord]:
        """In run order."""

    # benchmark results ----------------------------------------------------------
    @abc.abstractmethod
    async def save_benchmark(self, record: BenchmarkRecord) -> int: ...

    @abc.abstractmethod
    async def latest_benchmarks(self) -> dict[str, BenchmarkRecord]:
        """The newest result per device."""

    @abc.abstractmethod
    async def list_benchmarks(self, device: str | None = None, limit: int = 20) -> list[BenchmarkRecord]:
        """Newest first."""
