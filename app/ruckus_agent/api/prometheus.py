"""Prometheus text exposition (format 0.0.4).

GPU series use NVIDIA dcgm-exporter's names, types and labels (`gpu`, `UUID`, `pci_bus_id`, `device`,
`modelName`, `Hostname`) so existing Grafana dashboards work; host and agent series are `ruckus_*`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ruckus_agent.models.gpu import GpuInfo, GpuReading
from ruckus_agent.models.monitor import Sample

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# (name, type, help, value getter) - names, types and help follow dcgm-exporter's default-counters.csv
GPU_SERIES: list[tuple[str, str, str, Callable[[GpuReading], float | None]]] = [
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", lambda r: r.clock_sm_mhz),
    ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).", lambda r: r.clock_mem_mhz),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", lambda r: r.temperature_c),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", lambda r: r.power_usage_w),
    ("DCGM_FI_DEV_POWER_MGMT_LIMIT", "gauge", "Power management limit (in W).", lambda r: r.power_limit_w),
    (
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "counter",
        "Total energy consumption since boot (in mJ).",
        lambda r: r.energy_total_j * 1000 if r.energy_total_j is not None else None,
    ),
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", lambda r: r.utilization_gpu_pct),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).", lambda r: r.utilization_memory_pct),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).", lambda r: r.memory_free_mb),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", lambda r: r.memory_used_mb),
    ("DCGM_FI_DEV_FAN_SPEED", "gauge", "Fan speed (in %).", lambda r: r.fan_speed_pct),
]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Iterable[tuple[str, str | None]]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v or "")}"' for k, v in pairs) + "}"


def _num(value: float) -> str:
    if value != value:  # NaN
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def render(
    *,
    hostname: str,
    agent_id: str,
    agent_type: str,
    version: str,
    uptime_s: float,
    gpus: list[GpuInfo],
    sample: Sample | None,
    jobs_running: int,
    jobs_queued: int,
) -> str:
    out: list[str] = []
    readings = {r.index: r for r in (sample.gpus if sample else [])}
    gpu_by_index = {g.index: g for g in gpus}
    indices = sorted(set(readings) | set(gpu_by_index))

    def gpu_labels(i: int) -> str:
        g = gpu_by_index.get(i)
        r = readings.get(i)
        return _labels(
            [
                ("gpu", str(i)),
                ("UUID", (g.uuid if g else None) or (r.uuid if r else None)),
                ("pci_bus_id", g.pci_bus_id if g else None),
                ("device", f"nvidia{i}"),
                ("modelName", g.name if g else None),
                ("Hostname", hostname),
            ]
        )

    for name, kind, help_text, get in GPU_SERIES:
        rows = []
        for i in indices:
            r = readings.get(i)
            if r is None or r.lost:
                continue
            value = get(r)
            if value is not None:
                rows.append(f"{name}{gpu_labels(i)} {_num(value)}")
        if rows:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(rows)

    if indices:
        out.append("# HELP ruckus_gpu_lost 1 when the GPU stopped answering (XID error, driver reload).")
        out.append("# TYPE ruckus_gpu_lost gauge")
        for i in indices:
            r = readings.get(i)
            out.append(f"ruckus_gpu_lost{gpu_labels(i)} {1 if r is not None and r.lost else 0}")

    host = sample.host if sample else None

    def mib_to_bytes(value: float | None) -> float | None:
        return value * 1048576 if value is not None else None

    host_series: list[tuple[str, str, float | None]] = []
    if host is not None:
        host_series = [
            ("ruckus_host_cpu_utilization_percent", "Host CPU utilization (in %).", host.cpu_utilization_pct),
            (
                "ruckus_host_memory_used_bytes",
                "Host memory in use (total - available).",
                mib_to_bytes(host.memory_used_mb),
            ),
            ("ruckus_host_memory_total_bytes", "Host memory total.", mib_to_bytes(host.memory_total_mb)),
            ("ruckus_host_load1", "Host 1-minute load average.", host.load_1m),
        ]
    hl = _labels([("Hostname", hostname)])
    for name, help_text, value in host_series:
        if value is None:
            continue
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} gauge")
        out.append(f"{name}{hl} {_num(float(value))}")

    out.append("# HELP ruckus_agent_info Agent identity; the value is always 1.")
    out.append("# TYPE ruckus_agent_info gauge")
    out.append(
        "ruckus_agent_info"
        + _labels(
            [("agent_id", agent_id), ("agent_type", agent_type), ("version", version), ("Hostname", hostname)]
        )
        + " 1"
    )
    out.append("# HELP ruckus_agent_uptime_seconds Seconds since the agent started.")
    out.append("# TYPE ruckus_agent_uptime_seconds gauge")
    out.append(f"ruckus_agent_uptime_seconds {_num(round(uptime_s, 3))}")
    out.append("# HELP ruckus_agent_gpus Number of GPUs detected.")
    out.append("# TYPE ruckus_agent_gpus gauge")
    out.append(f"ruckus_agent_gpus {len(gpus)}")
    out.append("# HELP ruckus_jobs_running Jobs running now.")
    out.append("# TYPE ruckus_jobs_running gauge")
    out.append(f"ruckus_jobs_running {jobs_running}")
    out.append("# HELP ruckus_jobs_queued Jobs waiting in the queue.")
    out.append("# TYPE ruckus_jobs_queued gauge")
    out.append(f"ruckus_jobs_queued {jobs_queued}")
    if sample is not None:
        out.append("# HELP ruckus_sample_timestamp_seconds Unix time of the latest telemetry sample.")
        out.append("# TYPE ruckus_sample_timestamp_seconds gauge")
        out.append(f"ruckus_sample_timestamp_seconds {_num(round(sample.timestamp.timestamp(), 3))}")
    return "\n".join(out) + "\n"
