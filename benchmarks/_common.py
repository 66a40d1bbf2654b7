"""Helpers shared by the benchmark scripts: free ports, start-to-first-200 timing, load generation."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def isolated_env(**extra: str) -> dict[str, str]:
    home = Path(tempfile.mkdtemp(prefix="ruckus-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUCKUS_AGENT_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "c"), XDG_DATA_HOME=str(home / "d"))
    env.update(extra)
    return env


def wait_200(url: str, timeout_s: float = 30.0) -> float:
    """Poll until url answers 200; returns the monotonic time it did."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return time.monotonic()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.002)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s}s")


def start_and_time(
    cmd: list[str], url_path: str, port: int, env: dict[str, str]
) -> tuple[float, subprocess.Popen[bytes]]:
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t1 = wait_200(f"http://127.0.0.1:{port}{url_path}")
    return t1 - t0, proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def load(
    url: str, seconds: float = 5.0, connections: int = 16, headers: dict[str, str] | None = None
) -> float:
    """Requests per second that url sustains (wrk with one thread if installed, else a Python client)."""
    if shutil.which("wrk"):
        hdr: list[str] = []
        for k, v in (headers or {}).items():
            hdr += ["-H", f"{k}: {v}"]
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", *hdr, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if non2xx:
            raise RuntimeError(f"{url}: {non2xx.group(1)} non-2xx responses")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return _python_load(url, seconds, connections, headers or {})


def _python_load(url: str, seconds: float, connections: int, headers: dict[str, str]) -> float:
    import asyncio

    import aiohttp

    async def run() -> float:
        count = 0
        deadline = time.monotonic() + seconds
        async with aiohttp.ClientSession(headers=headers) as session:

            async def worker() -> None:
                nonlocal count
                while time.monotonic() < deadline:
                    async with session.get(url) as resp:
                        await resp.read()
                        assert resp.status == 200
                        count += 1

            t0 = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(connections)))
            return count / (time.monotonic() - t0)

    return asyncio.run(run())


def median(values: list[float]) -> float:
    return statistics.median(values)


PY = sys.executable
