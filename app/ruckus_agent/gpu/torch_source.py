"""torch.cuda source, for machines where NVML is missing: name, memory, compute capability, SM count.

torch is imported only when asked and installed (found with importlib.util.find_spec first), and not at all
for a CPU-only wheel ("+cpu" in its metadata). The module is injectable: tests pass a fake with `cuda`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from typing import Any

from ruckus_agent.models.gpu import GpuInfo, SourceError


def _uuid_text(value: Any) -> str | None:
    """torch prints device UUIDs without NVML's "GPU-" prefix; add it so the sources agree."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text if text.upper().startswith(("GPU-", "MIG-")) else f"GPU-{text}"


def _bus_id(props: Any) -> str | None:
    """NVML-style bus id ("00000000:84:00.0") from torch's pci_domain_id/pci_bus_id/pci_device_id."""
    parts = [getattr(props, name, None) for name in ("pci_domain_id", "pci_bus_id", "pci_device_id")]
    if not all(isinstance(part, int) for part in parts):
        return None
    domain, bus, device = parts
    return f"{domain:08X}:{bus:02X}:{device:02X}.0"


def _info(index: int, props: Any, is_rocm: bool) -> GpuInfo:
    total = getattr(props, "total_memory", None)
    major, minor = getattr(props, "major", None), getattr(props, "minor", None)
    has_cc = isinstance(major, int) and isinstance(minor, int) and not is_rocm  # ROCm reports gfx numbers
    sm_count = getattr(props, "multi_processor_count", None)
    return GpuInfo(
        index=index,
        name=str(getattr(props, "name", "") or "Unknown GPU"),
        uuid=_uuid_text(getattr(props, "uuid", None)),
        pci_bus_id=_bus_id(props),
        memory_total_mb=float(total) / 2**20 if total else None,
        compute_capability=[major, minor] if has_cc else None,
        sm_count=int(sm_count) if sm_count else None,
        detection_method="torch",
    )


def installed_version() -> str | None:
    """torch's version from its distribution metadata ("2.13.0+cpu"), without importing torch."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def detect_torch(torch_module: Any | None = None) -> tuple[list[GpuInfo], SourceError | None]:
    """Every CUDA device torch sees, or why it sees none. Never imports torch to learn it is absent."""
    if torch_module is None:
        if importlib.util.find_spec("torch") is None:
            return [], SourceError(source="torch", reason="not_installed", message="torch is not installed")
        version_text = installed_version()
        if (
            version_text and version_text.partition("+")[2] == "cpu"
        ):  # a CPU wheel never sees a GPU: skip the import
            message = f"torch is installed but sees no CUDA device (CPU-only build {version_text})"
            return [], SourceError(source="torch", reason="no_device", message=message)
        try:
            torch_module = importlib.import_module("torch")
        except Exception as exc:  # a broken install raises anything
            return [], SourceError(source="torch", reason="error", message=f"torch failed to import: {exc}")
    version = getattr(torch_module, "version", None)
    is_rocm = bool(getattr(version, "hip", None))
    try:
        cuda = torch_module.cuda
        if not cuda.is_available() or cuda.device_count() == 0:
            cpu_only = version is not None and getattr(version, "cuda", None) is None and not is_rocm
            note = " (CPU-only build)" if cpu_only else ""
            message = f"torch is installed but sees no CUDA device{note}"
            return [], SourceError(source="torch", reason="no_device", message=message)
        gpus = [_info(i, cuda.get_device_properties(i), is_rocm) for i in range(cuda.device_count())]
    except Exception as exc:  # CUDA init failures arrive as RuntimeError, AssertionError, ...
        return [], SourceError(source="torch", reason="error", message=f"torch.cuda failed: {exc}")
    return gpus, None
