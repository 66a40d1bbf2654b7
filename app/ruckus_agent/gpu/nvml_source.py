"""NVML source: static GpuInfo per device and one live GpuReading per device, through the gateway."""

from __future__ import annotations

from typing import Any

from ruckus_agent.gpu.nvml import (
    LOST_CODES,
    GpuLostError,
    NvmlGateway,
    as_text,
    bytes_to_mib,
    cuda_version_text,
    decode_clock_event_reasons,
    error_text,
    milli_to_unit,
)
from ruckus_agent.models.common import utcnow
from ruckus_agent.models.gpu import GpuInfo, GpuProcess, GpuReading, MigDevice, SourceError

NVML_TEMPERATURE_GPU = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_PSTATE_UNKNOWN = 32

CLOCK_EVENT_FUNCS = ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons")


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _enabled(pair: Any) -> bool | None:
    """(current, pending) mode pair → current as bool."""
    if pair is None:
        return None
    current = pair[0] if isinstance(pair, (tuple, list)) else pair
    return bool(current)


def read_slow_fields(gw: NvmlGateway, handle: Any) -> dict[str, Any]:
    """Fields that change rarely (limit, fan, P-state, throttle reasons): the reader refreshes them about once
    a second rather than on every fast (10 Hz) sample."""
    q = gw.query
    pstate = q("nvmlDeviceGetPerformanceState", handle)
    return {
        "power_limit_w": milli_to_unit(q("nvmlDeviceGetEnforcedPowerLimit", handle)),  # mW
        "fan_speed_pct": _float(q("nvmlDeviceGetFanSpeed", handle)),
        "throttle_reasons": decode_clock_event_reasons(gw.query_first(CLOCK_EVENT_FUNCS, handle)),
        "pstate": f"P{pstate}" if pstate is not None and pstate != NVML_PSTATE_UNKNOWN else None,
    }


def read_device(
    gw: NvmlGateway, handle: Any, index: int, uuid: str | None = None, slow: dict[str, Any] | None = None
) -> GpuReading:
    """One live sample of one device; raises GpuLostError when the device stops answering.

    `slow` reuses earlier read_slow_fields() values; without it they are read now.
    """
    q = gw.query
    memory = q("nvmlDeviceGetMemoryInfo", handle, lost_on=LOST_CODES)  # the probe: UNKNOWN here means lost
    util = q("nvmlDeviceGetUtilizationRates", handle)
    if slow is None:
        slow = read_slow_fields(gw, handle)
    # model_construct: every value is already typed here, and this runs up to 10 times a second per GPU
    return GpuReading.model_construct(
        index=index,
        uuid=uuid,
        timestamp=utcnow(),
        temperature_c=_float(q("nvmlDeviceGetTemperature", handle, NVML_TEMPERATURE_GPU)),
        power_usage_w=milli_to_unit(q("nvmlDeviceGetPowerUsage", handle)),  # mW
        utilization_gpu_pct=_float(util.gpu) if util is not None else None,
        utilization_memory_pct=_float(util.memory) if util is not None else None,
        memory_used_mb=bytes_to_mib(memory.used) if memory is not None else None,
        memory_free_mb=bytes_to_mib(memory.free) if memory is not None else None,
        memory_total_mb=bytes_to_mib(memory.total) if memory is not None else None,
        clock_sm_mhz=_float(q("nvmlDeviceGetClockInfo", handle, NVML_CLOCK_SM)),
        clock_mem_mhz=_float(q("nvmlDeviceGetClockInfo", handle, NVML_CLOCK_MEM)),
        energy_total_j=milli_to_unit(q("nvmlDeviceGetTotalEnergyConsumption", handle)),  # mJ
        lost=False,
        error=None,
        **slow,
    )


def lost_reading(index: int, uuid: str | None, error: str) -> GpuReading:
    """The reading of a device that stopped answering."""
    return GpuReading(index=index, uuid=uuid, lost=True, error=error)


def _mig_devices(gw: NvmlGateway, handle: Any) -> list[MigDevice]:
    count = gw.query("nvmlDeviceGetMaxMigDeviceCount", handle) or 0
    out: list[MigDevice] = []
    for slot in range(count):
        mig = gw.query("nvmlDeviceGetMigDeviceHandleByIndex", handle, slot)
        if mig is None:  # empty slot
            continue
        memory = gw.query("nvmlDeviceGetMemoryInfo", mig)
        out.append(
            MigDevice(
                index=slot,
                gpu_instance_id=gw.query("nvmlDeviceGetGpuInstanceId", mig),
                compute_instance_id=gw.query("nvmlDeviceGetComputeInstanceId", mig),
                uuid=as_text(gw.query("nvmlDeviceGetUUID", mig)),
                memory_total_mb=bytes_to_mib(memory.total) if memory is not None else None,
                memory_used_mb=bytes_to_mib(memory.used) if memory is not None else None,
            )
        )
    return out


def _processes(gw: NvmlGateway, handle: Any) -> list[GpuProcess]:
    procs = gw.query("nvmlDeviceGetComputeRunningProcesses", handle) or []
    return [
        GpuProcess(
            pid=int(p.pid),
            name=as_text(gw.query("nvmlSystemGetProcessName", p.pid)),
            used_memory_mb=bytes_to_mib(getattr(p, "usedGpuMemory", None)),  # None under WDDM
        )
        for p in procs
    ]


def _sm_count(gw: NvmlGateway, handle: Any) -> int | None:
    attrs = gw.query("nvmlDeviceGetAttributes", handle)
    count = getattr(attrs, "multiprocessorCount", None) if attrs is not None else None
    return int(count) if count else None


def read_info(gw: NvmlGateway, handle: Any, index: int, driver: str | None, cuda: str | None) -> GpuInfo:
    """Static description of one device plus a first live reading."""
    uuid = as_text(gw.query("nvmlDeviceGetUUID", handle))
    pci = gw.query("nvmlDeviceGetPciInfo", handle)
    memory = gw.query("nvmlDeviceGetMemoryInfo", handle)
    cc = gw.query("nvmlDeviceGetCudaComputeCapability", handle)
    mig_mode = _enabled(gw.query("nvmlDeviceGetMigMode", handle))
    return GpuInfo(
        index=index,
        name=as_text(gw.query("nvmlDeviceGetName", handle)) or "Unknown NVIDIA GPU",
        uuid=uuid,
        pci_bus_id=as_text(getattr(pci, "busId", None)) if pci is not None else None,
        memory_total_mb=bytes_to_mib(memory.total) if memory is not None else None,
        memory_used_mb=bytes_to_mib(memory.used) if memory is not None else None,
        memory_free_mb=bytes_to_mib(memory.free) if memory is not None else None,
        compute_capability=[int(cc[0]), int(cc[1])] if cc is not None else None,
        sm_count=_sm_count(gw, handle),
        cuda_cores=gw.query("nvmlDeviceGetNumGpuCores", handle),
        driver_version=driver,
        cuda_version=cuda,
        pcie_generation=gw.query("nvmlDeviceGetMaxPcieLinkGeneration", handle),
        pcie_width=gw.query("nvmlDeviceGetCurrPcieLinkWidth", handle),
        ecc_enabled=_enabled(gw.query("nvmlDeviceGetEccMode", handle)),
        mig_mode=mig_mode,
        mig_devices=_mig_devices(gw, handle) if mig_mode else [],
        processes=_processes(gw, handle),
        detection_method="nvml",
        live=read_device(gw, handle, index, uuid),
    )


def detect_nvml(gw: NvmlGateway) -> tuple[list[GpuInfo], SourceError | None]:
    """Every GPU NVML sees, or why NVML gives nothing."""
    error = gw.init()
    if error is not None:
        return [], error
    try:
        count = gw.call("nvmlDeviceGetCount")
    except gw.module.NVMLError as exc:
        return [], SourceError(
            source="nvml", reason="error", message=f"nvmlDeviceGetCount failed: {error_text(exc)}"
        )
    if not count:
        return [], SourceError(source="nvml", reason="no_device", message="NVML is working but sees no GPU")
    driver = as_text(gw.query("nvmlSystemGetDriverVersion"))
    cuda = cuda_version_text(
        gw.query_first(("nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"))
    )
    gpus: list[GpuInfo] = []
    for index in range(count):
        try:
            handle = gw.call("nvmlDeviceGetHandleByIndex", index)
            gpus.append(read_info(gw, handle, index, driver, cuda))
        except GpuLostError as exc:
            gpus.append(_unanswered(index, driver, cuda, str(exc)))
        except gw.module.NVMLError as exc:
            gpus.append(_unanswered(index, driver, cuda, error_text(exc)))
    return gpus, None


def _unanswered(index: int, driver: str | None, cuda: str | None, why: str) -> GpuInfo:
    """A device NVML counts but cannot read (lost, or its handle fails): listed, marked lost."""
    return GpuInfo(
        index=index,
        name="Unknown NVIDIA GPU",
        driver_version=driver,
        cuda_version=cuda,
        detection_method="nvml",
        live=GpuReading(index=index, lost=True, error=f"GPU {index} does not answer: {why}"),
    )
