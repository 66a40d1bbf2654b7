"""Fixtures of the storage contract suite: one backend URL per parameter, and a throwaway PostgreSQL.

The PostgreSQL server is started once per session from the PostgreSQL 15 binaries (as the `postgres` user when
the tests run as root), with one database; every test starts from an empty `public` schema in it (dropping a
schema takes ~70 ms here, creating a database ~220 ms). Without the binaries the postgres
parameters are skipped, unless RUCKUS_TEST_REQUIRE_POSTGRES=1 (as CI sets), which makes them fail instead.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ruckus_agent.core.storage import AgentStorage, create_storage

PG_BIN = Path(os.environ.get("RUCKUS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
REQUIRE_POSTGRES = os.environ.get("RUCKUS_TEST_REQUIRE_POSTGRES") == "1"
PG_USER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server: connect over TCP to 127.0.0.1:port as `postgres` (trust auth)."""

    port: int
    data_dir: Path
    database: str

    @property
    def url(self) -> str:
        """URL of the test database."""
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{self.database}"


@dataclass(frozen=True)
class Backend:
    """One parameter of the contract suite: the backend's name and the URL of an empty store."""

    name: str
    url: str


def _postgres_unavailable() -> str | None:
    """Why a throwaway server cannot be started here, or None."""
    for tool in ("initdb", "pg_ctl", "createdb"):
        if not (PG_BIN / tool).is_file():
            return f"PostgreSQL binaries not found: {PG_BIN / tool} (set RUCKUS_TEST_PG_BIN)"
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "asyncpg is not installed (pip install 'ruckus-agent[postgres]')"
    if os.geteuid() == 0 and shutil.which("su") is None:
        return "running as root but `su` is missing, so initdb cannot run as the postgres user"
    return None


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run `argv` as the postgres user."""
    if os.geteuid() == 0:
        return ["su", PG_USER, "-c", shlex.join(argv)]
    return argv


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(argv: list[str]) -> None:
    done = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server for this test session, removed afterwards."""
    problem = _postgres_unavailable()
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"RUCKUS_TEST_REQUIRE_POSTGRES=1 but {problem}", pytrace=False)
        pytest.skip(problem)
    data_dir = Path(tempfile.mkdtemp(prefix="ruckus-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, PG_USER, PG_USER)
    pg_ctl = str(PG_BIN / "pg_ctl")
    started = False
    try:
        _run(
            [
                str(PG_BIN / "initdb"),
                "-A",
                "trust",
                "-U",
                PG_USER,
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
                str(data_dir),
            ]
        )
        port = _free_port()
        # a throwaway server: durability settings off for speed (the tests reopen connections, not the server)
        options = (
            f"-p {port} -k {data_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run([pg_ctl, "-D", str(data_dir), "-o", options, "-l", str(data_dir / "server.log"), "-w", "start"])
        started = True
        # one database per xdist worker, should the suite ever run in parallel
        database = f"ruckus_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        _run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, database])
        yield PostgresServer(port=port, data_dir=data_dir, database=database)
    finally:
        if started:
            _run([pg_ctl, "-D", str(data_dir), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(data_dir, ignore_errors=True)


async def _empty_database(server: PostgresServer) -> str:
    """Empty the test database (an empty `public` schema, no other sessions); its URL."""
    import asyncpg

    conn = await asyncpg.connect(server.url)
    try:
        # a session a failed test left behind must not hold locks the DROP waits for
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    return server.url


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each backend in turn, with the URL of an empty store of its own."""
    return await _make_backend(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def persistent_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The backends that keep data once their object is gone (not memory://)."""
    return await _make_backend(request.param, request, tmp_path)


async def _make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if name == "memory":
        return Backend(name, "memory://")
    if name == "sqlite":
        return Backend(name, f"sqlite:///{tmp_path}/agent.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return Backend(name, await _empty_database(server))


@pytest.fixture
async def storage(backend: Backend) -> AsyncIterator[AgentStorage]:
    """An opened store of the backend, closed after the test."""
    store = create_storage(backend.url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
