"""The AgentStorage contract, run against memory://, sqlite:///<tmp>/agent.db and a real PostgreSQL.

Expected values are written out by hand here, never computed by the storage code.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ruckus_agent.core.storage import (
    AgentStorage,
    DuplicateJobError,
    JobNotFoundError,
    StorageError,
    create_storage,
)
from ruckus_agent.core.storage.memory import MemoryStorage
from ruckus_agent.core.storage.migrations import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS
from ruckus_agent.core.storage.sqlite import SqliteStorage, path_from_url
from ruckus_agent.models.storage import BenchmarkRecord, JobRecord, RunRecord, SystemSnapshot

if TYPE_CHECKING:
    from conftest import Backend

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
APP_DIR = Path(__file__).resolve().parents[2] / "app"


def job(job_id: str, status: str = "queued", submitted_at: datetime = T0, **fields: object) -> JobRecord:
    return JobRecord(job_id=job_id, status=status, submitted_at=submitted_at, **fields)


async def migration_rows(backend: Backend) -> list[tuple[int, str]]:
    """(version, name) rows of schema_migrations, read with the database's own driver."""
    if backend.name == "sqlite":
        path = backend.url.removeprefix("sqlite://")
        with sqlite3.connect(path) as conn:
            return list(conn.execute("SELECT version, name FROM schema_migrations ORDER BY version"))
    import asyncpg

    conn = await asyncpg.connect(backend.url)
    try:
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    return [(r["version"], r["name"]) for r in rows]


async def insert_migration_row(backend: Backend, version: int) -> None:
    """Pretend a newer agent migrated this database."""
    if backend.name == "sqlite":
        path = backend.url.removeprefix("sqlite://")
        with sqlite3.connect(path) as conn:
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 'x')",
                (version,),
            )
        return
    import asyncpg

    conn = await asyncpg.connect(backend.url)
    try:
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', now())", version
        )
    finally:
        await conn.close()


# lifecycle --------------------------------------------------------------------------------------
async def test_open_twice_and_close_twice_are_harmless(backend: Backend) -> None:
    store = create_storage(backend.url)
    await store.open()
    await store.open()
    await store.create_job(job("job-a"))
    assert (await store.get_job("job-a")) is not None
    await store.close()
    await store.close()


async def test_async_with_opens_and_closes(backend: Backend) -> None:
    async with create_storage(backend.url) as store:
        await store.create_job(job("job-a"))
        assert await store.count_jobs() == 1
    with pytest.raises(StorageError):
        await store.get_job("job-a")


async def test_use_before_open_raises_storage_error(backend: Backend) -> None:
    store = create_storage(backend.url)
    with pytest.raises(StorageError):
        await store.list_jobs()
    with pytest.raises(StorageError):
        await store.create_job(job("job-a"))


async def test_store_can_be_reopened_after_close(backend: Backend) -> None:
    store = create_storage(backend.url)
    await store.open()
    await store.close()
    await store.open()
    await store.create_job(job("job-a"))
    assert [j.job_id for j in await store.list_jobs()] == ["job-a"]
    await store.close()


async def test_concurrent_writes_all_land(storage: AgentStorage) -> None:
    await asyncio.gather(*(storage.create_job(job(f"job-{i:02d}")) for i in range(40)))
    await asyncio.gather(*(storage.add_run(RunRecord(job_id="job-07", run_index=i)) for i in range(20)))
    assert await storage.count_jobs() == 40
    assert [r.run_index for r in await storage.list_runs("job-07")] == list(range(20))


# migrations -------------------------------------------------------------------------------------
def test_migration_lists_are_numbered_alike() -> None:
    assert [m.version for m in SQLITE_MIGRATIONS] == [1]
    assert [m.version for m in POSTGRES_MIGRATIONS] == [1]


async def test_fresh_store_is_at_schema_version_1(storage: AgentStorage) -> None:
    assert await storage.schema_version() == 1


async def test_migrations_are_applied_once_across_reopen(persistent_backend: Backend) -> None:
    backend = persistent_backend
    async with create_storage(backend.url) as store:
        assert await store.schema_version() == 1
        await store.create_job(job("job-kept"))
    async with create_storage(backend.url) as store:
        assert await store.schema_version() == 1
        assert (await store.get_job("job-kept")) is not None
    assert await migration_rows(backend) == [(1, "initial schema")]


async def test_database_newer_than_the_code_is_refused(persistent_backend: Backend) -> None:
    backend = persistent_backend
    async with create_storage(backend.url):
        pass
    await insert_migration_row(backend, 999)
    store = create_storage(backend.url)
    with pytest.raises(StorageError, match="999"):
        await store.open()
    await store.close()


# system snapshots -------------------------------------------------------------------------------
async def test_snapshot_round_trip(storage: AgentStorage) -> None:
    snapshot = SystemSnapshot(created_at=T0, data={"cpu": {"model": "EPYC", "cores": 16}, "gpus": []})
    snapshot_id = await storage.save_system_snapshot(snapshot)
    latest = await storage.latest_system_snapshot()
    assert latest == SystemSnapshot(
        id=snapshot_id, created_at=T0, data={"cpu": {"model": "EPYC", "cores": 16}, "gpus": []}
    )
    assert snapshot.id is None  # the caller's object is left alone


async def test_snapshots_list_newest_first_with_limit(storage: AgentStorage) -> None:
    assert await storage.latest_system_snapshot() is None
    assert await storage.list_system_snapshots() == []
    # saved out of time order: the list follows created_at, not insertion
    for minute, label in [(5, "middle"), (9, "newest"), (1, "oldest")]:
        await storage.save_system_snapshot(
            SystemSnapshot(created_at=T0 + timedelta(minutes=minute), data={"label": label})
        )
    assert [s.data["label"] for s in await storage.list_system_snapshots()] == ["newest", "middle", "oldest"]
    assert [s.data["label"] for s in await storage.list_system_snapshots(limit=2)] == ["newest", "middle"]
    latest = await storage.latest_system_snapshot()
    assert latest is not None
    assert latest.data == {"label": "newest"}
    assert latest.created_at == datetime(2024, 3, 1, 12, 9, tzinfo=UTC)
    assert [s.id for s in await storage.list_system_snapshots()] == [2, 1, 3]  # ids count in saving order


# jobs -------------------------------------------------------------------------------------------
async def test_job_round_trips_every_field(storage: AgentStorage) -> None:
    record = JobRecord(
        job_id="job-0001",
        status="completed",
        task_type="memory_benchmark",
        submitted_at=datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=UTC),
        started_at=datetime(2024, 3, 1, 12, 0, 1, tzinfo=UTC),
        completed_at=datetime(2024, 3, 1, 12, 5, 0, tzinfo=UTC),
        runs_total=3,
        runs_completed=3,
        stage="done",
        error=None,
        request={"task_type": "memory_benchmark", "parameters": {"sizes_mb": [1, 64]}, "runs_per_job": 3},
        result={"status": "completed", "metrics": {"bandwidth_gb_s": 41.5}},
    )
    await storage.create_job(record)
    assert await storage.get_job("job-0001") == JobRecord(
        job_id="job-0001",
        status="completed",
        task_type="memory_benchmark",
        submitted_at=datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=UTC),
        started_at=datetime(2024, 3, 1, 12, 0, 1, tzinfo=UTC),
        completed_at=datetime(2024, 3, 1, 12, 5, 0, tzinfo=UTC),
        runs_total=3,
        runs_completed=3,
        stage="done",
        error=None,
        request={"task_type": "memory_benchmark", "parameters": {"sizes_mb": [1, 64]}, "runs_per_job": 3},
        result={"status": "completed", "metrics": {"bandwidth_gb_s": 41.5}},
    )


async def test_job_defaults_round_trip(storage: AgentStorage) -> None:
    await storage.create_job(JobRecord(job_id="job-min", submitted_at=T0))
    got = await storage.get_job("job-min")
    assert got is not None
    assert (got.status, got.task_type, got.runs_total, got.runs_completed) == ("queued", None, 1, 0)
    assert (got.started_at, got.completed_at, got.stage, got.error) == (None, None, None, None)
    assert (got.request, got.result) == ({}, None)


async def test_unknown_job_is_none(storage: AgentStorage) -> None:
    assert await storage.get_job("job-missing") is None


async def test_duplicate_job_id_raises(storage: AgentStorage) -> None:
    await storage.create_job(job("job-a", request={"first": True}))
    with pytest.raises(DuplicateJobError):
        await storage.create_job(job("job-a", request={"second": True}))
    got = await storage.get_job("job-a")
    assert got is not None
    assert got.request == {"first": True}


async def test_create_jobs_inserts_all_or_none(storage: AgentStorage) -> None:
    await storage.create_jobs([job("job-1"), job("job-2")])
    assert await storage.count_jobs() == 2
    with pytest.raises(DuplicateJobError):
        await storage.create_jobs([job("job-3"), job("job-2")])  # clashes with a stored job
    with pytest.raises(DuplicateJobError):
        await storage.create_jobs([job("job-4"), job("job-4")])  # repeats inside the batch
    assert sorted(j.job_id for j in await storage.list_jobs()) == ["job-1", "job-2"]


async def test_update_job_sets_fields_and_returns_the_record(storage: AgentStorage) -> None:
    await storage.create_job(job("job-a", task_type="gpu_benchmark", runs_total=5))
    updated = await storage.update_job(
        "job-a",
        status="running",
        started_at=datetime(2024, 3, 1, 12, 0, 30, tzinfo=UTC),
        runs_completed=2,
        stage="run 2/5",
        result={"partial": [1.5, 2.5]},
    )
    expected = JobRecord(
        job_id="job-a",
        status="running",
        task_type="gpu_benchmark",
        submitted_at=T0,
        started_at=datetime(2024, 3, 1, 12, 0, 30, tzinfo=UTC),
        runs_total=5,
        runs_completed=2,
        stage="run 2/5",
        result={"partial": [1.5, 2.5]},
    )
    assert updated == expected
    assert await storage.get_job("job-a") == expected
    # setting a field back to None clears it
    cleared = await storage.update_job("job-a", stage=None, result=None)
    assert (cleared.stage, cleared.result, cleared.runs_completed) == (None, None, 2)


async def test_update_unknown_job_raises_not_found(storage: AgentStorage) -> None:
    with pytest.raises(JobNotFoundError):
        await storage.update_job("job-missing", status="running")
    with pytest.raises(KeyError):  # JobNotFoundError is a KeyError too
        await storage.update_job("job-missing", status="running")


async def test_update_job_rejects_bad_fields_and_values(storage: AgentStorage) -> None:
    await storage.create_job(job("job-a"))
    with pytest.raises(ValueError, match="progress"):
        await storage.update_job("job-a", progress=0.5)
    with pytest.raises(ValueError):
        await storage.update_job("job-a", runs_completed="many")
    with pytest.raises(ValueError):  # a bad field name is refused before the id is looked up
        await storage.update_job("job-missing", nonsense=1)
    assert await storage.get_job("job-a") == job("job-a")


async def test_list_jobs_newest_first_ties_by_job_id_descending(storage: AgentStorage) -> None:
    for job_id, minute in [("job-b", 0), ("job-d", 2), ("job-a", 1), ("job-c", 1), ("job-e", 0)]:
        await storage.create_job(job(job_id, submitted_at=T0 + timedelta(minutes=minute)))
    assert [j.job_id for j in await storage.list_jobs()] == ["job-d", "job-c", "job-a", "job-e", "job-b"]


async def test_list_jobs_orders_ids_by_code_point(storage: AgentStorage) -> None:
    # the same instant for all: only the id decides; byte order puts "B" < "a" < "b" < "é"
    for job_id in ["job-b", "job-B", "job-é", "job-a"]:
        await storage.create_job(job(job_id))
    assert [j.job_id for j in await storage.list_jobs()] == ["job-é", "job-b", "job-a", "job-B"]


async def test_list_jobs_filters_by_status_and_counts(storage: AgentStorage) -> None:
    statuses = {
        "job-1": "queued",
        "job-2": "running",
        "job-3": "completed",
        "job-4": "failed",
        "job-5": "completed",
        "job-6": "queued",
    }
    for index, (job_id, status) in enumerate(statuses.items()):
        await storage.create_job(job(job_id, status, submitted_at=T0 + timedelta(seconds=index)))
    assert [j.job_id for j in await storage.list_jobs(status="completed")] == ["job-5", "job-3"]
    assert [j.job_id for j in await storage.list_jobs(status=["queued", "running"])] == [
        "job-6",
        "job-2",
        "job-1",
    ]
    assert [j.job_id for j in await storage.list_jobs(status=("failed",))] == ["job-4"]
    assert await storage.list_jobs(status="cancelled") == []
    assert await storage.list_jobs(status=[]) == []
    assert await storage.count_jobs() == 6
    assert await storage.count_jobs(status="completed") == 2
    assert await storage.count_jobs(status=["queued", "running"]) == 3
    assert await storage.count_jobs(status="cancelled") == 0
    assert await storage.count_jobs(status=[]) == 0


async def test_list_jobs_pages_with_limit_and_offset(storage: AgentStorage) -> None:
    for index in range(7):
        await storage.create_job(job(f"job-{index}", submitted_at=T0 + timedelta(hours=index)))
    assert [j.job_id for j in await storage.list_jobs(limit=3)] == ["job-6", "job-5", "job-4"]
    assert [j.job_id for j in await storage.list_jobs(limit=3, offset=3)] == ["job-3", "job-2", "job-1"]
    assert [j.job_id for j in await storage.list_jobs(limit=3, offset=6)] == ["job-0"]
    assert await storage.list_jobs(limit=3, offset=7) == []
    assert await storage.list_jobs(limit=0) == []
    assert [j.job_id for j in await storage.list_jobs(status="queued", limit=2, offset=1)] == [
        "job-5",
        "job-4",
    ]


async def test_list_jobs_rejects_negative_paging(storage: AgentStorage) -> None:
    with pytest.raises(ValueError):
        await storage.list_jobs(limit=-1)
    with pytest.raises(ValueError):
        await storage.list_jobs(offset=-1)


async def test_listing_10000_jobs_page_by_page(storage: AgentStorage) -> None:
    # job-00000 is the oldest, one second apart; every tenth one failed
    await storage.create_jobs(
        [
            job(
                f"job-{i:05d}",
                "failed" if i % 10 == 0 else "completed",
                submitted_at=T0 + timedelta(seconds=i),
            )
            for i in range(10_000)
        ]
    )
    assert await storage.count_jobs() == 10_000
    assert await storage.count_jobs(status="failed") == 1_000
    seen: list[str] = []
    for offset in range(0, 10_000, 500):
        seen += [j.job_id for j in await storage.list_jobs(limit=500, offset=offset)]
    assert seen == [f"job-{i:05d}" for i in range(9_999, -1, -1)]
    page = await storage.list_jobs(limit=3, offset=5_000)
    assert [j.job_id for j in page] == ["job-04999", "job-04998", "job-04997"]
    assert page[0].submitted_at == datetime(2024, 3, 1, 13, 23, 19, tzinfo=UTC)  # T0 + 4999 s
    failed = await storage.list_jobs(status="failed", limit=2, offset=998)
    assert [j.job_id for j in failed] == ["job-00010", "job-00000"]


async def test_mark_interrupted_changes_only_active_jobs_and_keeps_runs(storage: AgentStorage) -> None:
    await storage.create_job(job("job-q", "queued", submitted_at=T0))
    await storage.create_job(
        job("job-r", "running", submitted_at=T0 + timedelta(minutes=1), runs_completed=2)
    )
    await storage.create_job(job("job-c", "completed", submitted_at=T0 + timedelta(minutes=2)))
    await storage.create_job(job("job-f", "failed", submitted_at=T0 + timedelta(minutes=3), error="boom"))
    await storage.add_run(RunRecord(job_id="job-r", run_index=0, created_at=T0, data={"latency_s": 1.25}))
    await storage.add_run(RunRecord(job_id="job-r", run_index=1, created_at=T0, data={"latency_s": 0.5}))

    before = datetime.now(UTC)
    interrupted = await storage.mark_interrupted("agent restarted")
    after = datetime.now(UTC)

    assert interrupted == ["job-r", "job-q"]  # newest first, like list_jobs
    for job_id in ("job-q", "job-r"):
        got = await storage.get_job(job_id)
        assert got is not None
        assert (got.status, got.error) == ("interrupted", "agent restarted")
        assert got.completed_at is not None
        assert before - timedelta(seconds=1) <= got.completed_at <= after + timedelta(seconds=1)
    running = await storage.get_job("job-r")
    assert running is not None
    assert running.runs_completed == 2
    completed, failed = await storage.get_job("job-c"), await storage.get_job("job-f")
    assert completed is not None and failed is not None
    assert (completed.status, completed.error, completed.completed_at) == ("completed", None, None)
    assert (failed.status, failed.error) == ("failed", "boom")
    assert [(r.run_index, r.data) for r in await storage.list_runs("job-r")] == [
        (0, {"latency_s": 1.25}),
        (1, {"latency_s": 0.5}),
    ]
    assert await storage.mark_interrupted("again") == []


# runs -------------------------------------------------------------------------------------------
async def test_job_with_1000_runs_round_trips_in_order(storage: AgentStorage) -> None:
    await storage.create_job(job("job-long", "running", runs_total=1000))
    # added in a scrambled order: 0, 7, 14, ... (7 and 1000 are coprime, so every index comes once)
    for step in range(1000):
        index = (step * 7) % 1000
        await storage.add_run(
            RunRecord(
                job_id="job-long",
                run_index=index,
                success=index % 100 != 99,
                created_at=T0 + timedelta(milliseconds=index),
                data={"run": index, "latency_s": index / 1000},
            )
        )
    runs = await storage.list_runs("job-long")
    assert len(runs) == 1000
    assert [r.run_index for r in runs] == list(range(1000))
    assert runs[0] == RunRecord(
        job_id="job-long", run_index=0, success=True, created_at=T0, data={"run": 0, "latency_s": 0.0}
    )
    assert runs[99] == RunRecord(
        job_id="job-long",
        run_index=99,
        success=False,
        created_at=datetime(2024, 3, 1, 12, 0, 0, 99000, tzinfo=UTC),
        data={"run": 99, "latency_s": 0.099},
    )
    assert runs[999].data == {"run": 999, "latency_s": 0.999}
    assert [r.run_index for r in runs if not r.success] == [99, 199, 299, 399, 499, 599, 699, 799, 899, 999]


async def test_add_run_replaces_the_same_index(storage: AgentStorage) -> None:
    await storage.create_job(job("job-a"))
    await storage.create_job(job("job-b"))
    await storage.add_run(
        RunRecord(job_id="job-a", run_index=0, success=False, created_at=T0, data={"try": 1})
    )
    await storage.add_run(RunRecord(job_id="job-a", run_index=1, created_at=T0, data={"try": 1}))
    await storage.add_run(RunRecord(job_id="job-b", run_index=0, created_at=T0, data={"other": True}))
    later = T0 + timedelta(seconds=30)
    await storage.add_run(
        RunRecord(job_id="job-a", run_index=0, success=True, created_at=later, data={"try": 2})
    )
    assert await storage.list_runs("job-a") == [
        RunRecord(job_id="job-a", run_index=0, success=True, created_at=later, data={"try": 2}),
        RunRecord(job_id="job-a", run_index=1, success=True, created_at=T0, data={"try": 1}),
    ]
    assert await storage.list_runs("job-b") == [
        RunRecord(job_id="job-b", run_index=0, success=True, created_at=T0, data={"other": True})
    ]


async def test_runs_belong_to_a_stored_job(storage: AgentStorage) -> None:
    with pytest.raises(JobNotFoundError):
        await storage.add_run(RunRecord(job_id="job-missing", run_index=0))
    assert await storage.list_runs("job-missing") == []


# benchmark results ------------------------------------------------------------------------------
async def test_benchmarks_list_newest_first_and_by_device(storage: AgentStorage) -> None:
    saved = [
        ("cpu", 0, {"copy_gb_s": 20.5}),
        ("cuda:0", 1, {"copy_gb_s": 1800.0}),
        ("cpu", 2, {"copy_gb_s": 21.0}),
        ("cuda:1", 3, {"copy_gb_s": 1750.0}),
        ("cuda:0", 4, {"copy_gb_s": 1820.0}),
    ]
    ids = [
        await storage.save_benchmark(
            BenchmarkRecord(device=d, created_at=T0 + timedelta(minutes=m), data=data)
        )
        for d, m, data in saved
    ]
    assert ids == [1, 2, 3, 4, 5]
    assert [(b.id, b.device) for b in await storage.list_benchmarks()] == [
        (5, "cuda:0"),
        (4, "cuda:1"),
        (3, "cpu"),
        (2, "cuda:0"),
        (1, "cpu"),
    ]
    assert [b.id for b in await storage.list_benchmarks(limit=2)] == [5, 4]
    assert await storage.list_benchmarks(device="cpu") == [
        BenchmarkRecord(id=3, device="cpu", created_at=T0 + timedelta(minutes=2), data={"copy_gb_s": 21.0}),
        BenchmarkRecord(id=1, device="cpu", created_at=T0, data={"copy_gb_s": 20.5}),
    ]
    assert await storage.list_benchmarks(device="cuda:7") == []


async def test_latest_benchmark_per_device(storage: AgentStorage) -> None:
    assert await storage.latest_benchmarks() == {}
    await storage.save_benchmark(BenchmarkRecord(device="cuda:0", created_at=T0, data={"tflops": 50.0}))
    await storage.save_benchmark(BenchmarkRecord(device="cpu", created_at=T0, data={"tflops": 1.5}))
    # saved later but older: the newest created_at wins, not the last saved
    await storage.save_benchmark(
        BenchmarkRecord(device="cuda:0", created_at=T0 - timedelta(days=1), data={"tflops": 40.0})
    )
    await storage.save_benchmark(
        BenchmarkRecord(device="cpu", created_at=T0 + timedelta(hours=1), data={"tflops": 1.75})
    )
    latest = await storage.latest_benchmarks()
    assert list(latest) == ["cpu", "cuda:0"]
    assert latest["cpu"] == BenchmarkRecord(
        id=4, device="cpu", created_at=datetime(2024, 3, 1, 13, 0, tzinfo=UTC), data={"tflops": 1.75}
    )
    assert latest["cuda:0"] == BenchmarkRecord(id=1, device="cuda:0", created_at=T0, data={"tflops": 50.0})


# values -----------------------------------------------------------------------------------------
async def test_datetimes_come_back_aware_in_utc(storage: AgentStorage) -> None:
    plus_two = timezone(timedelta(hours=2))
    await storage.create_job(
        job(
            "job-tz",
            submitted_at=datetime(2024, 6, 1, 14, 30, 0, 123456, tzinfo=plus_two),
            started_at=datetime(2024, 6, 1, 12, 31),  # naive: taken as UTC
        )
    )
    got = await storage.get_job("job-tz")
    assert got is not None
    assert got.submitted_at == datetime(2024, 6, 1, 12, 30, 0, 123456, tzinfo=UTC)
    assert got.submitted_at.utcoffset() == timedelta(0)
    assert got.started_at == datetime(2024, 6, 1, 12, 31, tzinfo=UTC)
    assert got.started_at is not None and got.started_at.utcoffset() == timedelta(0)

    updated = await storage.update_job("job-tz", completed_at=datetime(2024, 6, 1, 15, 0, tzinfo=plus_two))
    assert updated.completed_at == datetime(2024, 6, 1, 13, 0, tzinfo=UTC)
    assert updated.completed_at is not None and updated.completed_at.utcoffset() == timedelta(0)

    await storage.add_run(RunRecord(job_id="job-tz", run_index=0, created_at=datetime(2024, 6, 1, 12, 45)))
    (run,) = await storage.list_runs("job-tz")
    assert run.created_at == datetime(2024, 6, 1, 12, 45, tzinfo=UTC)
    assert run.created_at.utcoffset() == timedelta(0)

    await storage.save_system_snapshot(SystemSnapshot(created_at=datetime(2024, 6, 1, 9, 0), data={}))
    snapshot = await storage.latest_system_snapshot()
    assert snapshot is not None and snapshot.created_at.utcoffset() == timedelta(0)
    await storage.save_benchmark(
        BenchmarkRecord(device="cpu", created_at=datetime(2024, 6, 1, 9, 0, tzinfo=plus_two), data={})
    )
    (bench,) = await storage.list_benchmarks()
    assert bench.created_at == datetime(2024, 6, 1, 7, 0, tzinfo=UTC)
    assert bench.created_at.utcoffset() == timedelta(0)


async def test_times_in_other_zones_sort_by_instant(storage: AgentStorage) -> None:
    # 12:00+05:00 is 07:00 UTC: earlier than 10:00 UTC although its wall clock reads later
    await storage.create_job(
        job("job-east", submitted_at=datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=5))))
    )
    await storage.create_job(job("job-utc", submitted_at=datetime(2024, 1, 1, 10, 0, tzinfo=UTC)))
    assert [j.job_id for j in await storage.list_jobs()] == ["job-utc", "job-east"]


async def test_payloads_come_back_as_json(storage: AgentStorage) -> None:
    request = {
        "model": "Qwen/Qwen2.5-0.5B",
        "prompt": 'Grüße, 世界 "quoted" \\ back\nslash',
        "parameters": {"temperature": 0.7, "max_tokens": 128, "stop": None, "stream": True},
        "sizes": (1, 2, 3),  # a tuple comes back as a list
        "nan": float("nan"),  # not JSON: comes back as null
        "big": 12345678901234,
        "nested": [{"a": [[]]}, {}],
    }
    await storage.create_job(job("job-json", request=request))
    got = await storage.get_job("job-json")
    assert got is not None
    assert got.request == {
        "model": "Qwen/Qwen2.5-0.5B",
        "prompt": 'Grüße, 世界 "quoted" \\ back\nslash',
        "parameters": {"temperature": 0.7, "max_tokens": 128, "stop": None, "stream": True},
        "sizes": [1, 2, 3],
        "nan": None,
        "big": 12345678901234,
        "nested": [{"a": [[]]}, {}],
    }
    assert isinstance(got.request["parameters"]["temperature"], float)
    assert isinstance(got.request["parameters"]["max_tokens"], int)


async def test_records_read_back_are_copies(storage: AgentStorage) -> None:
    record = job("job-a", request={"parameters": {"n": 1}})
    await storage.create_job(record)
    record.request["parameters"]["n"] = 99  # the caller changes its object after storing it
    got = await storage.get_job("job-a")
    assert got is not None
    got.request["parameters"]["n"] = 42  # and changes what it read
    got.status = "failed"
    again = await storage.get_job("job-a")
    assert again is not None
    assert (again.status, again.request) == ("queued", {"parameters": {"n": 1}})
    await storage.add_run(RunRecord(job_id="job-a", run_index=0, created_at=T0, data={"xs": [1, 2]}))
    (run,) = await storage.list_runs("job-a")
    run.data["xs"].append(3)
    assert (await storage.list_runs("job-a"))[0].data == {"xs": [1, 2]}


# persistence ------------------------------------------------------------------------------------
async def test_everything_persists_across_close_and_reopen(persistent_backend: Backend) -> None:
    backend = persistent_backend
    async with create_storage(backend.url) as store:
        await store.create_job(job("job-p", "running", runs_total=2, request={"task_type": "gpu_benchmark"}))
        await store.add_run(RunRecord(job_id="job-p", run_index=0, created_at=T0, data={"tflops": 12.5}))
        await store.update_job("job-p", runs_completed=1, stage="run 1/2")
        await store.save_system_snapshot(SystemSnapshot(created_at=T0, data={"hostname": "node-7"}))
        await store.save_benchmark(BenchmarkRecord(device="cpu", created_at=T0, data={"copy_gb_s": 19.75}))
    async with create_storage(backend.url) as store:
        assert await store.get_job("job-p") == job(
            "job-p",
            "running",
            runs_total=2,
            runs_completed=1,
            stage="run 1/2",
            request={"task_type": "gpu_benchmark"},
        )
        assert await store.list_runs("job-p") == [
            RunRecord(job_id="job-p", run_index=0, created_at=T0, data={"tflops": 12.5})
        ]
        assert await store.latest_system_snapshot() == SystemSnapshot(
            id=1, created_at=T0, data={"hostname": "node-7"}
        )
        assert await store.latest_benchmarks() == {
            "cpu": BenchmarkRecord(id=1, device="cpu", created_at=T0, data={"copy_gb_s": 19.75})
        }
        # ids keep counting after a reopen
        assert await store.save_benchmark(BenchmarkRecord(device="cpu", data={})) == 2


_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from ruckus_agent.core.storage.sqlite import SqliteStorage
    from ruckus_agent.models.storage import JobRecord, RunRecord

    async def main(path: str, mode: str) -> None:
        store = SqliteStorage(path)
        await store.open()
        submitted = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
        await store.create_job(
            JobRecord(job_id="job-killed", status="running", runs_total=5, submitted_at=submitted)
        )
        index = 0
        while mode == "forever" or index < 5:
            await store.add_run(RunRecord(job_id="job-killed", run_index=index, created_at=submitted,
                                          data={"latency_s": index + 0.5}))
            await store.update_job("job-killed", runs_completed=index + 1)
            print(f"committed {index}", flush=True)
            index += 1
        print("idle", flush=True)
        await asyncio.sleep(3600)  # killed here, connection open, nothing checkpointed

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def _start_writer(db_path: Path, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(APP_DIR), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db_path), mode], stdout=subprocess.PIPE, text=True, env=env
    )


def _kill_after(writer: subprocess.Popen[str], line: str) -> list[str]:
    """SIGKILL the writer once it has printed `line`; the lines it printed."""
    assert writer.stdout is not None
    seen: list[str] = []
    try:
        for printed in writer.stdout:
            seen.append(printed.strip())
            if seen[-1] == line:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL
    assert seen[-1:] == [line], f"writer stopped early: {seen}"
    return seen


async def test_sqlite_commits_survive_a_sigkilled_writer(tmp_path: Path) -> None:
    db_path = tmp_path / "agent.db"
    writer = _start_writer(db_path, "five")
    await asyncio.to_thread(_kill_after, writer, "idle")
    assert (tmp_path / "agent.db-wal").stat().st_size > 0  # the commits were still only in the WAL

    async with SqliteStorage(db_path) as store:
        killed = await store.get_job("job-killed")
        assert killed is not None
        assert (killed.status, killed.runs_total, killed.runs_completed) == ("running", 5, 5)
        runs = await store.list_runs("job-killed")
        assert [(r.run_index, r.data) for r in runs] == [
            (0, {"latency_s": 0.5}),
            (1, {"latency_s": 1.5}),
            (2, {"latency_s": 2.5}),
            (3, {"latency_s": 3.5}),
            (4, {"latency_s": 4.5}),
        ]
        # a restarted agent then marks it interrupted, runs kept
        assert await store.mark_interrupted("agent was killed") == ["job-killed"]
        assert len(await store.list_runs("job-killed")) == 5


async def test_sqlite_writer_killed_mid_stream_leaves_whole_runs(tmp_path: Path) -> None:
    db_path = tmp_path / "agent.db"
    writer = _start_writer(db_path, "forever")
    await asyncio.to_thread(_kill_after, writer, "committed 30")

    async with SqliteStorage(db_path) as store:
        runs = await store.list_runs("job-killed")
        killed = await store.get_job("job-killed")
    assert killed is not None
    assert len(runs) >= 31  # runs 0..30 were reported committed; it may have got further
    assert [r.run_index for r in runs] == list(range(len(runs)))
    assert runs[30].data == {"latency_s": 30.5}
    assert all(r.data == {"latency_s": r.run_index + 0.5} for r in runs)
    # each run and its progress update are separate commits: progress is the last run or the one before
    assert killed.runs_completed in (len(runs), len(runs) - 1)


# backend selection and sqlite URLs ---------------------------------------------------------------
def test_create_storage_picks_the_backend_by_scheme() -> None:
    assert isinstance(create_storage("memory://"), MemoryStorage)
    assert isinstance(create_storage("sqlite:///tmp/x/agent.db"), SqliteStorage)
    with pytest.raises(StorageError):
        create_storage("mongodb://localhost/agent")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///var/lib/ruckus/agent.db", "/var/lib/ruckus/agent.db"),
        ("sqlite:////var/lib/ruckus/agent.db", "/var/lib/ruckus/agent.db"),
        ("sqlite://data/agent.db", "data/agent.db"),
        ("sqlite:agent.db", "agent.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite://", ":memory:"),
        ("sqlite:///home/me/My%20Data/agent.db", "/home/me/My Data/agent.db"),
        ("sqlite:///C:/Users/me/agent.db", "C:/Users/me/agent.db"),
    ],
)
def test_sqlite_url_paths(url: str, path: str) -> None:
    assert path_from_url(url)[0] == path


def test_sqlite_url_synchronous_mode() -> None:
    assert path_from_url("sqlite:///a.db") == ("/a.db", "NORMAL")
    assert path_from_url("sqlite:///a.db?synchronous=full") == ("/a.db", "FULL")
    with pytest.raises(StorageError):
        path_from_url("sqlite:///a.db?synchronous=sometimes")


async def test_sqlite_makes_missing_folders_and_relative_paths_work(tmp_path: Path) -> None:
    async with SqliteStorage.from_url(f"sqlite:///{tmp_path}/new/deeper/agent.db") as store:
        await store.create_job(job("job-a"))
    assert (tmp_path / "new" / "deeper" / "agent.db").is_file()
    # the top conftest runs each test in its tmp_path, so a relative path lands there
    async with SqliteStorage.from_url("sqlite://rel/agent.db") as store:
        await store.create_job(job("job-b"))
    assert (tmp_path / "rel" / "agent.db").is_file()


async def test_sqlite_in_memory_works(tmp_path: Path) -> None:
    async with SqliteStorage.from_url("sqlite:///:memory:") as store:
        await store.create_job(job("job-a"))
        assert await store.schema_version() == 1
        assert [j.job_id for j in await store.list_jobs()] == ["job-a"]


async def test_sqlite_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "agent.db").write_text("this is not a database, just text " * 200)
    store = SqliteStorage(tmp_path / "agent.db")
    with pytest.raises(StorageError, match="cannot open"):
        await store.open()
    await store.close()


async def test_unreachable_postgres_is_a_storage_error() -> None:
    pytest.importorskip("asyncpg")
    from ruckus_agent.core.storage.postgres import PostgresStorage

    store = create_storage("postgresql://agent:secret@127.0.0.1:1/agent")
    assert isinstance(store, PostgresStorage)
    with pytest.raises(StorageError, match="cannot connect") as raised:
        await store.open()
    assert "secret" not in str(raised.value)  # the password stays out of logs
