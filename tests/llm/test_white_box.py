"""White box through the real agent: a tiny GPT-2 made by the tests, loaded in the job's worker process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from helpers.api import make_agent
from helpers.jobs import wait_status
from ruckus_agent.api import create_app

TINY = "tiny-gpt2"
TEXT = "the weather was cold so the children stayed inside and read books"
REFERENCE = "the children read books inside"


@pytest.fixture
async def client(
    tmp_path: Path, tiny_models: tuple[Path, int], aiohttp_client: Callable[..., Any]
) -> AsyncIterator[TestClient]:
    agent = make_agent(tmp_path, model_path=tiny_models[0], max_concurrent_jobs=2)
    await agent.start()
    yield await aiohttp_client(create_app(agent))
    await agent.stop()


async def submit(client: TestClient, auth: dict[str, str], body: dict[str, Any]) -> None:
    resp = await client.post("/api/v1/jobs", json=body, headers=auth)
    assert resp.status == 202, await resp.text()


async def result(client: TestClient, job_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/jobs/{job_id}/result")
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


def lcs(a: list[str], b: list[str]) -> int:
    """Longest common subsequence by plain recursion with a memo (independent of the task's version)."""
    memo: dict[tuple[int, int], int] = {}

    def go(i: int, j: int) -> int:
        if i == len(a) or j == len(b):
            return 0
        if (i, j) not in memo:
            memo[i, j] = go(i + 1, j + 1) + 1 if a[i] == b[j] else max(go(i + 1, j), go(i, j + 1))
        return memo[i, j]

    return go(0, 0)


def check_timing(metrics: dict[str, float], tokens: int) -> None:
    """TTFT, TPOT and latency agree with each other the way per-token timestamps must."""
    latency, ttft, tpot = metrics["latency_s"], metrics["ttft_s"], metrics["tpot_s"]
    assert metrics["output_tokens"] == tokens
    assert 0 < ttft < latency
    assert tpot > 0
    last_token = ttft + tpot * (tokens - 1)  # the last token's time after the start
    assert last_token <= latency + 1e-9
    assert latency - last_token < 0.25 * latency + 0.05  # generate() returns right after the last token
    assert metrics["throughput_tokens_per_s"] == pytest.approx(tokens / latency)
    assert metrics["input_tokens"] > 0
    assert metrics["peak_memory_mb"] > 0


async def test_generation_and_summarization_jobs(client: TestClient, auth: dict[str, str]) -> None:
    await submit(
        client,
        auth,
        {
            "job_id": "gen",
            "task_type": "llm_generation",
            "model": TINY,
            "framework": "transformers",
            "runs_per_job": 3,
            "parameters": {
                "prompt": "the cat sat on the",
                "max_tokens": 12,
                "ignore_eos": True,
                "device": "cpu",
            },
        },
    )
    await submit(
        client,
        auth,
        {
            "job_id": "sum",
            "task_type": "summarization",
            "model": TINY,
            "parameters": {
                "text": TEXT,
                "reference": REFERENCE,
                "max_tokens": 8,
                "ignore_eos": True,
                "temperature": 0.9,
                "top_k": 10,
                "seed": 3,
            },
        },
    )
    gen_state = await wait_status(client, "gen", {"completed", "failed"}, timeout_s=90)
    assert gen_state["status"] == "completed", gen_state
    gen = await result(client, "gen")
    assert gen["cold_start_data"]["model_load_time_seconds"] > 0
    runs = gen["individual_runs"]
    assert [(r["run_id"], r["cold_start"], r["success"]) for r in runs] == [
        (0, True, True),
        (1, False, True),
        (2, False, True),
    ]
    for run in runs:
        check_timing(run["metrics"], 12)
        assert run["details"]["prompt_format"] == "chat_template"  # the tokenizer has one
        assert run["details"]["peak_memory_source"] == "process_rss_peak_of_run"
    first = runs[0]
    assert first["metrics"]["model_load_memory_mb"] >= 0  # the load's memory goes with the cold start
    assert first["details"]["load"]["framework"] == "transformers"
    assert first["details"]["load"]["device"] == "cpu" and first["details"]["load"]["dtype"] == "float32"
    assert "load" not in runs[1]["details"] and "model_load_memory_mb" not in runs[1]["metrics"]
    assert runs[1]["details"]["output_text"] == runs[2]["details"]["output_text"]  # greedy: same text
    stats = gen["summary_stats"]
    assert stats["ttft_s"]["run_ids"] == [1, 2] and stats["ttft_s"]["unit"] == "s"
    assert stats["throughput_tokens_per_s"]["unit"] == "tokens/s"

    sum_state = await wait_status(client, "sum", {"completed", "failed"}, timeout_s=90)
    assert sum_state["status"] == "completed", sum_state
    summ = await result(client, "sum")
    assert summ["model_load_time_seconds"] > 0 and summ["run"]["cold_start"] is True
    metrics = summ["metrics"]
    check_timing(metrics, 8)
    assert metrics["input_tokens"] > len(TEXT.split())  # the text inside the summarize prompt
    assert 0.0 <= metrics["rouge_l"] <= 1.0
    words = summ["run"]["details"]["output_text"].lower().split()
    ref = REFERENCE.split()
    common = lcs(words, ref)
    expected = 0.0 if common == 0 else 2 * common / (len(words) + len(ref))  # F1 = 2·LCS/(|c|+|r|)
    assert metrics["rouge_l"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("../outside", "'..' is not allowed"),
        ("/etc", "absolute paths outside the model directory"),
    ],
)
async def test_model_names_outside_the_model_directory_get_422(
    client: TestClient, auth: dict[str, str], model: str, message: str
) -> None:
    body = {"job_id": "bad", "task_type": "llm_generation", "model": model, "parameters": {"prompt": "hi"}}
    resp = await client.post("/api/v1/jobs", json=body, headers=auth)
    assert resp.status == 422, await resp.text()
    err = (await resp.json())["error"]
    assert ["model"] in [d["loc"] for d in err["details"]]
    assert message in err["message"] and model in err["message"]
    assert (await client.get("/api/v1/jobs/bad")).status == 404  # nothing stored


async def test_a_missing_model_fails_the_job_with_the_reason(
    client: TestClient, auth: dict[str, str]
) -> None:
    await submit(
        client,
        auth,
        {
            "job_id": "bad",
            "task_type": "llm_generation",
            "model": "missing-model",
            "parameters": {"prompt": "hi"},
        },
    )
    state = await wait_status(client, "bad", {"completed", "failed"})
    assert state["status"] == "failed"
    assert "not found: no folder" in state["error"] and "missing-model" in state["error"]
