"""SQLite storage: the default backend, one file in the user data dir.

The stdlib `sqlite3` connection lives on one dedicated worker thread, so the asyncio loop never blocks on
disk and the connection is only ever touched by the thread that made it. The database runs in WAL mode and
commits every write on its own: a committed write survives the agent being killed (SIGKILL, OOM). With the
default `synchronous=NORMAL` a power cut may lose the last commits; `?synchronous=full` in the URL fsyncs
each commit too.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from ruckus_agent.core.storage import _codec
from ruckus_agent.core.storage.base import (
    ACTIVE_JOB_STATUSES,
    AgentStorage,
    DuplicateJobError,
    JobNotFoundError,
    StorageError,
)
from ruckus_agent.core.storage.migrations import LATEST_VERSION, SQLITE_MIGRATIONS, SQLITE_MIGRATIONS_TABLE
from ruckus_agent.models.common import utcnow
from ruckus_agent.models.storage import BenchmarkRecord, JobRecord, RunRecord, SystemSnapshot

_T = TypeVar("_T")

MEMORY_PATH = ":memory:"
_SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")

_JOB_COLUMNS = (
    "job_id, status, task_type, submitted_at, started_at, completed_at, "
    "runs_total, runs_completed, stage, error, request, result"
)


def _ts(value: datetime) -> str:
    """Fixed-width UTC ISO-8601 text, so that text order is time order."""
    return _codec.utc(value).isoformat(timespec="microseconds")


def _ts_or_none(value: datetime | None) -> str | None:
    return None if value is None else _ts(value)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _dt_or_none(text: str | None) -> datetime | None:
    return None if text is None else _dt(text)


def _job_values(job: JobRecord) -> tuple[Any, ...]:
    """Column values of a job, in _JOB_COLUMNS order."""
    return (
        job.job_id,
        job.status,
        job.task_type,
        _ts(job.submitted_at),
        _ts_or_none(job.started_at),
        _ts_or_none(job.completed_at),
        job.runs_total,
        job.runs_completed,
        job.stage,
        job.error,
        _codec.dumps_json(job.request),
        None if job.result is None else _codec.dumps_json(job.result),
    )


def _job_from_row(row: Sequence[Any]) -> JobRecord:
    return JobRecord(
        job_id=row[0],
        status=row[1],
        task_type=row[2],
        submitted_at=_dt(row[3]),
        started_at=_dt_or_none(row[4]),
        completed_at=_dt_or_none(row[5]),
        runs_total=row[6],
        runs_completed=row[7],
        stage=row[8],
        error=row[9],
        request=_codec.loads_json(row[10]),
        result=None if row[11] is None else _codec.loads_json(row[11]),
    )


def _status_where(status: str | Sequence[str] | None) -> tuple[str, list[str]]:
    """A WHERE clause (or none) filtering jobs by status, with its parameters."""
    wanted = _codec.status_list(status)
    if wanted is None:
        return "", []
    if not wanted:
        return "WHERE 0", []
    return f"WHERE status IN ({', '.join('?' * len(wanted))})", wanted


def path_from_url(url: str) -> tuple[str, str]:
    """(database path or ':memory:', synchronous mode) of a sqlite URL.

    `sqlite:///abs/path.db` is absolute, `sqlite://rel/path.db` and `sqlite:rel/path.db` are relative to the
    working directory, `sqlite://`, `sqlite:///:memory:` are in memory; `?synchronous=full` sets the mode.
    """
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise StorageError(f"not a sqlite URL: {url!r}")
    path = unquote(parts.netloc + parts.path)
    if path in ("", MEMORY_PATH, "/" + MEMORY_PATH):
        path = MEMORY_PATH
    elif re.match(r"^/+[A-Za-z]:[/\\]", path):  # sqlite:///C:/dir/agent.db on Windows
        path = path.lstrip("/")
    elif path.startswith("//"):  # sqlite:////abs/path.db, as SQLAlchemy spells absolute paths
        path = "/" + path.lstrip("/")
    synchronous = parse_qs(parts.query).get("synchronous", ["NORMAL"])[-1].upper()
    if synchronous not in _SYNCHRONOUS_MODES:
        raise StorageError(f"sqlite synchronous must be one of {_SYNCHRONOUS_MODES}, got {synchronous!r}")
    return path, synchronous


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error (the connection is in autocommit mode)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (e.g. disk full)
            conn.execute("ROLLBACK")
        raise


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the pending migrations in one transaction; StorageError if the file is newer than this code."""
    with _transaction(conn):
        conn.execute(SQLITE_MIGRATIONS_TABLE)
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        newest = max(applied, default=0)
        if newest > LATEST_VERSION:
            raise StorageError(
                f"database schema version {newest} is newer than this agent supports ({LATEST_VERSION})"
            )
        for migration in SQLITE_MIGRATIONS:
            if migration.version in applied:
                continue
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, _ts(utcnow())),
            )


class SqliteStorage(AgentStorage):
    """AgentStorage in one SQLite file (or in memory), driven from a single worker thread."""

    scheme = "sqlite"

    def __init__(self, path: str | Path, synchronous: str = "NORMAL", busy_timeout_s: float = 5.0) -> None:
        self._path = str(path) if str(path) == MEMORY_PATH else str(Path(path).expanduser())
        self._synchronous = synchronous.upper()
        if self._synchronous not in _SYNCHRONOUS_MODES:
            raise StorageError(f"sqlite synchronous must be one of {_SYNCHRONOUS_MODES}, got {synchronous!r}")
        self._busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lifecycle_lock = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str) -> SqliteStorage:
        path, synchronous = path_from_url(url)
        return cls(path, synchronous=synchronous)

    @property
    def path(self) -> str:
        """The database file, or ':memory:'."""
        return self._path

    # lifecycle -----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """Open the file (making its folder), set WAL mode and migrate. Runs on the worker thread."""
        if self._path != MEMORY_PATH:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, timeout=self._busy_timeout_s, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            _migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    async def open(self) -> None:
        async with self._lifecycle_lock:
            if self._conn is not None:
                return
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ruckus-sqlite")
            try:
                conn = await asyncio.get_running_loop().run_in_executor(executor, self._connect)
            except (sqlite3.Error, OSError) as exc:
                executor.shutdown(wait=False)
                raise StorageError(f"cannot open sqlite database {self._path!r}: {exc}") from exc
            except BaseException:
                executor.shutdown(wait=False)
                raise
            self._conn, self._executor = conn, executor

    async def close(self) -> None:
        async with self._lifecycle_lock:
            conn, executor = self._conn, self._executor
            if conn is None or executor is None:
                return
            self._conn = self._executor = None
            try:
                # queued behind every operation already submitted, so those finish first
                await asyncio.get_running_loop().run_in_executor(executor, conn.close)
            finally:
                executor.shutdown(wait=False)

    async def _run(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `operation(conn)` on the worker thread; sqlite errors become StorageError."""
        conn, executor = self._conn, self._executor
        if conn is None or executor is None:
            raise StorageError("sqlite storage is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, operation, conn)
        except sqlite3.Error as exc:
            raise StorageError(f"sqlite: {exc}") from exc

    async def schema_version(self) -> int:
        def query(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])

        return await self._run(query)

    # system snapshots ------------------------------------------------------------
    async def save_system_snapshot(self, snapshot: SystemSnapshot) -> int:
        values = (_ts(snapshot.created_at), _codec.dumps_json(snapshot.data))

        def insert(conn: sqlite3.Connection) -> int:
            with _transaction(conn):
                cursor = conn.execute("INSERT INTO system_snapshots (created_at, data) VALUES (?, ?)", values)
            return int(cursor.lastrowid or 0)

        return await self._run(insert)

    async def latest_system_snapshot(self) -> SystemSnapshot | None:
        newest = await self.list_system_snapshots(limit=1)
        return newest[0] if newest else None

    async def list_system_snapshots(self, limit: int = 10) -> list[SystemSnapshot]:
        _codec.check_paging(limit)

        def query(conn: sqlite3.Connection) -> list[SystemSnapshot]:
            rows = conn.execute(
                "SELECT id, created_at, data FROM system_snapshots ORDER BY created_at DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [SystemSnapshot(id=r[0], created_at=_dt(r[1]), data=_codec.loads_json(r[2])) for r in rows]

        return await self._run(query)

    # jobs -----------------------------------------------------------------------
    async def create_job(self, job: JobRecord) -> None:
        await self.create_jobs([job])

    async def create_jobs(self, jobs: Sequence[JobRecord]) -> None:
        rows = [_job_values(job) for job in jobs]

        def insert(conn: sqlite3.Connection) -> None:
            try:
                with _transaction(conn):
                    conn.executemany(
                        f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({', '.join('?' * 12)})", rows
                    )
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorname == "SQLITE_CONSTRAINT_PRIMARYKEY":
                    which = repr(jobs[0].job_id) if len(jobs) == 1 else "of this batch"
                    raise DuplicateJobError(f"a job {which} exists already") from exc
                raise

        await self._run(insert)

    async def update_job(self, job_id: str, **fields: Any) -> JobRecord:
        _codec.check_job_fields(fields)

        def update(conn: sqlite3.Connection) -> JobRecord:
            with _transaction(conn):
                row = conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
                if row is None:
                    raise JobNotFoundError(job_id)
                updated = _codec.updated_job(_job_from_row(row), fields)
                values = _job_values(updated)
                conn.execute(
                    "UPDATE jobs SET status = ?, task_type = ?, submitted_at = ?, started_at = ?, "
                    "completed_at = ?, runs_total = ?, runs_completed = ?, stage = ?, error = ?, "
                    "request = ?, result = ? WHERE job_id = ?",
                    (*values[1:], job_id),
                )
            return updated

        return await self._run(update)

    async def get_job(self, job_id: str) -> JobRecord | None:
        def query(conn: sqlite3.Connection) -> JobRecord | None:
            row = conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            return None if row is None else _job_from_row(row)

        return await self._run(query)

    async def list_jobs(
        self, status: str | Sequence[str] | None = None, limit: int = 50, offset: int = 0
    ) -> list[JobRecord]:
        _codec.check_paging(limit, offset)
        where, params = _status_where(status)

        def query(conn: sqlite3.Connection) -> list[JobRecord]:
            rows = conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs {where} "
                "ORDER BY submitted_at DESC, job_id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
            return [_job_from_row(r) for r in rows]

        return await self._run(query)

    async def count_jobs(self, status: str | Sequence[str] | None = None) -> int:
        where, params = _status_where(status)

        def query(conn: sqlite3.Connection) -> int:
            return int(conn.execute(f"SELECT COUNT(*) FROM jobs {where}", params).fetchone()[0])

        return await self._run(query)

    async def mark_interrupted(self, reason: str) -> list[str]:
        where, params = _status_where(ACTIVE_JOB_STATUSES)
        completed_at = _ts(utcnow())

        def update(conn: sqlite3.Connection) -> list[str]:
            with _transaction(conn):
                ids = [
                    row[0]
                    for row in conn.execute(
                        f"SELECT job_id FROM jobs {where} ORDER BY submitted_at DESC, job_id DESC", params
                    )
                ]
                conn.execute(
                    f"UPDATE jobs SET status = ?, error = ?, completed_at = ? {where}",
                    (_codec.INTERRUPTED_STATUS, reason, completed_at, *params),
                )
            return ids

        return await self._run(update)

    # runs -----------------------------------------------------------------------
    async def add_run(self, run: RunRecord) -> None:
        values = (run.job_id, run.run_index, run.success, _ts(run.created_at), _codec.dumps_json(run.data))

        def upsert(conn: sqlite3.Connection) -> None:
            try:
                with _transaction(conn):
                    conn.execute(
                        "INSERT INTO runs (job_id, run_index, success, created_at, data) "
                        "VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (job_id, run_index) DO UPDATE SET success = excluded.success, "
                        "created_at = excluded.created_at, data = excluded.data",
                        values,
                    )
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorname == "SQLITE_CONSTRAINT_FOREIGNKEY":
                    raise JobNotFoundError(run.job_id) from exc
                raise

        await self._run(upsert)

    async def list_runs(self, job_id: str) -> list[RunRecord]:
        def query(conn: sqlite3.Connection) -> list[RunRecord]:
            rows = conn.execute(
                "SELECT run_index, success, created_at, data FROM runs WHERE job_id = ? ORDER BY run_index",
                (job_id,),
            ).fetchall()
            return [
                RunRecord(
                    job_id=job_id,
                    run_index=r[0],
                    success=bool(r[1]),
                    created_at=_dt(r[2]),
                    data=_codec.loads_json(r[3]),
                )
                for r in rows
            ]

        return await self._run(query)

    # benchmark results ----------------------------------------------------------
    async def save_benchmark(self, record: BenchmarkRecord) -> int:
        values = (record.device, _ts(record.created_at), _codec.dumps_json(record.data))

        def insert(conn: sqlite3.Connection) -> int:
            with _transaction(conn):
                cursor = conn.execute(
                    "INSERT INTO benchmark_results (device, created_at, data) VALUES (?, ?, ?)", values
                )
            return int(cursor.lastrowid or 0)

        return await self._run(insert)

    async def latest_benchmarks(self) -> dict[str, BenchmarkRecord]:
        """The newest result per device, keyed in device order."""

        def query(conn: sqlite3.Connection) -> list[BenchmarkRecord]:
            rows = conn.execute(
                "SELECT id, device, created_at, data FROM ("
                "  SELECT *, ROW_NUMBER() OVER ("
                "    PARTITION BY device ORDER BY created_at DESC, id DESC"
                "  ) AS newest_first"
                "  FROM benchmark_results"
                ") WHERE newest_first = 1"
            ).fetchall()
            return [_benchmark_from_row(r) for r in rows]

        records = await self._run(query)
        return {r.device: r for r in sorted(records, key=lambda r: r.device)}

    async def list_benchmarks(self, device: str | None = None, limit: int = 20) -> list[BenchmarkRecord]:
        _codec.check_paging(limit)
        where, params = ("", []) if device is None else ("WHERE device = ?", [device])

        def query(conn: sqlite3.Connection) -> list[BenchmarkRecord]:
            rows = conn.execute(
                f"SELECT id, device, created_at, data FROM benchmark_results {where} "
                "ORDER BY created_at DESC, id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
            return [_benchmark_from_row(r) for r in rows]

        return await self._run(query)


def _benchmark_from_row(row: Sequence[Any]) -> BenchmarkRecord:
    return BenchmarkRecord(id=row[0], device=row[1], created_at=_dt(row[2]), data=_codec.loads_json(row[3]))
