"""The job's worker process (spawned): loads the task once, runs it N times, sends each run back at once.

A segfault, OOM kill or os._exit here ends only this process; the parent sees the pipe close and records
why. Messages are plain tuples `(kind, payload)`:
  ("stage", str) | ("loaded", {model_load_time_seconds, ...}) | ("run", {...}) | ("done", None) |
  ("error", {message, traceback})
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _die_with_parent() -> None:
    """If the agent is killed (SIGKILL), its worker must not run on as an orphan."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:  # portable fallback: poll for re-parenting
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="ruckus-parent-watch").start()


def worker_main(spec: dict[str, Any], conn: Connection) -> None:
    """Entry point of the spawned process."""
    _die_with_parent()
    try:
        _run_job(spec, conn)
    except BaseException as exc:
        try:
            conn.send(
                ("error", {"message": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
            )
        except (OSError, EOFError):
            pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def _run_job(spec: dict[str, Any], conn: Connection) -> None:
    from ruckus_agent.jobs.tasks import TaskContext, load_task_class

    plugins = spec.get("plugins") or []
    cls = load_task_class(spec["task_type"], plugins)
    params = cls.params_model.model_validate(spec.get("parameters") or {})
    context = TaskContext(**spec["context"])
    task = cls(params, context)

    conn.send(("stage", "loading"))
    t0 = time.perf_counter()
    load_info = task.load() or {}
    load_s = time.perf_counter() - t0
    conn.send(("loaded", {"model_load_time_seconds": load_s, "pid": os.getpid(), **load_info}))

    runs = int(spec["runs_per_job"])
    start_at = int(spec.get("start_run", 0))
    try:
        for run_id in range(start_at, runs):
            started = _now_iso()
            t = time.perf_counter()
            try:
                out = task.run(run_id)
            except Exception as exc:  # a failed run, not a failed job
                conn.send(
                    (
                        "run",
                        {
                            "run_id": run_id,
                            "success": False,
                            "started_at": started,
                            "completed_at": _now_iso(),
                            "duration_seconds": time.perf_counter() - t,
                            "metrics": {},
                            "details": {"traceback": traceback.format_exc(limit=5)},
                            "error": f"{type(exc).__name__}: {exc}",
                        },
                    )
                )
                continue
            duration = time.perf_counter() - t
            conn.send(
                (
                    "run",
                    {
                        "run_id": run_id,
                        "success": True,
                        "started_at": started,
                        "completed_at": _now_iso(),
                        "duration_seconds": duration,
                        "metrics": {k: float(v) for k, v in out.metrics.items() if v is not None},
                        "details": out.details,
                        "error": None,
                    },
                )
            )
    finally:
        task.close()
    conn.send(("done", None))
