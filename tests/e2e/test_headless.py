"""`ruckus-agent --no-gui` as a user runs it: start, serve, refuse, and stop cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from helpers.proc import AgentProcess, agent_env, request_json


def test_headless_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    agent = AgentProcess(tmp_path / "home", "--port", "0")
    try:
        agent.wait_listening()
        deadline = time.monotonic() + 20
        while True:
            status, body = agent.get_json("/health")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 200 and body["status"] == "healthy"
        status, info = agent.get_json("/api/v1/info")
        assert status == 200
        assert info["system_info"]["cpu"]["logical_cores"] == os.cpu_count()
        status, err = request_json("POST", agent.url("/api/v1/jobs"), body={})
        assert status == 401 and err["error"]["code"] == "unauthorized"
        token_file = tmp_path / "home/config/ruckus-agent/api_token"
        assert str(token_file) in agent.log()
        assert (tmp_path / "home/data/ruckus-agent/agent.db").exists()  # default SQLite storage
    finally:
        code = agent.stop()
    log = agent.log()
    assert code == 0, log
    assert "Traceback" not in log
    assert "stopped" in log


def test_agent_id_survives_restart(tmp_path: Path) -> None:
    ids = []
    for _ in range(2):
        agent = AgentProcess(tmp_path / "home", "--port", "0", "--storage", "memory://")
        try:
            agent.wait_listening()
            ids.append(agent.get_json("/health")[1]["agent_id"])
        finally:
            agent.stop()
    assert ids[0] == ids[1]


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "ruckus_agent.main",
                "--no-gui",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--storage",
                "memory://",
            ],
            env=agent_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_setting_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ruckus_agent.main", "--no-gui", "--port", "70000"],
        env=agent_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ruckus-agent: invalid setting --port=70000: Input should be less than or equal to 65535"
    ]


def test_version_and_help(tmp_path: Path) -> None:
    from ruckus_agent import __version__

    out = subprocess.run(
        [sys.executable, "-m", "ruckus_agent.main", "--version"],
        capture_output=True,
        text=True,
        env=agent_env(tmp_path),
        timeout=30,
    )
    assert out.stdout.strip() == f"ruckus-agent {__version__}"
    out = subprocess.run(
        [sys.executable, "-m", "ruckus_agent.main", "--help"],
        capture_output=True,
        text=True,
        env=agent_env(tmp_path),
        timeout=30,
    )
    assert "--no-gui" in out.stdout and "--storage" in out.stdout


def test_no_display_runs_headless_and_sigint_stops_it(tmp_path: Path) -> None:
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""}
    home = tmp_path / "home"
    home.mkdir()
    log = open(home / "log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ruckus_agent.main",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--storage",
            "memory://",
        ],
        env={k: v for k, v in agent_env(home).items() if k not in env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while "listening on" not in (home / "log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0
    text = (home / "log").read_text()
    assert "running headless" in text
    assert "Traceback" not in text
