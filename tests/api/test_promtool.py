"""/metrics passes `promtool check metrics` (Prometheus' own linter). Exit 1 means it did not parse; exit 3 is
style warnings only, which dcgm-exporter's upper-case names draw by design."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakes.fake_nvml import FakeNvml, a100_mig, power_not_supported, rtx_4090
from helpers.api import make_gpu_agent
from ruckus_agent.api import create_app


def _promtool() -> str | None:
    return os.environ.get("RUCKUS_TEST_PROMTOOL") or shutil.which("promtool")


@pytest.fixture
def promtool() -> str:
    path = _promtool()
    if path is None:
        if os.environ.get("RUCKUS_TEST_REQUIRE_PROMTOOL") == "1":
            pytest.fail("promtool is required (RUCKUS_TEST_REQUIRE_PROMTOOL=1) but was not found")
        pytest.skip("promtool not installed (CI installs it from Debian's prometheus package)")
    return path


async def test_metrics_pass_promtool(
    tmp_path: Path, aiohttp_client: Callable[..., Any], promtool: str
) -> None:
    agent = make_gpu_agent(
        tmp_path, FakeNvml([rtx_4090(), a100_mig(), power_not_supported()]), sample_interval_s=0.05
    )
    await agent.start()
    client = await aiohttp_client(create_app(agent))
    await asyncio.sleep(0.15)
    text = await (await client.get("/metrics")).text()
    await agent.stop()
    assert "DCGM_FI_DEV_GPU_TEMP{" in text
    proc = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    assert "error" not in (proc.stdout + proc.stderr).lower()
