"""Jobs against a real agent process: a 5-run compute_benchmark over HTTP, and SIGKILL mid-job + restart."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from helpers.proc import AgentProcess, request_json

TESTS = str(Path(__file__).resolve().parent.parent)


def _wait_healthy(agent: AgentProcess) -> None:
    agent.wait_listening()
    deadline = time.monotonic() + 30
    while agent.get_json("/health")[0] != 200:
        assert time.monotonic() < deadline, agent.log()
        time.sleep(0.05)


def _token(home: Path) -> str:
    return (home / "config/ruckus-agent/api_token").read_text().strip()


def _poll(agent: AgentProcess, job_id: str, until: Any, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        status, body = agent.get_json(f"/api/v1/jobs/{job_id}")
        assert status == 200, body
        if until(body):
            return body  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"{body}\n{agent.log()}"
        time.sleep(0.1)


def test_five_run_compute_benchmark_over_http(tmp_path: Path) -> None:
    home = tmp_path / "home"
    agent = AgentProcess(home, "--port", "0")
    try:
        _wait_healthy(agent)
        auth = {"Authorization": f"Bearer {_token(home)}"}
        job = {
            "job_id": "e2e-compute",
            "task_type": "compute_benchmark",
            "runs_per_job": 5,
            "parameters": {"device": "cpu", "precisions": ["FP32"], "matrix_size": 128},
        }
        status, body = request_json("POST", agent.url("/api/v1/jobs"), job, headers=auth)
        assert (status, body) == (202, {"job_id": "e2e-compute", "status": "queued"})
        final = _poll(agent, "e2e-compute", lambda b: b["status"] not in ("queued", "running"))
        assert final["status"] == "completed", final
        status, res = agent.get_json("/api/v1/jobs/e2e-compute/result")
        assert status == 200
        runs = res["individual_runs"]
        assert len(runs) == 5 and [r["run_id"] for r in runs] == [0, 1, 2, 3, 4]
        assert runs[0]["cold_start"] is True and not any(r["cold_start"] for r in runs[1:])
        assert res["cold_start_data"]["model_load_time_seconds"] > 0
        warm = [r["metrics"]["tflops_fp32"] for r in runs[1:]]
        assert all(v > 0 for v in warm)
        s = res["summary_stats"]["tflops_fp32"]
        assert s["run_ids"] == [1, 2, 3, 4] and s["raw_values"] == warm
        assert abs(s["mean"] - statistics.fmean(warm)) < 1e-12 * max(warm)
        assert abs(s["std"] - statistics.stdev(warm)) < 1e-9 * max(warm)
        assert abs(s["median"] - statistics.median(warm)) < 1e-12 * max(warm)
        med = statistics.median(warm)
        mad = statistics.median(abs(v - med) for v in warm)
        expected_outliers = [i + 1 for i, v in enumerate(warm) if mad and abs(0.6745 * (v - med) / mad) > 3.5]
        assert s["outliers"] == expected_outliers
        assert runs[1]["telemetry"]["samples"] >= 0  # the monitor's window summary is kept with each run
    finally:
        assert agent.stop() == 0


def test_sigkill_mid_job_marks_it_interrupted_with_runs_intact(tmp_path: Path) -> None:
    home = tmp_path / "home"
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"RUCKUS_AGENT_TASK_PLUGINS": "fakes.fault_tasks", "PYTHONPATH": TESTS}
    agent = AgentProcess(home, "--port", "0", **env)
    _wait_healthy(agent)
    auth = {"Authorization": f"Bearer {_token(home)}"}
    job = {
        "job_id": "doomed",
        "task_type": "hang",
        "runs_per_job": 10,
        "parameters": {"fail_at": 3, "marker_dir": str(markers)},
    }
    assert request_json("POST", agent.url("/api/v1/jobs"), job, headers=auth)[0] == 202
    _poll(agent, "doomed", lambda b: b["runs_completed"] == 3)
    worker_pid = int((markers / "run-3").read_text()) if (markers / "run-3").exists() else None
    agent.kill()  # SIGKILL: no chance to clean up

    if worker_pid is not None:  # the orphaned worker dies with its parent
        deadline = time.monotonic() + 10
        while Path(f"/proc/{worker_pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (
            not Path(f"/proc/{worker_pid}").exists()
            or "zombie" in Path(f"/proc/{worker_pid}/status").read_text()
        )

    again = AgentProcess(home, "--port", "0", **env)  # same home: same SQLite database
    try:
        _wait_healthy(again)
        status, state = again.get_json("/api/v1/jobs/doomed")
        assert status == 200 and state["status"] == "interrupted"
        assert state["runs_completed"] == 3
        status, res = again.get_json("/api/v1/jobs/doomed/result")
        assert status == 200 and res["status"] == "interrupted"
        assert [r["run_id"] for r in res["individual_runs"]] == [0, 1, 2]
        assert res["summary_stats"]["latency_s"]["run_ids"] == [1, 2]
        assert "marked 1 job(s) interrupted" in again.log()
    finally:
        again.stop()
