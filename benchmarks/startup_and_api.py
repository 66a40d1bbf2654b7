"""Start-up time to the first 200 on /health and /api/v1/info throughput, next to a bare aiohttp server.

    .venv/bin/python benchmarks/startup_and_api.py [--repeat 5] [--seconds 5]

Both servers are started and loaded in the same run; the ratios are the figures (the machine is noisy).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import PY, free_port, isolated_env, load, median, start_and_time, stop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()

    agent_times: dict[str, list[float]] = {"memory://": [], "sqlite (default)": []}
    bare_times: list[float] = []
    for _ in range(args.repeat):
        for label in agent_times:
            port = free_port()
            cmd = [PY, "-m", "ruckus_agent.main", "--no-gui", "--host", "127.0.0.1", "--port", str(port)]
            if label == "memory://":
                cmd += ["--storage", "memory://"]
            t, proc = start_and_time(cmd, "/health", port, isolated_env())
            agent_times[label].append(t)
            stop(proc)
        port = free_port()
        t, proc = start_and_time(
            [PY, str(Path(__file__).parent / "bare_server.py"), str(port)], "/health", port, isolated_env()
        )
        bare_times.append(t)
        stop(proc)

    print(f"start -> first 200 on /health (median of {args.repeat}):")
    bare = median(bare_times)
    for label, times in agent_times.items():
        m = median(times)
        print(
            f"  agent --no-gui, {label:17s} {m:6.3f} s   (min {min(times):.3f}, max {max(times):.3f})  "
            f"= {m / bare:.2f}x bare aiohttp"
        )
    print(f"  bare aiohttp server              {bare:6.3f} s")

    # Throughput: the agent's /api/v1/info vs a bare server serving the very same bytes.
    port = free_port()
    _, agent = start_and_time(
        [
            PY,
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
        "/health",
        port,
        isolated_env(),
    )
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/info").read()
        info_file = Path(tempfile.mkdtemp()) / "info.json"
        info_file.write_bytes(body)
        agent_info = load(f"http://127.0.0.1:{port}/api/v1/info", args.seconds)
        agent_health = load(f"http://127.0.0.1:{port}/health", args.seconds)
    finally:
        stop(agent)
    bport = free_port()
    _, bare_proc = start_and_time(
        [PY, str(Path(__file__).parent / "bare_server.py"), str(bport), str(info_file)],
        "/health",
        bport,
        isolated_env(),
    )
    try:
        bare_info = load(f"http://127.0.0.1:{bport}/api/v1/info", args.seconds)
    finally:
        stop(bare_proc)
    print(f"/api/v1/info throughput ({len(body)} bytes, {args.seconds:.0f} s each, wrk -t1 -c16):")
    print(f"  agent       {agent_info:8.0f} req/s")
    print(f"  bare aiohttp {bare_info:7.0f} req/s   (same bytes)")
    print(f"  ratio       {agent_info / bare_info:8.2f}  (target >= 0.8)")
    print(f"  agent /health {agent_health:6.0f} req/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
