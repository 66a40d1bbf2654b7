"""Live telemetry: one sample holds the host reading and one reading per GPU."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ruckus_agent.models.common import WireModel
from ruckus_agent.models.gpu import GpuReading


class HostReading(WireModel):
    cpu_utilization_pct: float | None = None
    memory_used_mb: float | None = None
    memory_total_mb: float | None = None
    memory_used_pct: float | None = None
    load_1m: float | None = None


class Sample(WireModel):
    timestamp: datetime
    host: HostReading
    gpus: list[GpuReading] = Field(default_factory=list)
    gpu_read_error: str | None = Field(None, description="Why GPU readings are missing from this sample")


class MetricsHistory(WireModel):
    seconds: float
    interval_s: float
    count: int
    samples: list[Sample]


class RunTelemetry(WireModel):
    """The monitor's readings over one run's time window, per GPU (and host)."""

    samples: int = 0
    gpu_index: int | None = None
    gpu_utilization_pct: float | None = None
    gpu_utilization_max_pct: float | None = None
    gpu_memory_peak_mb: float | None = None
    power_mean_w: float | None = None
    energy_j: float | None = None
    energy_source: str | None = Field(
        None, description="'counter' (NVML energy counter) or 'integrated' (power x time)"
    )
    temperature_max_c: float | None = None
    clock_sm_min_mhz: float | None = None
    clock_sm_max_mhz: float | None = None
    throttle_reasons: list[str] = Field(default_factory=list)
    cpu_utilization_pct: float | None = None
