"""A started Agent (memory storage, fault-task plugins) behind the real API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from helpers.api import make_agent
from ruckus_agent.api import create_app
from ruckus_agent.core.agent import Agent

PLUGINS = "fakes.fault_tasks"


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    a = make_agent(tmp_path, task_plugins=PLUGINS)
    await a.start()
    yield a
    await a.stop()


@pytest.fixture
async def client(agent: Agent, aiohttp_client: Callable[..., Any]) -> TestClient:
    return await aiohttp_client(create_app(agent))
