#!/usr/bin/env python3
"""Smoke test of the built RUCKUS Agent executable (run by packaging/build.sh and by CI).

    python3 packaging/smoke_test.py [EXECUTABLE] [--skip-gui] [--skip-job] [--job-timeout S] [--keep]

EXECUTABLE defaults to dist/ruckus-agent/ruckus-agent. Standard library only, so any Python 3.9+ runs it.
Every check runs against the executable with its own HOME and XDG dirs (nothing of the user's is read or
written) and a free port:

  1. `--version` answers;
  2. `--no-gui --port P --storage memory://` serves /health (time from launch to the first 200 is printed)
     and /api/v1/info (JSON with agent_id);
  3. a 3-run CPU compute_benchmark job submitted over HTTP with the generated token completes in a worker
     process spawned from the executable (seen in /proc on Linux); the FP32 TFLOPS mean and backend are printed;
  4. SIGTERM stops the headless agent with exit status 0;
  5. the window opens offscreen (QT_QPA_PLATFORM=offscreen) and `--quit-after` ends it with exit status 0.

A traceback in the executable's output fails the check it belongs to. Exit status 0 when all pass, 1 when
any fails (each failure is one `FAIL` line, repeated in the summary), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_EXE = Path("dist") / "ruckus-agent" / ("ruckus-agent.exe" if os.name == "nt" else "ruckus-agent")
TERMINAL = {"completed", "failed", "cancelled", "timeout", "interrupted"}
JOB_BODY: dict[str, Any] = {
    "task_type": "compute_benchmark",
    "runs_per_job": 3,
    "parameters": {"device": "cpu", "precisions": ["FP32"], "matrix_size": 256},
}


class CheckFailed(Exception):
    """One check failed; the message says what was expected and what came."""


@dataclass
class Report:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)

    def ok(self, name: str, detail: str = "") -> None:
        self.passed.append(name)
        print(f"PASS  {name}" + (f": {detail}" if detail else ""), flush=True)

    def fail(self, name: str, detail: str) -> None:
        self.failed.append(f"{name}: {detail}")
        print(f"FAIL  {name}: {detail}", flush=True)

    def figure(self, name: str, value: str) -> None:
        self.figures[name] = value

    def summary(self) -> int:
        print("\n== smoke test summary")
        for name, value in self.figures.items():
            print(f"  {name}: {value}")
        print(f"  {len(self.passed)} passed, {len(self.failed)} failed")
        for line in self.failed:
            print(f"  FAILURE {line}")
        return 1 if self.failed else 0


# --- helpers (pure; tested in tests/packaging) -----------------------------------------------------
def isolated_env(root: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the executable: own HOME/XDG dirs, no RUCKUS_AGENT_* settings from outside."""
    env = {
        k: v
        for k, v in (base if base is not None else os.environ).items()
        if not k.startswith("RUCKUS_AGENT_")
    }
    env.pop("QT_QPA_PLATFORM", None)
    dirs = {
        "HOME": root / "home",
        "XDG_CONFIG_HOME": root / "config",
        "XDG_DATA_HOME": root / "data",
        "XDG_CACHE_HOME": root / "cache",
        "XDG_STATE_HOME": root / "state",
        "XDG_RUNTIME_DIR": root / "runtime",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[name] = str(path)
    if os.name == "nt":
        env["USERPROFILE"] = env["HOME"]
        env["APPDATA"] = env["XDG_CONFIG_HOME"]
        env["LOCALAPPDATA"] = env["XDG_DATA_HOME"]
    models = root / "models"
    models.mkdir(exist_ok=True)
    env["RUCKUS_AGENT_MODEL_PATH"] = str(models)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def token_path(env: dict[str, str]) -> Path:
    """Where the agent keeps its generated API token in the isolated config dir."""
    return Path(env["XDG_CONFIG_HOME"]) / "ruckus-agent" / "api_token"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def has_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" in text or "Failed to execute script" in text


def summarize_job_result(result: dict[str, Any], runs: int) -> tuple[float, str]:
    """Check a finished compute_benchmark result; return (FP32 TFLOPS mean, backend) or raise CheckFailed."""
    if result.get("status") != "completed":
        raise CheckFailed(f"job status {result.get('status')!r}, error {result.get('error')!r}")
    total = result.get("runs_completed", result.get("total_runs"))
    if total != runs:
        raise CheckFailed(f"{total} runs completed, expected {runs}")
    ok_runs = [r for r in result.get("individual_runs") or [] if r.get("success")]
    if len(ok_runs) != runs:
        raise CheckFailed(f"{len(ok_runs)} successful runs in the result, expected {runs}")
    stats = (result.get("summary_stats") or {}).get("tflops_fp32") or {}
    mean = stats.get("mean")
    if not isinstance(mean, (int, float)) or mean <= 0:
        values = [r["metrics"].get("tflops_fp32") for r in ok_runs if r.get("metrics")]
        values = [v for v in values if isinstance(v, (int, float)) and v > 0]
        if not values:
            raise CheckFailed(f"no positive tflops_fp32 in the result (summary {stats!r})")
        mean = sum(values) / len(values)
    backends = {str(b) for r in ok_runs if (b := (r.get("details") or {}).get("backend"))}
    backend = ",".join(sorted(backends)) or "unknown"
    return float(mean), backend


def descendants(pid: int) -> list[int]:
    """Process ids below `pid` (Linux /proc); empty where /proc is not there."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # field 4 (ppid) comes after the command name in parentheses, which may itself hold spaces
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def worker_processes(pid: int, exe: Path | None = None) -> list[tuple[int, str]]:
    """Descendants of `pid` that are multiprocessing workers ("--multiprocessing-fork") running the same
    program file as `pid` itself (or as `exe`, when given): (pid, program path). Linux /proc only."""
    try:
        want = Path(exe).resolve() if exe is not None else Path(os.readlink(f"/proc/{pid}/exe")).resolve()
    except OSError:
        return []
    found = []
    for child in descendants(pid):
        try:
            cmdline = (Path("/proc") / str(child) / "cmdline").read_bytes().split(b"\0")
            child_exe = Path(os.readlink(f"/proc/{child}/exe"))
        except OSError:
            continue
        if any(arg.startswith(b"--multiprocessing-fork") for arg in cmdline) and child_exe.resolve() == want:
            found.append((child, str(child_exe)))
    return found


# --- HTTP ------------------------------------------------------------------------------------------
def http(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 10.0
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


# --- checks ----------------------------------------------------------------------------------------
class Smoke:
    def __init__(self, exe: Path, work: Path, report: Report, job_timeout: float, start_timeout: float):
        self.exe = exe
        self.work = work
        self.report = report
        self.job_timeout = job_timeout
        self.start_timeout = start_timeout
        self.env = isolated_env(work)

    def run_cmd(
        self, args: list[str], env: dict[str, str] | None = None, timeout: float = 60
    ) -> tuple[int, str]:
        proc = subprocess.run(
            [str(self.exe), *args],
            env=env or self.env,
            cwd=self.work,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        return proc.returncode, proc.stdout.decode(errors="replace")

    def check_version(self) -> None:
        t0 = time.perf_counter()
        rc, out = self.run_cmd(["--version"], timeout=60)
        elapsed = time.perf_counter() - t0
        if rc != 0 or "ruckus-agent" not in out or has_traceback(out):
            raise CheckFailed(f"exit {rc}, output {out.strip()[-400:]!r}")
        self.report.figure("--version", f"{out.strip()} ({elapsed:.2f} s)")
        self.report.ok("--version", f"{out.strip()} in {elapsed:.2f} s")

    def headless(self, skip_job: bool) -> None:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = self.work / "headless.log"
        args = [
            str(self.exe),
            "--no-gui",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage",
            "memory://",
        ]
        with open(log_path, "wb") as log:
            t0 = time.perf_counter()
            proc = subprocess.Popen(args, env=self.env, cwd=self.work, stdout=log, stderr=subprocess.STDOUT)
            try:
                self._headless_checks(proc, t0, base, skip_job)
            finally:
                self._stop(proc, log_path)

    def _log_tail(self, name: str = "headless.log", n: int = 1500) -> str:
        try:
            return (self.work / name).read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def _headless_checks(self, proc: subprocess.Popen[bytes], t0: float, base: str, skip_job: bool) -> None:
        # /health: the first 200
        first_any: float | None = None
        while True:
            if proc.poll() is not None:
                raise CheckFailed(
                    f"the agent exited ({proc.returncode}) before /health answered:\n{self._log_tail()}"
                )
            if time.perf_counter() - t0 > self.start_timeout:
                raise CheckFailed(
                    f"/health gave no 200 within {self.start_timeout:.0f} s:\n{self._log_tail()}"
                )
            try:
                status, body = http("GET", base + "/health", timeout=2)
            except (OSError, urllib.error.URLError):
                time.sleep(0.01)
                continue
            if first_any is None:
                first_any = time.perf_counter() - t0
            if status == 200:
                break
            time.sleep(0.01)
        to_200 = time.perf_counter() - t0
        if not isinstance(body, dict) or body.get("status") != "healthy":
            raise CheckFailed(f"/health 200 with body {body!r}")
        self.report.figure(
            "launch to first 200 on /health", f"{to_200:.3f} s (first answer {first_any:.3f} s)"
        )
        self.report.ok("/health", f"first 200 after {to_200:.3f} s (version {body.get('version')})")

        # /api/v1/info
        status, info = http("GET", base + "/api/v1/info", timeout=30)
        if status != 200 or not isinstance(info, dict) or not info.get("agent_id"):
            raise CheckFailed(f"/api/v1/info answered {status}: {str(info)[:300]}")
        system = info.get("system_info") or {}
        frameworks = ", ".join(f"{f.get('name')} {f.get('version')}" for f in system.get("frameworks") or [])
        self.report.ok(
            "/api/v1/info",
            f"agent_id {info['agent_id']}, {len(system.get('gpus') or [])} GPU(s), frameworks: {frameworks or '-'}",
        )
        if skip_job:
            return
        self._job(proc, base)

    def _job(self, proc: subprocess.Popen[bytes], base: str) -> None:
        path = token_path(self.env)
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CheckFailed(f"no API token at {path}: {exc}") from None
        status, body = http("POST", base + "/api/v1/jobs", JOB_BODY, token=token)
        if status != 202 or not isinstance(body, dict) or "job_id" not in body:
            raise CheckFailed(f"POST /api/v1/jobs answered {status}: {str(body)[:400]}")
        job_id = body["job_id"]
        t0 = time.perf_counter()
        workers: dict[int, str] = {}
        state: dict[str, Any] = {}
        while time.perf_counter() - t0 < self.job_timeout:
            if proc.poll() is not None:
                raise CheckFailed(f"the agent exited ({proc.returncode}) during the job:\n{self._log_tail()}")
            workers.update(worker_processes(proc.pid))
            status, state = http("GET", f"{base}/api/v1/jobs/{job_id}")
            if status != 200:
                raise CheckFailed(f"GET /api/v1/jobs/{job_id} answered {status}: {state!r}")
            if state.get("status") in TERMINAL:
                break
            time.sleep(0.1)
        else:
            raise CheckFailed(f"job {job_id} not finished after {self.job_timeout:.0f} s: {state!r}")
        elapsed = time.perf_counter() - t0
        status, result = http("GET", f"{base}/api/v1/jobs/{job_id}/result")
        if status != 200 or not isinstance(result, dict):
            raise CheckFailed(f"GET /api/v1/jobs/{job_id}/result answered {status}: {str(result)[:400]}")
        mean, backend = summarize_job_result(result, JOB_BODY["runs_per_job"])
        if sys.platform.startswith("linux"):
            if not workers:
                raise CheckFailed(
                    f"job {job_id} completed, but no worker process spawned from the agent was seen"
                )
            where = "in worker pid " + ", ".join(f"{p} ({e})" for p, e in sorted(workers.items()))
        else:
            where = "worker process not checked on this OS"
        self.report.figure(
            "compute_benchmark job (3 runs, FP32, n=256)",
            f"completed in {elapsed:.1f} s; FP32 mean {mean * 1000:.2f} GFLOP/s ({mean:.5f} TFLOPS), backend {backend}",
        )
        self.report.ok(
            "compute_benchmark job",
            f"{job_id} completed, 3 runs in {elapsed:.1f} s, tflops_fp32 mean {mean:.5f}, backend {backend}; {where}",
        )

    def _stop(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        if proc.poll() is None:
            if os.name == "nt":  # no SIGTERM to send there: end it, and check no more
                proc.terminate()
                proc.wait()
                return
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.report.fail("headless shutdown", "no exit within 30 s of SIGTERM; killed")
                return
            out = log_path.read_text(errors="replace")
            if proc.returncode != 0:
                self.report.fail(
                    "headless shutdown", f"exit status {proc.returncode} after SIGTERM:\n{out[-1500:]}"
                )
            elif has_traceback(out):
                self.report.fail("headless shutdown", f"traceback in the output:\n{out[-3000:]}")
            else:
                self.report.ok("headless shutdown", "SIGTERM -> exit 0, no traceback")

    def gui(self, quit_after: float) -> None:
        env = dict(self.env)
        env["QT_QPA_PLATFORM"] = "offscreen"
        port = free_port()
        args = [
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage",
            "memory://",
            "--quit-after",
            str(quit_after),
        ]
        t0 = time.perf_counter()
        try:
            rc, out = self.run_cmd(args, env=env, timeout=quit_after + 90)
        except subprocess.TimeoutExpired:
            raise CheckFailed(
                f"the window did not quit within {quit_after + 90:.0f} s of --quit-after {quit_after}"
            ) from None
        elapsed = time.perf_counter() - t0
        (self.work / "gui.log").write_text(out)
        if "running headless" in out:
            reason = next((ln for ln in out.splitlines() if "running headless" in ln), "").strip()
            raise CheckFailed(f"GUI not in this build ({reason})")
        if has_traceback(out):
            raise CheckFailed(f"traceback in the output (exit {rc}):\n{out[-3000:]}")
        if rc != 0:
            raise CheckFailed(f"exit status {rc}:\n{out[-1500:]}")
        self.report.figure(
            "GUI offscreen --quit-after", f"exit 0 after {elapsed:.1f} s (quit after {quit_after:g} s)"
        )
        self.report.ok("GUI offscreen", f"opened and quit cleanly (exit 0) in {elapsed:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("executable", nargs="?", default=str(DEFAULT_EXE), help=f"default {DEFAULT_EXE}")
    parser.add_argument("--skip-gui", action="store_true", help="leave out the offscreen window check")
    parser.add_argument("--skip-job", action="store_true", help="leave out the compute_benchmark job")
    parser.add_argument("--job-timeout", type=float, default=300, help="seconds for the job (default 300)")
    parser.add_argument(
        "--start-timeout", type=float, default=60, help="seconds to the first 200 (default 60)"
    )
    parser.add_argument("--quit-after", type=float, default=4, help="--quit-after for the window (default 4)")
    parser.add_argument("--keep", action="store_true", help="keep the isolated dirs and logs")
    args = parser.parse_args(argv)

    exe = Path(args.executable).resolve()
    if not exe.is_file() or not os.access(exe, os.X_OK):
        print(f"smoke_test: no executable at {exe} (build it with packaging/build.sh)", file=sys.stderr)
        return 2
    print(f"== smoke test of {exe}")
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="ruckus-smoke-"))
    try:
        smoke = Smoke(exe, work, report, args.job_timeout, args.start_timeout)
        checks = [("--version", smoke.check_version), ("headless", lambda: smoke.headless(args.skip_job))]
        if not args.skip_gui:
            checks.append(("GUI offscreen", lambda: smoke.gui(args.quit_after)))
        for name, check in checks:
            try:
                check()
            except CheckFailed as exc:
                report.fail(name, str(exc))
            except Exception as exc:  # a bug here, or the OS: still a clear failure line
                report.fail(name, f"{type(exc).__name__}: {exc}")
    finally:
        if args.keep:
            print(f"(isolated dirs and logs kept in {work})")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
