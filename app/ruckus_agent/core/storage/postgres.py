"""PostgreSQL storage on asyncpg: for agents whose history lives in a shared database server.

A small connection pool; payloads are JSONB (encoded by the same codec as the other backends), datetimes
timestamptz. Migrations run under an advisory lock, so agents starting at once on one database do not race.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from ruckus_agent.core.storage import _codec
from ruckus_agent.core.storage.base import (
    ACTIVE_JOB_STATUSES,
    AgentStorage,
    DuplicateJobError,
    JobNotFoundError,
    StorageError,
)
from ruckus_agent.core.storage.migrations import (
    LATEST_VERSION,
    POSTGRES_MIGRATIONS,
    POSTGRES_MIGRATIONS_TABLE,
)
from ruckus_agent.models.common import utcnow
from ruckus_agent.models.storage import BenchmarkRecord, JobRecord, RunRecord, SystemSnapshot

#: key of the advisory lock held while migrating (any constant; "RUCKUS" in ASCII)
MIGRATION_LOCK_KEY = 0x5255434B5553

_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

_JOB_COLUMNS = (
    "job_id, status, task_type, submitted_at, started_at, completed_at, "
    "runs_total, runs_completed, stage, error, request, result"
)
_INSERT_JOB = f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"


def _redacted(url: str) -> str:
    """The URL's host, port and database, without user or password (for error messages)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


async def _init_connection(conn: asyncpg.Connection) -> None:
    """JSONB in and out through the shared codec."""
    await conn.set_type_codec(
        "jsonb", encoder=_codec.dumps_json, decoder=_codec.loads_json, schema="pg_catalog", format="text"
    )


async def _migrate(conn: asyncpg.Connection) -> None:
    """Apply pending migrations in one transaction; StorageError if the database is newer than the code."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(POSTGRES_MIGRATIONS_TABLE)
        applied = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        newest = max(applied, default=0)
        if newest > LATEST_VERSION:
            raise StorageError(
                f"database schema version {newest} is newer than this agent supports ({LATEST_VERSION})"
            )
        for migration in POSTGRES_MIGRATIONS:
            if migration.version in applied:
                continue
            for statement in migration.statements:
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                utcnow(),
            )


def _job_args(job: JobRecord) -> tuple[Any, ...]:
    """Parameters of a job, in _JOB_COLUMNS order."""
    return (
        job.job_id,
        job.status,
        job.task_type,
        _codec.utc(job.submitted_at),
        _codec.utc_or_none(job.started_at),
        _codec.utc_or_none(job.completed_at),
        job.runs_total,
        job.runs_completed,
        job.stage,
        job.error,
        job.request,
        job.result,
    )


def _job_from_row(row: asyncpg.Record) -> JobRecord:
    return JobRecord(**dict(row.items()))


def _benchmark_from_row(row: asyncpg.Record) -> BenchmarkRecord:
    return BenchmarkRecord(id=row["id"], device=row["device"], created_at=row["created_at"], data=row["data"])


def _status_where(status: str | Sequence[str] | None, param: int) -> tuple[str, list[Any]]:
    """A WHERE clause (or none) filtering jobs by status as parameter $param, with its arguments."""
    wanted = _codec.status_list(status)
    if wanted is None:
        return "", []
    return f"WHERE status = ANY(${param}::text[])", [wanted]


class PostgresStorage(AgentStorage):
    """AgentStorage in a PostgreSQL database (`postgresql://user:pass@host:port/db`)."""

    scheme = "postgresql"

    def __init__(
        self, url: str, min_pool_size: int = 1, max_pool_size: int = 4, command_timeout_s: float = 30.0
    ) -> None:
        self._url = url
        self._min_pool_size = min_pool_size
        self._max_pool_size = max_pool_size
        self._command_timeout_s = command_timeout_s
        self._pool: asyncpg.Pool | None = None
        self._lifecycle_lock = asyncio.Lock()

    # lifecycle -----------------------------------------------------------------
    async def open(self) -> None:
        async with self._lifecycle_lock:
            if self._pool is not None:
                return
            try:
                pool = await asyncpg.create_pool(
                    self._url,
                    min_size=self._min_pool_size,
                    max_size=self._max_pool_size,
                    command_timeout=self._command_timeout_s,
                    init=_init_connection,
                )
            except _DRIVER_ERRORS as exc:
                raise StorageError(f"cannot connect to {_redacted(self._url)}: {exc}") from exc
            try:
                async with pool.acquire() as conn:
                    await _migrate(conn)
            except BaseException as exc:
                await pool.close()
                if isinstance(exc, _DRIVER_ERRORS):
                    raise StorageError(f"cannot migrate {_redacted(self._url)}: {exc}") from exc
                raise
            self._pool = pool

    async def close(self) -> None:
        async with self._lifecycle_lock:
            pool, self._pool = self._pool, None
            if pool is not None:
                await pool.close()  # waits for operations in flight to give their connections back

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; driver errors become StorageError."""
        pool = self._pool
        if pool is None:
            raise StorageError("postgres storage is not open")
        try:
            async with pool.acquire() as conn:
                yield conn
        except _DRIVER_ERRORS as exc:
            raise StorageError(f"postgres: {exc}") from exc

    async def schema_version(self) -> int:
        async with self._connection() as conn:
            return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    # system snapshots ------------------------------------------------------------
    async def save_system_snapshot(self, snapshot: SystemSnapshot) -> int:
        async with self._connection() as conn:
            return int(
                await conn.fetchval(
                    "INSERT INTO system_snapshots (created_at, data) VALUES ($1, $2) RETURNING id",
                    _codec.utc(snapshot.created_at),
                    snapshot.data,
                )
            )

    async def latest_system_snapshot(self) -> SystemSnapshot | None:
        newest = await self.list_system_snapshots(limit=1)
        return newest[0] if newest else None

    async def list_system_snapshots(self, limit: int = 10) -> list[SystemSnapshot]:
        _codec.check_paging(limit)
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT id, created_at, data FROM system_snapshots "
                "ORDER BY created_at DESC, id DESC LIMIT $1",
                limit,
            )
        return [SystemSnapshot(id=r["id"], created_at=r["created_at"], data=r["data"]) for r in rows]

    # jobs -----------------------------------------------------------------------
    async def create_job(self, job: JobRecord) -> None:
        args = _job_args(job)
        async with self._connection() as conn:
            try:
                await conn.execute(_INSERT_JOB, *args)
            except asyncpg.UniqueViolationError as exc:
                raise DuplicateJobError(f"job {job.job_id!r} exists already") from exc

    async def create_jobs(self, jobs: Sequence[JobRecord]) -> None:
        rows = [_job_args(job) for job in jobs]
        async with self._connection() as conn, conn.transaction():
            try:
                await conn.executemany(_INSERT_JOB, rows)
            except asyncpg.UniqueViolationError as exc:
                raise DuplicateJobError(f"job exists already: {exc.detail or exc}") from exc

    async def update_job(self, job_id: str, **fields: Any) -> JobRecord:
        _codec.check_job_fields(fields)
        async with self._connection() as conn, conn.transaction():
            row = await conn.fetchrow(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE job_id = $1 FOR UPDATE", job_id)
            if row is None:
                raise JobNotFoundError(job_id)
            updated = _codec.updated_job(_job_from_row(row), fields)
            await conn.execute(
                "UPDATE jobs SET status = $2, task_type = $3, submitted_at = $4, started_at = $5, "
                "completed_at = $6, runs_total = $7, runs_completed = $8, stage = $9, error = $10, "
                "request = $11, result = $12 WHERE job_id = $1",
                *_job_args(updated),
            )
        return updated

    async def get_job(self, job_id: str) -> JobRecord | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE job_id = $1", job_id)
        return None if row is None else _job_from_row(row)

    async def list_jobs(
        self, status: str | Sequence[str] | None = None, limit: int = 50, offset: int = 0
    ) -> list[JobRecord]:
        _codec.check_paging(limit, offset)
        where, args = _status_where(status, param=3)
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_JOB_COLUMNS} FROM jobs {where} "
                "ORDER BY submitted_at DESC, job_id DESC LIMIT $1 OFFSET $2",
                limit,
                offset,
                *args,
            )
        return [_job_from_row(r) for r in rows]

    async def count_jobs(self, status: str | Sequence[str] | None = None) -> int:
        where, args = _status_where(status, param=1)
        async with self._connection() as conn:
            return int(await conn.fetchval(f"SELECT COUNT(*) FROM jobs {where}", *args))

    async def mark_interrupted(self, reason: str) -> list[str]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "WITH interrupted AS ("
                "  UPDATE jobs SET status = $1, error = $2, completed_at = $3"
                "  WHERE status = ANY($4::text[]) RETURNING job_id, submitted_at"
                ") SELECT job_id FROM interrupted ORDER BY submitted_at DESC, job_id DESC",
                _codec.INTERRUPTED_STATUS,
                reason,
                utcnow(),
                list(ACTIVE_JOB_STATUSES),
            )
        return [r["job_id"] for r in rows]

    # runs -----------------------------------------------------------------------
    async def add_run(self, run: RunRecord) -> None:
        async with self._connection() as conn:
            try:
                await conn.execute(
                    "INSERT INTO runs (job_id, run_index, success, created_at, data) "
                    "VALUES ($1, $2, $3, $4, $5) "
                    "ON CONFLICT (job_id, run_index) DO UPDATE SET success = EXCLUDED.success, "
                    "created_at = EXCLUDED.created_at, data = EXCLUDED.data",
                    run.job_id,
                    run.run_index,
                    run.success,
                    _codec.utc(run.created_at),
                    run.data,
                )
            except asyncpg.ForeignKeyViolationError as exc:
                raise JobNotFoundError(run.job_id) from exc

    async def list_runs(self, job_id: str) -> list[RunRecord]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT job_id, run_index, success, created_at, data FROM runs WHERE job_id = $1 "
                "ORDER BY run_index",
                job_id,
            )
        return [RunRecord(**dict(r.items())) for r in rows]

    # benchmark results ----------------------------------------------------------
    async def save_benchmark(self, record: BenchmarkRecord) -> int:
        async with self._connection() as conn:
            return int(
                await conn.fetchval(
                    "INSERT INTO benchmark_results (device, created_at, data) "
                    "VALUES ($1, $2, $3) RETURNING id",
                    record.device,
                    _codec.utc(record.created_at),
                    record.data,
                )
            )

    async def latest_benchmarks(self) -> dict[str, BenchmarkRecord]:
        """The newest result per device, keyed in device order."""
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT DISTINCT ON (device) id, device, created_at, data FROM benchmark_results "
                "ORDER BY device, created_at DESC, id DESC"
            )
        records = [_benchmark_from_row(r) for r in rows]
        return {r.device: r for r in sorted(records, key=lambda r: r.device)}

    async def list_benchmarks(self, device: str | None = None, limit: int = 20) -> list[BenchmarkRecord]:
        _codec.check_paging(limit)
        where, args = ("", []) if device is None else ("WHERE device = $2", [device])
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT id, device, created_at, data FROM benchmark_results {where} "
                "ORDER BY created_at DESC, id DESC LIMIT $1",
                limit,
                *args,
            )
        return [_benchmark_from_row(r) for r in rows]
