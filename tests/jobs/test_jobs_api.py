"""The job system through the API: results, statistics, and every fault case with nothing lost."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from helpers.api import assert_error
from helpers.jobs import wait_runs, wait_status
from ruckus_agent.core.agent import Agent


async def submit(
    client: TestClient, auth: dict[str, str], body: dict[str, Any], status: int = 202
) -> dict[str, Any]:
    resp = await client.post("/api/v1/jobs", json=body, headers=auth)
    assert resp.status == status, await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


async def result(client: TestClient, job_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/jobs/{job_id}/result")
    assert resp.status == 200, await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


async def test_multi_run_statistics_match_an_independent_computation(
    client: TestClient, auth: dict[str, str]
) -> None:
    values = [9.0, 1.0, 1.1, 0.9, 1.05, 0.95, 5.0]  # run 0 (cold) is 9.0; run 6 is an outlier among warm runs
    accepted = await submit(
        client,
        auth,
        {"job_id": "stats-1", "task_type": "values", "runs_per_job": 7, "parameters": {"values": values}},
    )
    assert accepted == {"job_id": "stats-1", "status": "queued"}
    state = await wait_status(client, "stats-1", {"completed", "failed"})
    assert state["status"] == "completed" and state["runs_completed"] == 7 and state["runs_total"] == 7
    res = await result(client, "stats-1")
    runs = res["individual_runs"]
    assert [r["run_id"] for r in runs] == list(range(7))
    assert [r["cold_start"] for r in runs] == [True] + [False] * 6
    assert res["cold_start_data"]["first_run"]["metrics"]["latency_s"] == 9.0
    assert res["cold_start_data"]["model_load_time_seconds"] >= 0
    s = res["summary_stats"]["latency_s"]
    warm = values[1:]
    assert s["count"] == 6
    assert s["raw_values"] == warm and s["run_ids"] == [1, 2, 3, 4, 5, 6]
    assert s["mean"] == pytest.approx(statistics.fmean(warm))
    assert s["std"] == pytest.approx(statistics.stdev(warm))
    assert s["median"] == pytest.approx(statistics.median(warm))
    # modified z-score: median 1.025, |x - median| = .025 .075 .125 .025 .075 3.975, MAD = .075;
    # 0.6745 * 3.975 / .075 = 35.7 > 3.5 for run 6; 0.6745 * .125 / .075 = 1.12 for run 3
    assert s["outliers"] == [6]
    assert s["unit"] == "s"
    assert res["successful_runs"] == 7 and res["failed_runs"] == 0
    assert res["environment"]["agent_version"]


async def test_single_run_job_gives_a_job_result(client: TestClient, auth: dict[str, str]) -> None:
    await submit(client, auth, {"job_id": "one", "task_type": "noop"})
    await wait_status(client, "one", {"completed"})
    res = await result(client, "one")
    assert "individual_runs" not in res
    status = await (await client.get("/api/v1/status")).json()
    assert status["state"] == "idle" and status["running_jobs"] == []  # not left "busy" after the last job
    assert res["run"]["cold_start"] is True and "latency_s" in res["metrics"]


async def test_a_failing_run_counts_as_failed_and_is_left_out_of_stats(
    client: TestClient, auth: dict[str, str]
) -> None:
    await submit(
        client, auth, {"job_id": "r", "task_type": "raise", "runs_per_job": 4, "parameters": {"fail_at": 2}}
    )
    await wait_status(client, "r", {"completed"})
    res = await result(client, "r")
    assert [r["success"] for r in res["individual_runs"]] == [True, True, False, True]
    assert "this run fails on purpose" in res["individual_runs"][2]["error"]
    assert res["failed_runs"] == 1
    assert res["summary_stats"]["latency_s"]["run_ids"] == [1, 3]


async def test_segfault_fails_the_job_keeps_runs_and_agent(client: TestClient, auth: dict[str, str]) -> None:
    await submit(
        client,
        auth,
        {"job_id": "seg", "task_type": "segfault", "runs_per_job": 5, "parameters": {"fail_at": 2}},
    )
    state = await wait_status(client, "seg", {"failed", "completed"})
    assert state["status"] == "failed"
    assert "SIGSEGV" in state["error"]
    res = await result(client, "seg")
    assert [r["run_id"] for r in res["individual_runs"]] == [0, 1]
    assert (await client.get("/health")).status == 200
    await submit(client, auth, {"job_id": "after", "task_type": "noop"})  # the agent still runs jobs
    assert (await wait_status(client, "after", {"completed"}))["status"] == "completed"


async def test_os_exit_fails_the_job_with_the_exit_code(client: TestClient, auth: dict[str, str]) -> None:
    await submit(
        client, auth, {"job_id": "ex", "task_type": "exit", "runs_per_job": 3, "parameters": {"fail_at": 1}}
    )
    state = await wait_status(client, "ex", {"failed", "completed"})
    assert state["status"] == "failed" and "exited with code 7" in state["error"]
    assert len((await result(client, "ex"))["individual_runs"]) == 1


async def test_hang_past_the_timeout(client: TestClient, auth: dict[str, str]) -> None:
    await submit(
        client,
        auth,
        {
            "job_id": "hang",
            "task_type": "hang",
            "runs_per_job": 4,
            "timeout_seconds": 3,
            "parameters": {"fail_at": 2},
        },
    )
    state = await wait_status(client, "hang", {"timeout", "failed", "completed"}, timeout_s=30)
    assert state["status"] == "timeout"
    assert "timed out after 3 s" in state["error"]
    res = await result(client, "hang")
    assert [r["run_id"] for r in res["individual_runs"]] == [0, 1]
    assert res["summary_stats"]["latency_s"]["run_ids"] == [1]


async def test_cancel_a_running_job_keeps_its_runs(client: TestClient, auth: dict[str, str]) -> None:
    await submit(
        client, auth, {"job_id": "c", "task_type": "hang", "runs_per_job": 10, "parameters": {"fail_at": 3}}
    )
    await wait_runs(client, "c", 3)
    resp = await client.delete("/api/v1/jobs/c", headers=auth)
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "cancelled"
    res = await result(client, "c")
    assert res["status"] == "cancelled" and res["runs_completed"] == 3
    await assert_error(await client.delete("/api/v1/jobs/c", headers=auth), 409, "conflict")


async def test_cancel_a_queued_job_and_a_full_queue(
    tmp_path: Path, aiohttp_client: Any, auth: dict[str, str]
) -> None:
    from helpers.api import make_agent
    from ruckus_agent.api import create_app

    agent: Agent = make_agent(tmp_path, task_plugins="fakes.fault_tasks", max_queue_size=2)
    await agent.start()
    client = await aiohttp_client(create_app(agent))
    await submit(client, auth, {"job_id": "blocker", "task_type": "hang", "parameters": {"fail_at": 0}})
    await wait_status(client, "blocker", {"running"})
    await submit(client, auth, {"job_id": "q1", "task_type": "noop"})
    await submit(client, auth, {"job_id": "q2", "task_type": "noop"})
    resp = await client.post("/api/v1/jobs", json={"job_id": "q3", "task_type": "noop"}, headers=auth)
    await assert_error(resp, 429, "too_many_requests")
    assert (await client.get("/api/v1/jobs/q3")).status == 404  # nothing stored for the refused job
    status = await (await client.get("/api/v1/status")).json()
    assert (
        status["state"] == "busy"
        and status["running_jobs"] == ["blocker"]
        and status["queued_jobs"] == ["q1", "q2"]
    )
    assert (await (await client.delete("/api/v1/jobs/q1", headers=auth)).json())["status"] == "cancelled"
    await client.delete("/api/v1/jobs/blocker", headers=auth)
    assert (await wait_status(client, "q2", {"completed"}))["status"] == "completed"
    assert (await (await client.get("/api/v1/jobs/q1")).json())["status"] == "cancelled"
    await agent.stop()


async def test_duplicate_job_id_is_409(client: TestClient, auth: dict[str, str]) -> None:
    await submit(client, auth, {"job_id": "dup", "task_type": "noop"})
    resp = await client.post("/api/v1/jobs", json={"job_id": "dup", "task_type": "noop"}, headers=auth)
    err = await assert_error(resp, 409, "conflict")
    assert "dup" in str(err["message"])


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            {"task_type": "compute_benchmark", "parameters": {"precisions": ["FP33"]}},
            ["parameters", "precisions"],
        ),
        ({"task_type": "compute_benchmark", "parameters": {"devcie": "cpu"}}, ["parameters", "devcie"]),
        ({"task_type": "memory_benchmark", "parameters": {"device": "gpu0"}}, ["parameters", "device"]),
        ({"task_type": "noop", "runs_per_job": 0}, ["runs_per_job"]),
        ({"task_type": "noop", "runs_per_job": 1001}, ["runs_per_job"]),
        ({"task_type": "noop", "job_id": "../etc"}, ["job_id"]),
        ({"task_type": "teleport"}, ["task_type"]),
        ({"runs_per_job": 2}, ["task_type"]),
    ],
)
async def test_invalid_jobs_get_422_naming_the_field(
    client: TestClient, auth: dict[str, str], body: dict[str, Any], loc: list[str]
) -> None:
    err = await assert_error(
        await client.post("/api/v1/jobs", json=body, headers=auth), 422, "validation_error"
    )
    assert loc in [d["loc"] for d in err["details"]]  # type: ignore[union-attr]
    listing = await (await client.get("/api/v1/jobs")).json()
    assert listing["total"] == 0  # nothing changed


async def test_seed_example_is_accepted_as_a_model_but_refused_without_llm_support(
    client: TestClient, auth: dict[str, str]
) -> None:
    from ruckus_agent.models.jobs import JobRequest

    seed = {"job_id": "multi-run-001", "runs_per_job": 5, "model": "llama-7b", "task_type": "summarization"}
    assert JobRequest.model_validate(seed).runs_per_job == 5
    err = await assert_error(
        await client.post("/api/v1/jobs", json=seed, headers=auth), 422, "validation_error"
    )
    assert "summarization" in str(err["message"])


async def test_the_servers_experiment_spec_form(client: TestClient, auth: dict[str, str]) -> None:
    body = {
        "job_id": "srv-1",
        "experiment_spec": {
            "name": "exp-42",
            "model": None,
            "task": {"name": "v", "type": "values", "params": {"values": [1, 2, 3], "runs_per_job": 3}},
            "framework": {"name": "pytorch", "params": {}},
            "metrics": ["latency_s"],
        },
    }
    await submit(client, auth, body)
    await wait_status(client, "srv-1", {"completed"})
    res = await (await client.get("/api/v1/results/srv-1")).json()  # the server's alias
    assert res["experiment_id"] == "exp-42" and res["framework"] == "pytorch" and res["total_runs"] == 3
    assert list(res["summary_stats"]) == ["latency_s"]
    state = await (await client.get("/api/v1/status/srv-1")).json()
    assert state["status"] == "completed" and state["experiment_id"] == "exp-42"


async def test_listing_filters_and_pages(client: TestClient, auth: dict[str, str]) -> None:
    for i in range(3):
        await submit(client, auth, {"job_id": f"l{i}", "task_type": "noop"})
    for i in range(3):
        await wait_status(client, f"l{i}", {"completed"})
    page = await (await client.get("/api/v1/jobs?limit=2&offset=0&status=completed")).json()
    assert page["total"] == 3 and [j["job_id"] for j in page["jobs"]] == ["l2", "l1"]
    page = await (await client.get("/api/v1/jobs?limit=2&offset=2")).json()
    assert [j["job_id"] for j in page["jobs"]] == ["l0"]
    await assert_error(await client.get("/api/v1/jobs?status=bogus"), 422, "validation_error")
    await assert_error(await client.get("/api/v1/jobs?limit=abc"), 422, "validation_error")
    await assert_error(await client.get("/api/v1/jobs/nope"), 404, "not_found")
    await assert_error(await client.get("/api/v1/jobs/nope/result"), 404, "not_found")
    await assert_error(await client.delete("/api/v1/jobs/nope", headers=auth), 404, "not_found")
