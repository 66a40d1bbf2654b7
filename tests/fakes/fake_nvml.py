"""A fake NVML module: pynvml's function names, error classes and constants over scripted devices.

Errors are pynvml's own classes (raised as `pynvml.NVMLError(code)`, which picks the subclass), so
`except module.NVMLError` behaves exactly as with the real library. Only the hardware is faked.

    nvml = FakeNvml([rtx_4090(), h100()])
    detect_gpus(nvml=nvml)
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml

MIB = 2**20

# Defaults from nvml.h, for readability of the device scripts below.
NOT_SUPPORTED = pynvml.NVML_ERROR_NOT_SUPPORTED
GPU_IS_LOST = pynvml.NVML_ERROR_GPU_IS_LOST


@dataclass
class FakeProcess:
    pid: int
    name: str
    used_memory_bytes: int | None  # None: NVML's "not available" (WDDM)


@dataclass
class FakeMigDevice:
    uuid: str
    gpu_instance_id: int
    compute_instance_id: int
    memory_total_bytes: int
    memory_used_bytes: int


@dataclass
class FakeGpu:
    """One scripted device. A field set to None makes its NVML getter raise NVML_ERROR_NOT_SUPPORTED."""

    name: str
    uuid: str
    pci_bus_id: str
    memory_total_bytes: int
    memory_used_bytes: int
    compute_capability: tuple[int, int]
    sm_count: int | None = None
    cuda_cores: int | None = None
    temperature_c: int | None = 40
    power_usage_mw: int | None = 30_000
    power_limit_mw: int | None = 300_000
    utilization_gpu_pct: int | None = 0
    utilization_memory_pct: int | None = 0
    clock_sm_mhz: int | None = 210
    clock_mem_mhz: int | None = 405
    fan_speed_pct: int | None = None
    energy_mj: int | None = None
    clock_event_reasons: int | None = 0x1  # gpu_idle
    pstate: int | None = 8
    pcie_generation_max: int | None = 4
    pcie_width: int | None = 16
    ecc_mode: bool | None = None
    mig_mode: bool | None = None
    mig_devices: list[FakeMigDevice] = field(default_factory=list)
    processes: list[FakeProcess] = field(default_factory=list)
    # function name → NVML error code it raises on this device, e.g. {"nvmlDeviceGetFanSpeed": 999}
    errors: dict[str, int] = field(default_factory=dict)
    # Lost once this many samples were taken (one sample = one nvmlDeviceGetUtilizationRates call).
    lost_after_reads: int | None = None
    lost: bool = False
    reads: int = 0


@dataclass(frozen=True)
class FakeHandle:
    index: int


@dataclass(frozen=True)
class FakeMigHandle:
    parent: int
    slot: int


def _raise(code: int) -> Any:
    raise pynvml.NVMLError(code)


class FakeNvml:
    """Drop-in for the `pynvml` module over a list of FakeGpu. `calls` counts every function called."""

    def __init__(
        self,
        gpus: list[FakeGpu] | None = None,
        *,
        init_error: int | None = None,
        driver_version: str = "535.86.05",
        cuda_driver_version: int = 12020,
    ) -> None:
        self.gpus = list(gpus or [])
        self.init_error = init_error
        self.driver_version = driver_version
        self.cuda_driver_version = cuda_driver_version
        self.init_count = 0
        self.calls: Counter[str] = Counter()

    # pynvml's exception classes and constants, borrowed from the real module.
    NVMLError = pynvml.NVMLError

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("NVMLError_", "NVML_", "nvmlClocks")):
            return getattr(pynvml, name)
        raise AttributeError(name)  # a function this fake (and an older pynvml) lacks

    # --- bookkeeping ---

    def _enter(self, func: str) -> None:
        self.calls[func] += 1
        if self.init_count <= 0:
            _raise(pynvml.NVML_ERROR_UNINITIALIZED)

    def _gpu(self, func: str, handle: FakeHandle, *, sample: bool = False) -> FakeGpu:
        self._enter(func)
        if not isinstance(handle, FakeHandle) or not 0 <= handle.index < len(self.gpus):
            _raise(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        gpu = self.gpus[handle.index]
        if sample and not gpu.lost:
            gpu.reads += 1
            if gpu.lost_after_reads is not None and gpu.reads > gpu.lost_after_reads:
                gpu.lost = True
        if gpu.lost:
            _raise(GPU_IS_LOST)
        if func in gpu.errors:
            _raise(gpu.errors[func])
        return gpu

    def _value(self, func: str, handle: FakeHandle, attr: str, *, sample: bool = False) -> Any:
        value = getattr(self._gpu(func, handle, sample=sample), attr)
        return _raise(NOT_SUPPORTED) if value is None else value

    def lose(self, index: int) -> None:
        """The device falls off the bus now (XID 79)."""
        self.gpus[index].lost = True

    # --- library ---

    def nvmlInit(self) -> None:
        self.calls["nvmlInit"] += 1
        if self.init_error is not None:
            _raise(self.init_error)
        self.init_count += 1

    def nvmlShutdown(self) -> None:
        self._enter("nvmlShutdown")
        self.init_count -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        self._enter("nvmlSystemGetDriverVersion")
        return self.driver_version

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._enter("nvmlSystemGetCudaDriverVersion")
        return self.cuda_driver_version

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        self._enter("nvmlSystemGetCudaDriverVersion_v2")
        return self.cuda_driver_version

    def nvmlSystemGetProcessName(self, pid: int) -> str:
        self._enter("nvmlSystemGetProcessName")
        for gpu in self.gpus:
            for proc in gpu.processes:
                if proc.pid == pid:
                    return proc.name
        return _raise(pynvml.NVML_ERROR_NOT_FOUND)

    def nvmlDeviceGetCount(self) -> int:
        self._enter("nvmlDeviceGetCount")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeHandle:
        self._enter("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self.gpus):
            _raise(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        if self.gpus[index].lost:
            _raise(GPU_IS_LOST)
        return FakeHandle(index)

    # --- device: static ---

    def nvmlDeviceGetName(self, handle: FakeHandle) -> str:
        return self._value("nvmlDeviceGetName", handle, "name")

    def nvmlDeviceGetUUID(self, handle: FakeHandle | FakeMigHandle) -> str:
        if isinstance(handle, FakeMigHandle):
            return self._mig("nvmlDeviceGetUUID", handle).uuid
        return self._value("nvmlDeviceGetUUID", handle, "uuid")

    def nvmlDeviceGetPciInfo(self, handle: FakeHandle) -> Any:
        gpu = self._gpu("nvmlDeviceGetPciInfo", handle)
        return SimpleNamespace(busId=gpu.pci_bus_id.encode(), busIdLegacy=gpu.pci_bus_id[4:].encode())

    def nvmlDeviceGetCudaComputeCapability(self, handle: FakeHandle) -> tuple[int, int]:
        return self._value("nvmlDeviceGetCudaComputeCapability", handle, "compute_capability")

    def nvmlDeviceGetNumGpuCores(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetNumGpuCores", handle, "cuda_cores")

    def nvmlDeviceGetAttributes(self, handle: FakeHandle) -> Any:
        return SimpleNamespace(multiprocessorCount=self._value("nvmlDeviceGetAttributes", handle, "sm_count"))

    def nvmlDeviceGetMaxPcieLinkGeneration(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetMaxPcieLinkGeneration", handle, "pcie_generation_max")

    def nvmlDeviceGetCurrPcieLinkWidth(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetCurrPcieLinkWidth", handle, "pcie_width")

    def nvmlDeviceGetEccMode(self, handle: FakeHandle) -> list[int]:
        on = self._value("nvmlDeviceGetEccMode", handle, "ecc_mode")
        return [int(on), int(on)]

    def nvmlDeviceGetMigMode(self, handle: FakeHandle) -> list[int]:
        on = self._value("nvmlDeviceGetMigMode", handle, "mig_mode")
        return [int(on), int(on)]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: FakeHandle) -> int:
        gpu = self._gpu("nvmlDeviceGetMaxMigDeviceCount", handle)
        return 7 if gpu.mig_mode else _raise(NOT_SUPPORTED)

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: FakeHandle, slot: int) -> FakeMigHandle:
        gpu = self._gpu("nvmlDeviceGetMigDeviceHandleByIndex", handle)
        if slot >= len(gpu.mig_devices):
            _raise(pynvml.NVML_ERROR_NOT_FOUND)
        return FakeMigHandle(handle.index, slot)

    def _mig(self, func: str, handle: FakeMigHandle) -> FakeMigDevice:
        return self._gpu(func, FakeHandle(handle.parent)).mig_devices[handle.slot]

    def nvmlDeviceGetGpuInstanceId(self, handle: FakeMigHandle) -> int:
        return self._mig("nvmlDeviceGetGpuInstanceId", handle).gpu_instance_id

    def nvmlDeviceGetComputeInstanceId(self, handle: FakeMigHandle) -> int:
        return self._mig("nvmlDeviceGetComputeInstanceId", handle).compute_instance_id

    def nvmlDeviceGetComputeRunningProcesses(self, handle: FakeHandle) -> list[Any]:
        gpu = self._gpu("nvmlDeviceGetComputeRunningProcesses", handle)
        return [SimpleNamespace(pid=p.pid, usedGpuMemory=p.used_memory_bytes) for p in gpu.processes]

    # --- device: live ---

    def nvmlDeviceGetMemoryInfo(self, handle: FakeHandle | FakeMigHandle) -> Any:
        if isinstance(handle, FakeMigHandle):
            mig = self._mig("nvmlDeviceGetMemoryInfo", handle)
            total, used = mig.memory_total_bytes, mig.memory_used_bytes
        else:
            gpu = self._gpu("nvmlDeviceGetMemoryInfo", handle)
            total, used = gpu.memory_total_bytes, gpu.memory_used_bytes
        return SimpleNamespace(total=total, used=used, free=total - used)

    def nvmlDeviceGetUtilizationRates(self, handle: FakeHandle) -> Any:
        gpu = self._gpu("nvmlDeviceGetUtilizationRates", handle, sample=True)
        if gpu.utilization_gpu_pct is None or gpu.mig_mode:  # real NVML: NOT_SUPPORTED while MIG is on
            _raise(NOT_SUPPORTED)
        return SimpleNamespace(gpu=gpu.utilization_gpu_pct, memory=gpu.utilization_memory_pct)

    def nvmlDeviceGetTemperature(self, handle: FakeHandle, sensor: int) -> int:
        if sensor != pynvml.NVML_TEMPERATURE_GPU:
            _raise(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return self._value("nvmlDeviceGetTemperature", handle, "temperature_c")

    def nvmlDeviceGetPowerUsage(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetPowerUsage", handle, "power_usage_mw")

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetEnforcedPowerLimit", handle, "power_limit_mw")

    def nvmlDeviceGetPowerManagementLimit(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetPowerManagementLimit", handle, "power_limit_mw")

    def nvmlDeviceGetClockInfo(self, handle: FakeHandle, clock_type: int) -> int:
        attr = {pynvml.NVML_CLOCK_SM: "clock_sm_mhz", pynvml.NVML_CLOCK_MEM: "clock_mem_mhz"}.get(clock_type)
        if attr is None:
            _raise(NOT_SUPPORTED)
        return self._value("nvmlDeviceGetClockInfo", handle, attr or "")

    def nvmlDeviceGetFanSpeed(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetFanSpeed", handle, "fan_speed_pct")

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetTotalEnergyConsumption", handle, "energy_mj")

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetCurrentClocksEventReasons", handle, "clock_event_reasons")

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetCurrentClocksThrottleReasons", handle, "clock_event_reasons")

    def nvmlDeviceGetPerformanceState(self, handle: FakeHandle) -> int:
        return self._value("nvmlDeviceGetPerformanceState", handle, "pstate")


# --- scripted devices ---


def rtx_4090() -> FakeGpu:
    """A GeForce RTX 4090 (the one of the 535.86.05 nvidia-smi report: same uuid and bus id)."""
    return FakeGpu(
        name="NVIDIA GeForce RTX 4090",
        uuid="GPU-71d1acc2-662d-2166-bf9f-65272d2fc437",
        pci_bus_id="00000000:84:00.0",
        memory_total_bytes=24564 * MIB,
        memory_used_bytes=2 * MIB,
        compute_capability=(8, 9),
        sm_count=128,
        cuda_cores=16384,
        temperature_c=40,
        power_usage_mw=26_840,
        power_limit_mw=450_000,
        clock_sm_mhz=210,
        clock_mem_mhz=405,
        fan_speed_pct=0,
        energy_mj=1_234_567_890,
        clock_event_reasons=0x1,
        pcie_generation_max=4,
        pcie_width=16,
        ecc_mode=None,
        mig_mode=None,
    )


def h100(index: int = 0) -> FakeGpu:
    """An H100 SXM5 80GB at work; `index` varies uuid and bus id so several can share a machine."""
    return FakeGpu(
        name="NVIDIA H100 80GB HBM3",
        uuid=f"GPU-4a0b7e11-5c2d-4f3e-9a8b-{index:012x}",
        pci_bus_id=f"00000000:{0x18 + 0x10 * index:02X}:00.0",
        memory_total_bytes=81559 * MIB,
        memory_used_bytes=40960 * MIB,
        compute_capability=(9, 0),
        sm_count=132,
        cuda_cores=16896,
        temperature_c=61,
        power_usage_mw=612_345,
        power_limit_mw=700_000,
        utilization_gpu_pct=98,
        utilization_memory_pct=71,
        clock_sm_mhz=1980,
        clock_mem_mhz=2619,
        fan_speed_pct=None,
        energy_mj=987_654_321,
        clock_event_reasons=0x4,  # sw_power_cap
        pstate=0,
        pcie_generation_max=5,
        pcie_width=16,
        ecc_mode=True,
        mig_mode=False,
        processes=[FakeProcess(pid=4242, name="python", used_memory_bytes=40950 * MIB)],
    )


def a100_mig() -> FakeGpu:
    """An A100-SXM4-40GB with MIG on: two 3g.20gb instances; utilization is NOT_SUPPORTED in MIG mode."""
    return FakeGpu(
        name="NVIDIA A100-SXM4-40GB",
        uuid="GPU-27b94a00-ed54-5c24-b1fd-1054085de32a",
        pci_bus_id="00000000:00:04.0",
        memory_total_bytes=40960 * MIB,
        memory_used_bytes=38 * MIB,
        compute_capability=(8, 0),
        sm_count=108,
        cuda_cores=6912,
        temperature_c=36,
        power_usage_mw=66_920,
        power_limit_mw=400_000,
        clock_sm_mhz=1410,
        clock_mem_mhz=1215,
        clock_event_reasons=0x0,
        pstate=0,
        ecc_mode=True,
        mig_mode=True,
        mig_devices=[
            FakeMigDevice("MIG-0a1b2c3d-0000-5000-8000-000000000001", 1, 0, 19968 * MIB, 19 * MIB),
            FakeMigDevice("MIG-0a1b2c3d-0000-5000-8000-000000000002", 2, 0, 19968 * MIB, 19 * MIB),
        ],
    )


def power_not_supported() -> FakeGpu:
    """A laptop GPU whose driver reports no power draw, limit, fan or energy (NOT_SUPPORTED)."""
    return FakeGpu(
        name="NVIDIA GeForce GTX 1650 with Max-Q Design",
        uuid="GPU-5e6f7a8b-1111-2222-3333-444455556666",
        pci_bus_id="00000000:01:00.0",
        memory_total_bytes=4096 * MIB,
        memory_used_bytes=5 * MIB,
        compute_capability=(7, 5),
        sm_count=16,
        power_usage_mw=None,
        power_limit_mw=None,
        fan_speed_pct=None,
        energy_mj=None,
        pcie_generation_max=3,
    )


def lost_gpu(after_reads: int) -> FakeGpu:
    """An H100 that falls off the bus after `after_reads` samples (XID 79)."""
    return dataclasses.replace(h100(7), lost_after_reads=after_reads)


def identical_gpus(n: int, template: Any = h100) -> list[FakeGpu]:
    """`n` GPUs of one model, distinct uuids and bus ids (an 8-GPU HGX box: identical_gpus(8))."""
    return [template(i) for i in range(n)]


def mismatch() -> FakeNvml:
    """A driver updated without a reboot: nvmlInit fails with NVML_ERROR_LIB_RM_VERSION_MISMATCH."""
    return FakeNvml([h100()], init_error=pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH)


def library_missing() -> FakeNvml:
    """No driver at all: nvmlInit fails with NVML_ERROR_LIBRARY_NOT_FOUND (this machine, for real)."""
    return FakeNvml([], init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)


def no_permission() -> FakeNvml:
    """/dev/nvidia* not readable by this user: nvmlInit fails with NVML_ERROR_NO_PERMISSION."""
    return FakeNvml([h100()], init_error=pynvml.NVML_ERROR_NO_PERMISSION)
