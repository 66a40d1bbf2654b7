"""An Agent on memory:// storage behind the real app, served by aiohttp's test server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from helpers.api import make_agent
from ruckus_agent.api import create_app


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: Callable[..., Any]) -> AsyncIterator[TestClient]:
    agent = make_agent(tmp_path)
    await agent.start()
    yield await aiohttp_client(create_app(agent))
    await agent.stop()
