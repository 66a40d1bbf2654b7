"""Telemetry over the API with a fake NVML: /info live readings, /metrics/live, /metrics/history, /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from fakes.fake_nvml import FakeNvml, a100_mig, h100, power_not_supported, rtx_4090
from helpers.api import assert_error, make_gpu_agent
from ruckus_agent.api import create_app


async def _client(tmp_path: Path, aiohttp_client: Callable[..., Any], nvml: FakeNvml, **settings: Any) -> Any:
    agent = make_gpu_agent(tmp_path, nvml, sample_interval_s=0.05, **settings)
    await agent.start()
    client = await aiohttp_client(create_app(agent))
    client.agent = agent
    return client


async def test_info_gpus_carry_their_live_reading(tmp_path: Path, aiohttp_client: Callable[..., Any]) -> None:
    client = await _client(tmp_path, aiohttp_client, FakeNvml([rtx_4090(), h100(index=1)]))
    await asyncio.sleep(0.15)
    info = await (await client.get("/api/v1/info")).json()
    gpus = info["system_info"]["gpus"]
    assert [g["name"] for g in gpus] == ["NVIDIA GeForce RTX 4090", "NVIDIA H100 80GB HBM3"]
    assert [g["detection_method"] for g in gpus] == ["nvml", "nvml"]
    assert gpus[0]["compute_capability"] == [8, 9] and gpus[0]["tensor_core_generation"] == 4
    assert gpus[0]["live"]["temperature_c"] is not None
    assert info["capabilities"]["precisions_by_device"]["cuda:1"] == gpus[1]["supported_precisions"]
    await client.agent.stop()


async def test_live_and_history(tmp_path: Path, aiohttp_client: Callable[..., Any]) -> None:
    client = await _client(tmp_path, aiohttp_client, FakeNvml([power_not_supported()]))
    await asyncio.sleep(0.3)
    live = await (await client.get("/api/v1/metrics/live")).json()
    assert live["gpus"][0]["power_usage_w"] is None  # NOT_SUPPORTED is null, never 0
    assert live["host"]["memory_total_mb"] > 0
    hist = await (await client.get("/api/v1/metrics/history?seconds=60")).json()
    assert hist["count"] == len(hist["samples"]) >= 3
    stamps = [s["timestamp"] for s in hist["samples"]]
    assert stamps == sorted(stamps)
    for bad in ("abc", "0", "-5", "1e9"):
        await assert_error(
            await client.get(f"/api/v1/metrics/history?seconds={bad}"), 422, "validation_error"
        )
    await client.agent.stop()


async def test_prometheus_endpoint_with_fake_nvml(tmp_path: Path, aiohttp_client: Callable[..., Any]) -> None:
    client = await _client(tmp_path, aiohttp_client, FakeNvml([rtx_4090(), a100_mig()]))
    await asyncio.sleep(0.15)
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await resp.text()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    for name in (
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_SM_CLOCK",
    ):
        assert name in fams, name
    temps = fams["DCGM_FI_DEV_GPU_TEMP"].samples
    assert {s.labels["modelName"] for s in temps} == {"NVIDIA GeForce RTX 4090", "NVIDIA A100-SXM4-40GB"}
    assert {s.labels["gpu"] for s in temps} == {"0", "1"}
    assert all(s.labels["UUID"].startswith("GPU-") for s in temps)
    assert fams["ruckus_agent_gpus"].samples[0].value == 2
    uptime1 = fams["ruckus_agent_uptime_seconds"].samples[0].value
    await asyncio.sleep(0.05)
    text2 = await (await client.get("/metrics")).text()
    uptime2 = next(
        f for f in text_string_to_metric_families(text2) if f.name == "ruckus_agent_uptime_seconds"
    )
    assert uptime2.samples[0].value > uptime1  # the cached body still has a fresh uptime
    await client.agent.stop()


async def test_metrics_follows_auth_reads(tmp_path: Path, aiohttp_client: Callable[..., Any]) -> None:
    client = await _client(tmp_path, aiohttp_client, FakeNvml([rtx_4090()]), auth_reads=True)
    await assert_error(await client.get("/metrics"), 401, "unauthorized")
    await assert_error(await client.get("/api/v1/metrics/live"), 401, "unauthorized")
    await client.agent.stop()
