"""Polling helpers for job tests."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient


async def wait_status(
    client: TestClient, job_id: str, statuses: set[str], timeout_s: float = 60
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        resp = await client.get(f"/api/v1/jobs/{job_id}")
        body = await resp.json()
        if body.get("status") in statuses:
            return body  # type: ignore[no-any-return]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job {job_id} still {body} after {timeout_s}s")
        await asyncio.sleep(0.05)


async def wait_runs(client: TestClient, job_id: str, runs: int, timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (await (await client.get(f"/api/v1/jobs/{job_id}")).json())["runs_completed"] < runs:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job {job_id} did not reach {runs} runs")
        await asyncio.sleep(0.05)
