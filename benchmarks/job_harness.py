"""Job harness overhead with the `noop` task: worker start-up, per-run overhead, 1000 queued jobs.

    .venv/bin/python benchmarks/job_harness.py [--runs 1000] [--jobs 1000]

Measured in-process on a real Agent (memory:// first, then SQLite with its fsync'd commits): per-run
overhead is the time between consecutive runs being recorded by the agent (persisted, events published) for a
task whose run body does nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ruckus_agent.core import events
from ruckus_agent.core.agent import Agent
from ruckus_agent.core.config import load_settings
from ruckus_agent.models.jobs import JobRequest


async def wait_final(agent: Agent, job_id: str) -> str:
    while True:
        state = await agent.job_state(job_id)
        if state.status not in ("queued", "running"):
            return str(state.status)
        await asyncio.sleep(0.005)


async def measure(storage_url: str, runs: int, jobs: int) -> dict[str, Any]:
    cfg = Path(tempfile.mkdtemp())
    settings = load_settings(
        storage_url=storage_url, config_dir=cfg, max_queue_size=max(jobs + 10, 100), host="127.0.0.1"
    )
    agent = Agent(settings)
    await agent.start()
    out: dict[str, Any] = {}
    try:
        # worker start-up: submit -> worker loaded (spawn + imports), and submit -> a 1-run job completed
        marks: dict[str, float] = {}

        def on_job(_t: str, state: Any) -> None:
            if state.stage == "running" and state.job_id not in marks:
                marks[state.job_id] = time.perf_counter()

        unsub = agent.events.subscribe(events.JOB, on_job)
        starts = []
        for i in range(3):
            t0 = time.perf_counter()
            await agent.submit_job(JobRequest(job_id=f"start-{i}", task_type="noop"))
            await wait_final(agent, f"start-{i}")
            starts.append((marks[f"start-{i}"] - t0, time.perf_counter() - t0))
        unsub()
        out["worker_start_s"] = statistics.median(s[0] for s in starts)
        out["one_run_job_s"] = statistics.median(s[1] for s in starts)

        # per-run overhead: consecutive run records of a long noop job
        stamps: list[float] = []
        unsub = agent.events.subscribe(events.JOB_RUN, lambda _t, _p: stamps.append(time.perf_counter()))
        await agent.submit_job(JobRequest(job_id="many", task_type="noop", runs_per_job=runs))
        await wait_final(agent, "many")
        unsub()
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        result = await agent.job_result("many")
        body = statistics.fmean(r.metrics.get("latency_s", 0.0) for r in result.individual_runs)  # type: ignore[union-attr]
        out["per_run_ms_mean"] = 1000 * statistics.fmean(gaps)
        out["per_run_ms_median"] = 1000 * statistics.median(gaps)
        out["task_body_ms"] = 1000 * body

        # 1000 queued jobs: submit time, then list pages
        t0 = time.perf_counter()
        for i in range(jobs):
            await agent.submit_job(JobRequest(job_id=f"q-{i:05d}", task_type="noop"))
        out["submit_per_job_ms"] = 1000 * (time.perf_counter() - t0) / jobs
        t0 = time.perf_counter()
        seen = 0
        offset = 0
        while True:
            page, _total = await agent.list_jobs(limit=100, offset=offset)
            if not page:
                break
            seen += len(page)
            offset += 100
        out["list_all_s"] = time.perf_counter() - t0
        out["listed"] = seen
    finally:
        await agent.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=1000)
    args = ap.parse_args()
    db = Path(tempfile.mkdtemp()) / "agent.db"
    for label, url in (("memory://", "memory://"), ("sqlite", f"sqlite:///{db}")):
        r = asyncio.run(measure(url, args.runs, args.jobs))
        print(f"== {label}")
        print(f"  worker start-up (submit -> task loaded)    {r['worker_start_s'] * 1000:8.1f} ms")
        print(f"  a 1-run noop job, submit -> completed      {r['one_run_job_s'] * 1000:8.1f} ms")
        print(
            f"  per-run overhead over {args.runs} runs: mean {r['per_run_ms_mean']:.3f} ms, median "
            f"{r['per_run_ms_median']:.3f} ms (task body {r['task_body_ms']:.4f} ms; goal < 1 ms)"
        )
        print(
            f"  submit {args.jobs} queued jobs: {r['submit_per_job_ms']:.3f} ms each; list all "
            f"({r['listed']} in pages of 100): {r['list_all_s'] * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
