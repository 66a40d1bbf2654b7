"""GPU layer: the only package that talks to NVML, torch.cuda and nvidia-smi.

Importing it is cheap: pynvml and torch are imported only when a detection or a reader needs them.
"""

from __future__ import annotations

from ruckus_agent.gpu.capabilities import (
    PeakSpec,
    architecture_name,
    lookup_peak,
    supported_precisions,
    tensor_core_generation,
)
from ruckus_agent.gpu.detect import detect_from_nvidia_smi_xml, detect_gpus, merge_gpus
from ruckus_agent.gpu.nvml import GpuLostError, NvmlGateway
from ruckus_agent.gpu.reader import GpuReader
from ruckus_agent.gpu.report import format_report
from ruckus_agent.gpu.smi import SmiError, parse_nvidia_smi_xml, run_nvidia_smi

__all__ = [
    "GpuLostError",
    "GpuReader",
    "NvmlGateway",
    "PeakSpec",
    "SmiError",
    "architecture_name",
    "detect_from_nvidia_smi_xml",
    "detect_gpus",
    "format_report",
    "lookup_peak",
    "merge_gpus",
    "parse_nvidia_smi_xml",
    "run_nvidia_smi",
    "supported_precisions",
    "tensor_core_generation",
]
