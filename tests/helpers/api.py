"""Assertions shared by the API tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import ClientResponse

from ruckus_agent.core.agent import Agent
from ruckus_agent.core.config import load_settings
from ruckus_agent.core.detector import SystemDetector
from ruckus_agent.models.gpu import GpuDetection

TOKEN = "test-token-0123456789"


def make_agent(tmp_path: Path, **settings: Any) -> Agent:
    s = load_settings(storage_url="memory://", api_token=TOKEN, config_dir=tmp_path / "cfg", **settings)
    detector = SystemDetector(tmp_path / "models", gpu_detect=lambda: GpuDetection(summary="no GPUs (test)"))
    return Agent(s, detector=detector)


async def assert_error(resp: ClientResponse, status: int, code: str) -> dict[str, object]:
    """The response is a JSON error `{error: {code, message, details}}` with this status and code."""
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def make_gpu_agent(tmp_path: Path, nvml: Any, **settings: Any) -> Agent:
    """An agent whose hardware is a fake NVML: detection and the live monitor both read it."""
    from ruckus_agent.gpu import GpuReader, detect_gpus

    s = load_settings(storage_url="memory://", api_token=TOKEN, config_dir=tmp_path / "cfg", **settings)
    detector = SystemDetector(tmp_path / "models", gpu_detect=lambda: detect_gpus(nvml=nvml, nvidia_smi=None))
    return Agent(s, detector=detector, gpu_reader=GpuReader(nvml=nvml))
