"""Storage backends chosen by URL: memory://, sqlite:///path, postgresql://user:pass@host/db.

Backends are imported lazily so optional drivers (asyncpg) stay optional.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ruckus_agent.core.storage.base import (
    ACTIVE_JOB_STATUSES,
    AgentStorage,
    DuplicateJobError,
    JobNotFoundError,
    StorageError,
)

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "AgentStorage",
    "DuplicateJobError",
    "JobNotFoundError",
    "StorageError",
    "create_storage",
]


def create_storage(url: str) -> AgentStorage:
    """The backend for a storage URL (not yet opened)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from ruckus_agent.core.storage.memory import MemoryStorage

        return MemoryStorage()
    if scheme == "sqlite":
        from ruckus_agent.core.storage.sqlite import SqliteStorage

        return SqliteStorage.from_url(url)
    if scheme in ("postgresql", "postgres"):
        try:
            import asyncpg  # noqa: F401
        except ImportError:
            raise StorageError(
                "storage URL is PostgreSQL but asyncpg is missing: pip install 'ruckus-agent[postgres]'"
            ) from None
        from ruckus_agent.core.storage.postgres import PostgresStorage

        return PostgresStorage(url)
    raise StorageError(f"unsupported storage URL scheme {scheme!r}")
