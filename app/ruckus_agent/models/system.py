"""System description served by /api/v1/info, in the seed's shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from ruckus_agent.models.common import WireModel, utcnow
from ruckus_agent.models.gpu import GpuInfo, SourceError


class SystemDetails(WireModel):
    hostname: str
    os: str = Field(description="e.g. Linux, Windows, Darwin")
    os_release: str | None = Field(
        None, description="Distribution name and version, e.g. 'Debian GNU/Linux 12'"
    )
    kernel: str | None = None
    architecture: str
    python_version: str
    python_implementation: str
    boot_time: datetime | None = None


class CpuInfo(WireModel):
    model: str | None = None
    vendor: str | None = None
    architecture: str
    physical_cores: int | None = None
    logical_cores: int
    frequency_mhz: float | None = None
    frequency_max_mhz: float | None = None
    features: dict[str, bool] = Field(
        default_factory=dict,
        description="ML-relevant ISA features: avx2, avx512f, avx512_bf16, amx_bf16, ...",
    )
    l2_cache_kb: int | None = None
    l3_cache_kb: int | None = None


class MemoryInfo(WireModel):
    total_mb: float
    available_mb: float
    used_percent: float
    swap_total_mb: float | None = None


class FrameworkInfo(WireModel):
    name: str
    version: str
    gpu_support: bool | None = Field(None, description="null when it cannot be known without importing")
    detail: str | None = Field(None, description="What gpu_support was read from")


class ModelInfo(WireModel):
    name: str
    path: str
    format: str | None = Field(None, description="safetensors, pytorch, gguf, onnx, ...")
    size_bytes: int | None = None
    architecture: str | None = None
    parameter_count: int | None = None
    parameter_count_source: str | None = Field(
        None,
        description="safetensors_header (exact: summed from the weight files' headers) or config_estimate",
    )
    dtype: str | None = None


class SystemInfo(WireModel):
    system: SystemDetails
    cpu: CpuInfo
    memory: MemoryInfo
    gpus: list[GpuInfo] = Field(default_factory=list)
    gpu_detection_errors: list[SourceError] = Field(default_factory=list)
    gpu_detection_summary: str = ""
    frameworks: list[FrameworkInfo] = Field(default_factory=list)
    models: list[ModelInfo] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list, description="Metric families this agent can collect")
    detection_seconds: float | None = None


class Capabilities(WireModel):
    agent_type: str
    task_types: list[str] = Field(default_factory=list)
    precisions_by_device: dict[str, list[str]] = Field(default_factory=dict)
    max_concurrent_jobs: int


class AgentInfo(WireModel):
    agent_id: str
    agent_name: str
    agent_type: str
    version: str
    system_info: SystemInfo
    capabilities: Capabilities
    cpu_benchmark_results: dict[str, Any] | None = None
    last_updated: datetime = Field(default_factory=utcnow)
