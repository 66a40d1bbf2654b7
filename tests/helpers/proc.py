"""Start the real agent as a user would, in a subprocess, and wait for it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

LISTEN_RE = re.compile(r"listening on http://[\d.]+:(\d+)")


def agent_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUCKUS_AGENT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class AgentProcess:
    """`python -m ruckus_agent.main --no-gui --port 0 ...`, its port read from its log."""

    def __init__(self, home: Path, *args: str, **env: str) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.log_path = home / "agent.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ruckus_agent.main", "--no-gui", "--host", "127.0.0.1", *args],
            env=agent_env(home, **env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=home,
        )
        self.port: int | None = None

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_listening(self, timeout_s: float = 30) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = LISTEN_RE.search(self.log())
            if match:
                self.port = int(match.group(1))
                return self.port
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"agent did not listen within {timeout_s}s:\n{self.log()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get_json(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return request_json("GET", self.url(path), headers=headers)

    def stop(self, timeout_s: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout_s)
        finally:
            self._log.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._log.close()


def request_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout_s: float = 10
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
