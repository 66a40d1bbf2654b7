"""Black and gray box LLM jobs through the real agent (API, queue, spawned worker, storage)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fakes.openai_server import FakeOpenAI
from helpers.api import assert_error, make_agent
from helpers.jobs import wait_status
from ruckus_agent.api import create_app
from ruckus_agent.core.agent import Agent

KEY = "sk-agent-SECRET-777-never-echo"
FIRST, STEP, TOKENS = 0.25, 0.04, 6


async def started(
    tmp_path: Path, aiohttp_client: Callable[..., Any], **settings: Any
) -> tuple[Agent, TestClient]:
    agent = make_agent(tmp_path, **settings)
    await agent.start()
    return agent, await aiohttp_client(create_app(agent))


@pytest.fixture
async def black_box(tmp_path: Path, aiohttp_client: Callable[..., Any]) -> AsyncIterator[TestClient]:
    agent, client = await started(tmp_path, aiohttp_client, agent_type="black_box")
    yield client
    await agent.stop()


async def run_job(client: TestClient, auth: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post("/api/v1/jobs", json=body, headers=auth)
    assert resp.status == 202, await resp.text()
    await wait_status(client, body["job_id"], {"completed", "failed", "timeout"}, timeout_s=60)
    resp = await client.get(f"/api/v1/jobs/{body['job_id']}/result")
    assert resp.status == 200
    res: dict[str, Any] = await resp.json()
    return res


async def test_black_box_job_measures_the_stream(
    black_box: TestClient, auth: dict[str, str], fake_openai: FakeOpenAI
) -> None:
    res = await run_job(
        black_box,
        auth,
        {
            "job_id": "bb",
            "task_type": "llm_generation",
            "model": "served-name",
            "runs_per_job": 3,
            "parameters": {"prompt": "hello", "endpoint_url": fake_openai.url + "/v1"},
        },
    )
    assert res["status"] == "completed" and res["successful_runs"] == 3
    for run in res["individual_runs"]:
        m = run["metrics"]
        assert FIRST <= m["ttft_s"] < FIRST + 0.2
        assert STEP * 0.75 <= m["tpot_s"] < STEP + 0.04
        assert m["ttft_s"] < m["latency_s"] and m["output_tokens"] == TOKENS and m["input_tokens"] == 11
    assert res["individual_runs"][0]["details"]["load"]["agent_type"] == "black_box"
    assert res["summary_stats"]["ttft_s"]["count"] == 2
    assert [r["body"]["model"] for r in fake_openai.requests] == ["served-name"] * 3


@pytest.mark.parametrize(
    ("mode", "extra", "message"),
    [
        ("error", {}, "HTTP 500 Internal Server Error from http://127.0.0.1:"),
        ("hang", {"request_timeout_s": 0.5}, "did not answer within 0.5 s (timeout)"),
    ],
)
async def test_endpoint_failures_become_failed_runs(
    black_box: TestClient,
    auth: dict[str, str],
    fake_openai: FakeOpenAI,
    mode: str,
    extra: dict[str, Any],
    message: str,
) -> None:
    fake_openai.mode = mode
    res = await run_job(
        black_box,
        auth,
        {
            "job_id": "bad",
            "task_type": "llm_generation",
            "runs_per_job": 2,
            "parameters": {"prompt": "hello", "endpoint_url": fake_openai.url, **extra},
        },
    )
    assert res["status"] == "completed" and res["failed_runs"] == 2  # failed runs, not a crashed job
    for run in res["individual_runs"]:
        assert run["success"] is False and run["error"].startswith("EndpointError: ")
        assert message in run["error"]


@pytest.mark.parametrize(
    ("parameters", "loc"),
    [
        ({"prompt": "a", "messages": [{"role": "user", "content": "b"}]}, []),
        ({}, []),
        ({"messages": [{"role": "user", "content": "b"}], "endpoint_api": "completions"}, []),
        ({"prompt": "a", "endpoint_url": "ftp://h/v1"}, ["endpoint_url"]),
        ({"prompt": "a", "endpoint_url": "http://user:pw@h/v1"}, ["endpoint_url"]),
        ({"prompt": "a", "max_tokens": 0}, ["max_tokens"]),
        ({"prompt": "a", "device": "gpu0"}, ["device"]),
        ({"prompt": "a", "dtype": "float8"}, ["dtype"]),
        ({"prompt": "a", "temprature": 0.5}, ["temprature"]),
        ({"messages": [{"role": "wizard", "content": "b"}]}, ["messages", 0, "role"]),
    ],
)
async def test_bad_parameters_are_422_at_submit(
    black_box: TestClient, auth: dict[str, str], parameters: dict[str, Any], loc: list[Any]
) -> None:
    resp = await black_box.post(
        "/api/v1/jobs", json={"task_type": "llm_generation", "parameters": parameters}, headers=auth
    )
    err = await assert_error(resp, 422, "validation_error")
    details: list[dict[str, Any]] = err["details"]  # type: ignore[assignment]
    assert any(d["loc"][: len(loc) + 1] == ["parameters", *loc] for d in details), err


async def test_summarization_template_must_hold_the_text(black_box: TestClient, auth: dict[str, str]) -> None:
    body = {"task_type": "summarization", "parameters": {"text": "t", "prompt_template": "no slot"}}
    err = await assert_error(
        await black_box.post("/api/v1/jobs", json=body, headers=auth), 422, "validation_error"
    )
    assert "{text}" in json.dumps(err["details"])


@pytest.mark.parametrize("agent_type", ["white_box", "black_box", "gray_box"])
async def test_every_agent_type_offers_the_llm_tasks(
    tmp_path: Path, aiohttp_client: Callable[..., Any], agent_type: str
) -> None:
    agent, client = await started(tmp_path, aiohttp_client, agent_type=agent_type)
    try:
        caps = (await (await client.get("/api/v1/info")).json())["capabilities"]
        assert {"llm_generation", "summarization"} <= set(caps["task_types"])
    finally:
        await agent.stop()


async def test_gray_box_job_from_settings_never_shows_the_key(
    tmp_path: Path,
    aiohttp_client: Callable[..., Any],
    auth: dict[str, str],
    fake_openai: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    agent, client = await started(
        tmp_path, aiohttp_client, agent_type="gray_box", endpoint_url=fake_openai.url, endpoint_api_key=KEY
    )
    try:
        res = await run_job(
            client,
            auth,
            {
                "job_id": "gb",
                "task_type": "llm_generation",
                "runs_per_job": 2,
                "parameters": {"prompt": "hi"},
            },
        )
        assert res["status"] == "completed" and res["successful_runs"] == 2
        for run in res["individual_runs"]:
            assert run["metrics"]["server_fake_requests_total"] == 1.0
            assert run["metrics"]["server_fake_kv_cache_usage_perc"] == 0.25
        assert fake_openai.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"
        fake_openai.mode = "error"  # the server echoes the key in its error body
        failed = await run_job(
            client, auth, {"job_id": "gb-err", "task_type": "llm_generation", "parameters": {"prompt": "hi"}}
        )
        assert "HTTP 500" in failed["run"]["error"] and "***" in failed["run"]["error"]
        stored = json.dumps([res, failed, await (await client.get("/api/v1/jobs")).json()])
        stored += json.dumps([r.data for r in await agent.storage.list_runs("gb-err")])
        stored += json.dumps(await (await client.get("/api/v1/info")).json())
        assert KEY not in stored
        out, err = capfd.readouterr()
        assert KEY not in out + err + caplog.text  # nothing the agent or its workers printed or logged
    finally:
        await agent.stop()
