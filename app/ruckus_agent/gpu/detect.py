"""GPU detection: NVML first, then torch.cuda and `nvidia-smi -q -x`; merged, enriched, explained."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from ruckus_agent.gpu.capabilities import (
    architecture_from_name,
    architecture_name,
    architecture_precisions,
    architecture_tensor_core_generation,
    supported_precisions,
    tensor_core_generation,
)
from ruckus_agent.gpu.nvml import NvmlGateway
from ruckus_agent.gpu.nvml_source import detect_nvml
from ruckus_agent.gpu.smi import SmiError, parse_nvidia_smi_xml, run_nvidia_smi
from ruckus_agent.gpu.torch_source import detect_torch
from ruckus_agent.models.gpu import DetectionSource, GpuDetection, GpuInfo, GpuReading, SourceError

_BUS_ID = re.compile(r"^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$")
_KEEP = {"index", "detection_method", "timestamp"}


# --- enrichment and merging ---


def enrich(gpu: GpuInfo) -> GpuInfo:
    """Fill architecture, tensor-core generation and precisions from compute capability (else the family)."""
    cc = gpu.compute_capability
    if cc:
        arch = architecture_name(cc) or gpu.architecture
        return gpu.model_copy(
            update={
                "architecture": arch,
                "tensor_core_generation": tensor_core_generation(cc),
                "supported_precisions": supported_precisions(cc),
            }
        )
    arch = gpu.architecture or architecture_from_name(gpu.name)
    return gpu.model_copy(
        update={
            "architecture": arch,
            "tensor_core_generation": architecture_tensor_core_generation(arch),
            "supported_precisions": gpu.supported_precisions or architecture_precisions(arch),
        }
    )


def uuid_key(uuid: str | None) -> str | None:
    """UUID compared without case or the "GPU-" prefix (torch omits it)."""
    if not uuid:
        return None
    text = uuid.strip().lower()
    return text.removeprefix("gpu-") or None


def bus_key(bus_id: str | None) -> tuple[int, int, int, int] | None:
    """PCI bus id compared as numbers: "0000:00:03.0" and "00000000:00:03.0" are the same device."""
    match = _BUS_ID.match(bus_id.strip()) if bus_id else None
    if not match:
        return None
    domain, bus, device, function = match.groups()
    return int(domain or "0", 16), int(bus, 16), int(device, 16), int(function)


def same_gpu(a: GpuInfo, b: GpuInfo) -> bool:
    """Same device: by uuid when both have one, else by PCI bus id, else by index."""
    ua, ub = uuid_key(a.uuid), uuid_key(b.uuid)
    if ua and ub:
        return ua == ub
    ba, bb = bus_key(a.pci_bus_id), bus_key(b.pci_bus_id)
    if ba and bb:
        return ba == bb
    return a.index == b.index


def _fill_reading(first: GpuReading | None, other: GpuReading | None) -> GpuReading | None:
    if first is None or other is None:
        return first or other
    update = {
        k: v for k, v in other if k not in _KEEP and getattr(first, k) in (None, []) and v not in (None, [])
    }
    return first.model_copy(update=update) if update else first


def _fill(first: GpuInfo, other: GpuInfo) -> GpuInfo:
    """`first` with its empty fields taken from `other`; `first` keeps its index and detection_method."""
    update: dict[str, Any] = {
        k: v
        for k, v in other
        if k not in _KEEP and k != "live" and getattr(first, k) in (None, []) and v not in (None, [])
    }
    update["live"] = _fill_reading(first.live, other.live)
    return first.model_copy(update=update)


def merge_gpus(*sources: list[GpuInfo]) -> list[GpuInfo]:
    """Merge per-source lists (earlier sources win); a GPU only a later source saw is appended."""
    merged: list[GpuInfo] = []
    for gpus in sources:
        for gpu in gpus:
            at = next((i for i, seen in enumerate(merged) if same_gpu(seen, gpu)), None)
            if at is None:
                merged.append(gpu)
            else:
                merged[at] = _fill(merged[at], gpu)
    return merged


# --- explanation ---


def summarize(gpus: list[GpuInfo], errors: list[SourceError]) -> str:
    """One plain-English line: what was found and why any source gave nothing."""
    parts: list[str] = []
    if gpus:
        methods = ", ".join(dict.fromkeys(g.detection_method for g in gpus))
        names = ", ".join(
            f"{n}x {name}" if n > 1 else name for name, n in Counter(g.name for g in gpus).items()
        )
        parts.append(f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''} found via {methods}: {names}")
    parts.extend(e.message for e in errors)
    return "; ".join(parts) or "No GPU found"


def _finish(gpus: list[GpuInfo], tried: list[DetectionSource], errors: list[SourceError]) -> GpuDetection:
    enriched = [enrich(g) for g in gpus]
    return GpuDetection(
        gpus=enriched, sources_tried=tried, detection_errors=errors, summary=summarize(enriched, errors)
    )


def _guarded(
    source: DetectionSource, fn: Callable[[], tuple[list[GpuInfo], SourceError | None]]
) -> tuple[list[GpuInfo], SourceError | None]:
    """Run one source; a bug in it becomes that source's error instead of failing detection."""
    try:
        return fn()
    except Exception as exc:
        return [], SourceError(source=source, reason="error", message=f"{source} failed: {exc!r}")


def _smi_from_xml(xml_text: str) -> tuple[list[GpuInfo], SourceError | None]:
    try:
        gpus = parse_nvidia_smi_xml(xml_text)
    except SmiError as exc:
        return [], SourceError(source="nvidia-smi", reason=exc.reason, message=exc.message)
    if not gpus:
        return [], SourceError(source="nvidia-smi", reason="no_device", message="nvidia-smi reports no GPU")
    return gpus, None


def _smi(binary: str, timeout_s: float) -> tuple[list[GpuInfo], SourceError | None]:
    try:
        xml_text = run_nvidia_smi(binary, timeout_s)
    except SmiError as exc:
        return [], SourceError(source="nvidia-smi", reason=exc.reason, message=exc.message)
    return _smi_from_xml(xml_text)


# --- entry points ---


def detect_from_nvidia_smi_xml(xml_text: str) -> GpuDetection:
    """Detection from a recorded `nvidia-smi -q -x` report (pure: runs nothing)."""
    gpus, error = _smi_from_xml(xml_text)
    return _finish(gpus, ["nvidia-smi"], [error] if error else [])


def detect_gpus(
    *,
    nvml: Any | None = None,
    torch_module: Any | None = None,
    nvidia_smi: str | None = "nvidia-smi",
    timeout_s: float = 5.0,
) -> GpuDetection:
    """Detect GPUs (blocking; run it in a thread). Never raises.

    NVML first; only if it gives nothing, torch.cuda (when installed) and `nvidia-smi` (unless None),
    merged by uuid, else PCI bus id, else index. `nvml` is an nvml module (default: pynvml) or an NvmlGateway.
    """
    gateway = nvml if isinstance(nvml, NvmlGateway) else NvmlGateway(nvml)
    tried: list[DetectionSource] = ["nvml"]
    errors: list[SourceError] = []
    try:
        gpus, error = _guarded("nvml", lambda: detect_nvml(gateway))
    finally:
        if gateway is not nvml:
            gateway.shutdown()
    if error is None:
        return _finish(gpus, tried, errors)
    errors.append(error)

    found: list[list[GpuInfo]] = []
    tried.append("torch")
    torch_gpus, error = _guarded("torch", lambda: detect_torch(torch_module))
    found.append(torch_gpus)
    if error:
        errors.append(error)
    if nvidia_smi:
        tried.append("nvidia-smi")
        smi_gpus, error = _guarded("nvidia-smi", lambda: _smi(nvidia_smi, timeout_s))
        found.append(smi_gpus)
        if error:
            errors.append(error)
    return _finish(merge_gpus(*found), tried, errors)
