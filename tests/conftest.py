"""Shared test setup: Qt offscreen before anything imports Qt; every test gets its own config/data dirs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))  # so `import fakes...` works


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user's token, agent id or database."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for name in list(os.environ):
        if name.startswith("RUCKUS_AGENT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file is read


@pytest.fixture
def auth() -> dict[str, str]:
    """The Authorization header of helpers.api.make_agent's agents."""
    from helpers.api import TOKEN

    return {"Authorization": f"Bearer {TOKEN}"}
