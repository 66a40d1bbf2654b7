"""LLM jobs against a real agent process: a 5-run summarization over HTTP, and broken models that fail the job
with a clear error while the agent stays up."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from helpers.proc import AgentProcess, request_json

TEXT = "the weather was cold so the children stayed inside and read books all afternoon"


def _start(home: Path, models: Path) -> tuple[AgentProcess, dict[str, str]]:
    agent = AgentProcess(home, "--port", "0", "--storage", "memory://", RUCKUS_AGENT_MODEL_PATH=str(models))
    agent.wait_listening()
    deadline = time.monotonic() + 30
    while agent.get_json("/health")[0] != 200:
        assert time.monotonic() < deadline, agent.log()
        time.sleep(0.05)
    token = (home / "config/ruckus-agent/api_token").read_text().strip()
    return agent, {"Authorization": f"Bearer {token}"}


def _wait(agent: AgentProcess, job_id: str, timeout_s: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        _, state = agent.get_json(f"/api/v1/jobs/{job_id}")
        if state["status"] not in ("queued", "running"):
            return state  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, agent.log()
        time.sleep(0.2)


def test_five_run_summarization_in_a_real_agent(tmp_path: Path, tiny_models: tuple[Path, int]) -> None:
    agent, auth = _start(tmp_path / "home", tiny_models[0])
    try:
        job = {
            "job_id": "sum-5",
            "task_type": "summarization",
            "model": "tiny-gpt2",
            "runs_per_job": 5,
            "parameters": {"text": TEXT, "reference": "the children read books", "max_tokens": 8, "seed": 1},
        }
        assert request_json("POST", agent.url("/api/v1/jobs"), job, headers=auth)[0] == 202
        state = _wait(agent, "sum-5")
        assert state["status"] == "completed", state
        _, res = agent.get_json("/api/v1/jobs/sum-5/result")
        runs = res["individual_runs"]
        assert [r["run_id"] for r in runs] == [0, 1, 2, 3, 4] and runs[0]["cold_start"] is True
        assert res["cold_start_data"]["model_load_time_seconds"] > 0
        for run in runs[1:]:
            m = run["metrics"]
            assert 0 < m["ttft_s"] < m["latency_s"] and m["output_tokens"] > 0
            assert 0 <= m["rouge_l"] <= 1
        assert res["summary_stats"]["latency_s"]["run_ids"] == [1, 2, 3, 4]
        assert res["summary_stats"]["ttft_s"]["count"] == 4
    finally:
        assert agent.stop() == 0


def test_missing_corrupt_and_outside_models_fail_clearly(
    tmp_path: Path, tiny_models: tuple[Path, int]
) -> None:
    models = tmp_path / "models"
    shutil.copytree(tiny_models[0] / "tiny-gpt2", models / "corrupt")
    for weights in (models / "corrupt").glob("*.safetensors"):
        weights.write_bytes(b"\x00not a safetensors file")
    (models / "no-weights").mkdir()
    (models / "no-weights" / "config.json").write_text(
        (tiny_models[0] / "tiny-gpt2" / "config.json").read_text()
    )
    agent, auth = _start(tmp_path / "home", models)
    try:
        for job_id, model in (
            ("corrupt", "corrupt"),
            ("noweights", "no-weights"),
            ("unknown", "no-such-model"),
        ):
            body = {
                "job_id": job_id,
                "task_type": "llm_generation",
                "model": model,
                "parameters": {"prompt": "hi"},
            }
            assert request_json("POST", agent.url("/api/v1/jobs"), body, headers=auth)[0] == 202
            state = _wait(agent, job_id)
            assert state["status"] == "failed", state
            assert model in state["error"] and len(state["error"]) < 2000
        status, err = request_json(
            "POST",
            agent.url("/api/v1/jobs"),
            {"task_type": "llm_generation", "model": "../etc", "parameters": {"prompt": "hi"}},
            headers=auth,
        )
        assert status == 422 and ["model"] in [d["loc"] for d in err["error"]["details"]]
        assert agent.get_json("/health")[0] == 200  # the agent stays up
    finally:
        assert agent.stop() == 0
