"""The human text of `ruckus-agent detect`: each GPU, the source that found it, and why any source failed."""

from __future__ import annotations

from ruckus_agent.models.gpu import DetectionSource, GpuDetection, GpuInfo, GpuReading

_SOURCES: tuple[DetectionSource, ...] = ("nvml", "torch", "nvidia-smi")


def _num(value: float | None, unit: str, digits: int = 0) -> str | None:
    return None if value is None else f"{value:.{digits}f} {unit}".replace(" %", "%")


def _join(*parts: str | None, sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)


def _memory(gpu: GpuInfo) -> str | None:
    if gpu.memory_total_mb is None:
        return None
    used = f", {gpu.memory_used_mb:.0f} MiB used" if gpu.memory_used_mb is not None else ""
    return f"memory {gpu.memory_total_mb:.0f} MiB{used}"


def _compute(gpu: GpuInfo) -> str | None:
    cc = (
        f"compute capability {gpu.compute_capability[0]}.{gpu.compute_capability[1]}"
        if gpu.compute_capability
        else None
    )
    arch = gpu.architecture
    tc = f"tensor cores gen {gpu.tensor_core_generation}" if gpu.tensor_core_generation else None
    precisions = f"precisions {' '.join(gpu.supported_precisions)}" if gpu.supported_precisions else None
    return _join(_join(cc, arch, sep=" ") if cc and arch else cc or arch, tc, precisions) or None


def _platform(gpu: GpuInfo) -> str | None:
    pcie = None
    if gpu.pcie_generation or gpu.pcie_width:
        pcie = "PCIe" + (f" gen {gpu.pcie_generation}" if gpu.pcie_generation else "")
        pcie += f" x{gpu.pcie_width}" if gpu.pcie_width else ""
    mig = None
    if gpu.mig_mode is not None:
        mig = f"MIG {'on' if gpu.mig_mode else 'off'}"
        mig += f" ({len(gpu.mig_devices)} devices)" if gpu.mig_devices else ""
    ecc = None if gpu.ecc_enabled is None else f"ECC {'on' if gpu.ecc_enabled else 'off'}"
    return (
        _join(
            f"driver {gpu.driver_version}" if gpu.driver_version else None,
            f"CUDA {gpu.cuda_version}" if gpu.cuda_version else None,
            pcie,
            ecc,
            mig,
        )
        or None
    )


def _live(r: GpuReading | None) -> str | None:
    if r is None:
        return None
    if r.lost:
        return f"LOST: {r.error or 'the GPU stopped answering'}"
    power = None
    if r.power_usage_w is not None:
        power = f"{r.power_usage_w:.1f} W" + (
            f" of {r.power_limit_w:.0f} W" if r.power_limit_w is not None else ""
        )
    util = None
    if r.utilization_gpu_pct is not None:
        util = f"util {r.utilization_gpu_pct:.0f}%"
        util += f" (memory {r.utilization_memory_pct:.0f}%)" if r.utilization_memory_pct is not None else ""
    text = _join(
        _num(r.temperature_c, "°C"),
        power,
        util,
        f"SM {r.clock_sm_mhz:.0f} MHz" if r.clock_sm_mhz is not None else None,
        f"memory {r.clock_mem_mhz:.0f} MHz" if r.clock_mem_mhz is not None else None,
        f"fan {r.fan_speed_pct:.0f}%" if r.fan_speed_pct is not None else None,
        r.pstate,
        f"clocks held back by {' '.join(r.throttle_reasons)}" if r.throttle_reasons else None,
    )
    return f"now: {text}" if text else None


def _gpu_lines(gpu: GpuInfo) -> list[str]:
    lines = [f"  [{gpu.index}] {gpu.name}  (via {gpu.detection_method})"]
    ids = _join(f"uuid {gpu.uuid}" if gpu.uuid else None, f"bus {gpu.pci_bus_id}" if gpu.pci_bus_id else None)
    for detail in (ids, _memory(gpu), _compute(gpu), _platform(gpu), _live(gpu.live)):
        if detail:
            lines.append(f"      {detail}")
    return lines


def _source_line(detection: GpuDetection, source: DetectionSource) -> str:
    error = next((e for e in detection.detection_errors if e.source == source), None)
    if error is not None:
        status = f"failed ({error.reason}): {error.message}"
    elif source in detection.sources_tried:
        n = sum(1 for g in detection.gpus if g.detection_method == source)
        status = f"ok, {n} GPU{'s' if n != 1 else ''}" if n else "ok"
    else:
        status = "not needed" if detection.gpus else "not tried"
    return f"  {source:<11} {status}"


def format_report(detection: GpuDetection) -> str:
    """Multi-line report: summary, each GPU with its source and details, then the state of every source."""
    n = len(detection.gpus)
    lines = [
        f"GPUs: {n} found" if n else "GPUs: none found",
        f"  {detection.summary}" if detection.summary else "",
    ]
    lines = [line for line in lines if line]
    for gpu in detection.gpus:
        lines.extend(_gpu_lines(gpu))
    lines.append("Sources (in order):")
    lines.extend(_source_line(detection, s) for s in _SOURCES)
    return "\n".join(lines)
