"""The smoke test's own logic (packaging/smoke_test.py), without building anything.

The real build takes minutes (packaging/build.sh runs it); here the smoke test runs against a stand-in
executable: a small script that answers like the agent (version, /health after a 503, /info, a token file, a
job run in a spawned worker process, SIGTERM) so that each check's pass and failure paths are exercised.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import stat
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_smoke():
    spec = importlib.util.spec_from_file_location("ruckus_smoke_test", ROOT / "packaging" / "smoke_test.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


smoke = _load_smoke()

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


# --- pure helpers ---------------------------------------------------------------------------------------
def test_isolated_env_has_own_dirs_and_drops_agent_settings(tmp_path: Path) -> None:
    base = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "RUCKUS_AGENT_API_TOKEN": "secret",
        "RUCKUS_AGENT_PORT": "1",
        "QT_QPA_PLATFORM": "xcb",
    }
    env = smoke.isolated_env(tmp_path, base)
    assert env["PATH"] == "/usr/bin"
    assert "RUCKUS_AGENT_API_TOKEN" not in env and "RUCKUS_AGENT_PORT" not in env
    assert "QT_QPA_PLATFORM" not in env
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        assert Path(env[name]).is_dir() and Path(env[name]).is_relative_to(tmp_path)
    assert Path(env["RUCKUS_AGENT_MODEL_PATH"]).is_dir()
    assert smoke.token_path(env) == Path(env["XDG_CONFIG_HOME"]) / "ruckus-agent" / "api_token"


def test_free_port_is_bindable() -> None:
    import socket

    port = smoke.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INFO all good\n", False),
        ("Traceback (most recent call last):\n  File ...", True),
        ("[PYI-1:ERROR] Failed to execute script 'entry' due to unhandled exception!", True),
    ],
)
def test_has_traceback(text: str, expected: bool) -> None:
    assert smoke.has_traceback(text) is expected


def _result(status: str = "completed", runs: int = 3, backend: str = "numpy", mean: float | None = 0.02):
    individual = [
        {
            "run_id": i,
            "success": True,
            "metrics": {"tflops_fp32": 0.01 * (i + 1)},
            "details": {"backend": backend},
        }
        for i in range(runs)
    ]
    stats = {} if mean is None else {"tflops_fp32": {"mean": mean}}
    return {
        "status": status,
        "runs_completed": runs,
        "individual_runs": individual,
        "summary_stats": stats,
        "error": None,
    }


def test_summarize_job_result_reads_mean_and_backend() -> None:
    assert smoke.summarize_job_result(_result(), 3) == (0.02, "numpy")


def test_summarize_job_result_falls_back_to_the_runs_without_statistics() -> None:
    mean, backend = smoke.summarize_job_result(_result(mean=None, backend="torch"), 3)
    assert mean == pytest.approx(0.02) and backend == "torch"


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (_result(status="failed"), "job status 'failed'"),
        (_result(runs=2), "2 runs completed, expected 3"),
    ],
)
def test_summarize_job_result_rejects(result: dict, message: str) -> None:
    with pytest.raises(smoke.CheckFailed, match=message):
        smoke.summarize_job_result(result, 3)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@linux_only
def test_worker_processes_finds_a_spawned_child_of_this_interpreter() -> None:
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_sleep, args=(5,), daemon=True)
    proc.start()
    try:
        deadline = time.monotonic() + 10
        found: list = []
        while time.monotonic() < deadline and not found:
            found = smoke.worker_processes(os.getpid(), Path(sys.executable))
            time.sleep(0.05)
        assert proc.pid in [pid for pid, _exe in found]
        assert proc.pid in smoke.descendants(os.getpid())
        # a worker of another executable is not ours
        assert smoke.worker_processes(os.getpid(), Path("/nonexistent/ruckus-agent")) == []
    finally:
        proc.kill()
        proc.join()


# --- the whole smoke test against a stand-in executable ----------------------------------------------
FAKE_AGENT = r"""
import json, multiprocessing, os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def work():
    time.sleep(0.3)

def main():
    args = sys.argv[1:]
    if args == ["--version"]:
        print("ruckus-agent 9.9.9")
        return 0
    port = int(args[args.index("--port") + 1])
    if "--no-gui" not in args:
        if os.environ.get("FAKE_GUI") == "missing":
            print("INFO ruckus_agent: the desktop window is not part of this build: running headless", flush=True)
        elif os.environ.get("FAKE_GUI") == "crash":
            print("Traceback (most recent call last):\n  boom", flush=True)
            return 1
        time.sleep(float(args[args.index("--quit-after") + 1]))
        return 0
    token = "t0ken"
    path = os.path.join(os.environ["XDG_CONFIG_HOME"], "ruckus-agent")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "api_token"), "w") as fh:
        fh.write(token + "\n")
    started = time.monotonic()
    jobs = {}
    mode = os.environ.get("FAKE_JOB", "ok")

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def send(self, code, body):
            raw = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self):
            if self.path == "/health":
                if time.monotonic() - started < 0.2:
                    return self.send(503, {"status": "starting"})
                return self.send(200, {"status": "healthy", "version": "9.9.9"})
            if self.path == "/api/v1/info":
                return self.send(200, {"agent_id": "agent-fake", "system_info": {"gpus": [], "frameworks": []}})
            parts = self.path.strip("/").split("/")
            job = jobs.get(parts[3]) if len(parts) >= 4 else None
            if job is None:
                return self.send(404, {"error": {"code": "not_found"}})
            done = not job["proc"].is_alive()
            status = ("failed" if mode == "fail" else "completed") if done else "running"
            if parts[-1] == "result":
                runs = [{"run_id": i, "success": True, "metrics": {"tflops_fp32": 0.05},
                         "details": {"backend": "numpy"}} for i in range(3)]
                return self.send(200, {"status": status, "runs_completed": 3, "individual_runs": runs,
                                       "summary_stats": {"tflops_fp32": {"mean": 0.05}}})
            return self.send(200, {"job_id": parts[3], "status": status})

        def do_POST(self):
            if self.headers.get("Authorization") != "Bearer " + token:
                return self.send(401, {"error": {"code": "unauthorized"}})
            self.rfile.read(int(self.headers["Content-Length"]))
            proc = multiprocessing.get_context("spawn").Process(target=work, daemon=True)
            proc.start()
            jobs["job-1"] = {"proc": proc}
            return self.send(202, {"job_id": "job-1", "status": "queued"})

    server = ThreadingHTTPServer(("127.0.0.1", port), H)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    return 0

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
"""


@pytest.fixture
def fake_exe(tmp_path: Path) -> Path:
    if os.name == "nt":
        pytest.skip("the stand-in executable is a script with a #! line")
    exe = tmp_path / "ruckus-agent"
    exe.write_text(f"#!{sys.executable}\n" + textwrap.dedent(FAKE_AGENT))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def _run(exe: Path, monkeypatch: pytest.MonkeyPatch, capsys, *extra: str, **env: str) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RUCKUS_AGENT_API_TOKEN", "must-not-reach-the-executable")
    rc = smoke.main([str(exe), "--quit-after", "0.2", "--job-timeout", "30", "--start-timeout", "20", *extra])
    return rc, capsys.readouterr().out


@linux_only
def test_smoke_test_passes_against_a_good_executable(fake_exe: Path, monkeypatch, capsys) -> None:
    rc, out = _run(fake_exe, monkeypatch, capsys)
    assert rc == 0, out
    assert "PASS  --version: ruckus-agent 9.9.9" in out
    assert "PASS  /health: first 200 after" in out
    assert "PASS  /api/v1/info: agent_id agent-fake" in out
    assert "tflops_fp32 mean 0.05000, backend numpy; in worker pid" in out
    assert "PASS  headless shutdown" in out
    assert "PASS  GUI offscreen" in out
    assert "6 passed, 0 failed" in out


@linux_only
def test_smoke_test_reports_a_missing_gui_and_exits_non_zero(fake_exe: Path, monkeypatch, capsys) -> None:
    rc, out = _run(fake_exe, monkeypatch, capsys, "--skip-job", FAKE_GUI="missing")
    assert rc == 1
    assert "FAIL  GUI offscreen: GUI not in this build" in out
    assert "FAILURE GUI offscreen: GUI not in this build" in out
    assert "PASS  /health" in out  # the rest still ran


def test_smoke_test_reports_a_traceback_in_the_window(fake_exe: Path, monkeypatch, capsys) -> None:
    rc, out = _run(fake_exe, monkeypatch, capsys, "--skip-job", FAKE_GUI="crash")
    assert rc == 1
    assert "FAIL  GUI offscreen: traceback in the output" in out


def test_smoke_test_reports_a_failed_job(fake_exe: Path, monkeypatch, capsys) -> None:
    rc, out = _run(fake_exe, monkeypatch, capsys, "--skip-gui", FAKE_JOB="fail")
    assert rc == 1
    assert "FAIL  headless: job status 'failed'" in out


def test_smoke_test_without_an_executable_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert smoke.main([str(tmp_path / "missing")]) == 2
    assert "no executable at" in capsys.readouterr().err
