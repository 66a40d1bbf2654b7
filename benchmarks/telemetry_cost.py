"""The sampler's cost and the telemetry endpoints' throughput, with 8 fake NVML GPUs.

    .venv/bin/python benchmarks/telemetry_cost.py [--idle-seconds 20] [--seconds 5]

Reports CPU time per second of the idle agent process at 1 Hz and 10 Hz sampling (as % of one core), next to a
bare aiohttp process idling in the same run, then requests per second of /api/v1/metrics/live, /metrics and
/api/v1/info.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from _common import PY, free_port, isolated_env, load, start_and_time, stop

HERE = Path(__file__).parent


def cpu_percent_of_core(pid: int, seconds: float) -> float:
    proc = psutil.Process(pid)
    t0 = proc.cpu_times()
    time.sleep(seconds)
    t1 = proc.cpu_times()
    return 100.0 * ((t1.user - t0.user) + (t1.system - t0.system)) / seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--idle-seconds", type=float, default=20)
    ap.add_argument("--seconds", type=float, default=5)
    args = ap.parse_args()

    port = free_port()
    _, bare = start_and_time([PY, str(HERE / "bare_server.py"), str(port)], "/health", port, isolated_env())
    time.sleep(1)
    bare_cpu = cpu_percent_of_core(bare.pid, args.idle_seconds)
    stop(bare)
    print(f"idle CPU over {args.idle_seconds:.0f} s (% of one core):")
    print(f"  bare aiohttp server (no sampling)      {bare_cpu:6.3f}%")

    results = {}
    for interval in (1.0, 0.1):
        port = free_port()
        _, proc = start_and_time(
            [PY, str(HERE / "_fake_gpu_agent.py"), str(port), str(interval), "8"],
            "/health",
            port,
            isolated_env(),
        )
        time.sleep(1.5)  # past start-up
        cpu = cpu_percent_of_core(proc.pid, args.idle_seconds)
        results[interval] = cpu
        label = f"agent, 8 fake GPUs, {1 / interval:.0f} Hz"
        print(f"  {label:38s} {cpu:6.3f}%   (target: <= 0.2% at 1 Hz, < 1% at 10 Hz)")
        if interval == 1.0:
            base = f"http://127.0.0.1:{port}"
            live = load(base + "/api/v1/metrics/live", args.seconds)
            prom = load(base + "/metrics", args.seconds)
            info = load(base + "/api/v1/info", args.seconds)
        stop(proc)
    print(f"throughput at 1 Hz sampling, 8 GPUs ({args.seconds:.0f} s each, wrk -t1 -c16):")
    print(f"  /api/v1/metrics/live {live:8.0f} req/s")
    print(f"  /metrics             {prom:8.0f} req/s   (target >= 2500; node_exporter 245 here)")
    print(f"  /api/v1/info         {info:8.0f} req/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
