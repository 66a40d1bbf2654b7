"""GPU wire models: static description, live reading, detection report.

A value the hardware does not support is None (JSON null), never 0 and never "N/A".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ruckus_agent.models.common import WireModel, utcnow

DetectionSource = Literal["nvml", "torch", "nvidia-smi"]


class GpuProcess(WireModel):
    pid: int
    name: str | None = None
    used_memory_mb: float | None = None


class MigDevice(WireModel):
    index: int
    gpu_instance_id: int | None = None
    compute_instance_id: int | None = None
    uuid: str | None = None
    memory_total_mb: float | None = None
    memory_used_mb: float | None = None


class GpuReading(WireModel):
    """One live sample of one GPU."""

    index: int
    uuid: str | None = None
    timestamp: datetime = Field(default_factory=utcnow)
    temperature_c: float | None = None
    power_usage_w: float | None = None
    power_limit_w: float | None = None
    utilization_gpu_pct: float | None = None
    utilization_memory_pct: float | None = None
    memory_used_mb: float | None = None
    memory_free_mb: float | None = None
    memory_total_mb: float | None = None
    clock_sm_mhz: float | None = None
    clock_mem_mhz: float | None = None
    fan_speed_pct: float | None = None
    energy_total_j: float | None = Field(None, description="Energy counter since driver load, joules")
    throttle_reasons: list[str] | None = None
    pstate: str | None = None
    lost: bool = Field(False, description="True when the GPU stopped answering (XID error, driver reload)")
    error: str | None = None


class GpuInfo(WireModel):
    """What the agent knows about one GPU, and which source told it."""

    index: int
    name: str
    uuid: str | None = None
    pci_bus_id: str | None = None
    memory_total_mb: float | None = None
    memory_used_mb: float | None = None
    memory_free_mb: float | None = None
    compute_capability: list[int] | None = Field(None, description="[major, minor]")
    architecture: str | None = None
    tensor_core_generation: int | None = None
    supported_precisions: list[str] = Field(default_factory=list)
    sm_count: int | None = None
    cuda_cores: int | None = None
    driver_version: str | None = None
    cuda_version: str | None = None
    pcie_generation: int | None = None
    pcie_width: int | None = None
    ecc_enabled: bool | None = None
    mig_mode: bool | None = None
    mig_devices: list[MigDevice] = Field(default_factory=list)
    processes: list[GpuProcess] = Field(default_factory=list)
    detection_method: DetectionSource
    live: GpuReading | None = None
    benchmark_results: dict[str, Any] | None = None


class SourceError(WireModel):
    """Why one detection source gave nothing."""

    source: DetectionSource
    reason: Literal[
        "library_not_found",
        "driver_not_loaded",
        "driver_library_mismatch",
        "no_permission",
        "timeout",
        "not_installed",
        "no_device",
        "parse_error",
        "error",
    ]
    message: str


class GpuDetection(WireModel):
    """The GPU part of detection: the GPUs found and why any source failed."""

    gpus: list[GpuInfo] = Field(default_factory=list)
    sources_tried: list[DetectionSource] = Field(default_factory=list)
    detection_errors: list[SourceError] = Field(default_factory=list)
    summary: str = ""
