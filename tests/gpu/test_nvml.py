"""NVML gateway and NVML source over the fake NVML: fields, units, NOT_SUPPORTED → None, init failures."""

from __future__ import annotations

import sys

import pynvml
import pytest

from fakes.fake_nvml import (
    MIB,
    FakeNvml,
    a100_mig,
    h100,
    library_missing,
    lost_gpu,
    mismatch,
    no_permission,
    power_not_supported,
    rtx_4090,
)
from ruckus_agent.gpu import NvmlGateway, detect_gpus
from ruckus_agent.gpu.nvml import cuda_version_text, decode_clock_event_reasons
from ruckus_agent.gpu.nvml_source import detect_nvml


def test_fake_raises_pynvml_own_error_classes() -> None:
    nvml = FakeNvml([power_not_supported()])
    nvml.nvmlInit()
    handle = nvml.nvmlDeviceGetHandleByIndex(0)
    with pytest.raises(pynvml.NVMLError_NotSupported):
        nvml.nvmlDeviceGetPowerUsage(handle)
    with pytest.raises(pynvml.NVMLError_LibRmVersionMismatch):
        mismatch().nvmlInit()
    assert nvml.NVMLError is pynvml.NVMLError and nvml.NVML_ERROR_GPU_IS_LOST == 15


def test_rtx_4090_fields_and_units() -> None:
    gpus, error = detect_nvml(NvmlGateway(FakeNvml([rtx_4090()])))
    assert error is None
    (gpu,) = gpus
    assert (gpu.index, gpu.name, gpu.detection_method) == (0, "NVIDIA GeForce RTX 4090", "nvml")
    assert (gpu.uuid, gpu.pci_bus_id) == ("GPU-71d1acc2-662d-2166-bf9f-65272d2fc437", "00000000:84:00.0")
    assert (gpu.memory_total_mb, gpu.memory_used_mb, gpu.memory_free_mb) == (24564, 2, 24562)
    assert (gpu.compute_capability, gpu.sm_count, gpu.cuda_cores) == ([8, 9], 128, 16384)
    assert (gpu.driver_version, gpu.cuda_version) == ("535.86.05", "12.2")
    assert (gpu.pcie_generation, gpu.pcie_width) == (4, 16)
    assert (gpu.ecc_enabled, gpu.mig_mode, gpu.mig_devices, gpu.processes) == (None, None, [], [])
    live = gpu.live
    assert live is not None and not live.lost
    assert (live.temperature_c, live.power_usage_w, live.power_limit_w) == (40, 26.84, 450)  # mW → W
    assert (live.utilization_gpu_pct, live.utilization_memory_pct) == (0, 0)
    assert (live.clock_sm_mhz, live.clock_mem_mhz, live.fan_speed_pct) == (210, 405, 0)
    assert live.energy_total_j == 1_234_567.89  # mJ → J
    assert (live.throttle_reasons, live.pstate) == (["gpu_idle"], "P8")


def test_h100_processes_ecc_and_power_cap() -> None:
    (gpu,), _ = detect_nvml(NvmlGateway(FakeNvml([h100()])))
    assert [(p.pid, p.name, p.used_memory_mb) for p in gpu.processes] == [(4242, "python", 40950)]
    assert (gpu.ecc_enabled, gpu.mig_mode) == (True, False)
    assert gpu.live is not None
    assert gpu.live.throttle_reasons == ["sw_power_cap"] and gpu.live.fan_speed_pct is None
    assert gpu.live.pstate == "P0"


def test_a100_in_mig_mode() -> None:
    (gpu,), _ = detect_nvml(NvmlGateway(FakeNvml([a100_mig()])))
    assert gpu.mig_mode is True
    assert [(m.index, m.gpu_instance_id, m.compute_instance_id, m.uuid, m.memory_total_mb, m.memory_used_mb)
            for m in gpu.mig_devices] == [
        (0, 1, 0, "MIG-0a1b2c3d-0000-5000-8000-000000000001", 19968, 19),
        (1, 2, 0, "MIG-0a1b2c3d-0000-5000-8000-000000000002", 19968, 19),
    ]  # fmt: skip
    assert gpu.live is not None
    assert (gpu.live.utilization_gpu_pct, gpu.live.utilization_memory_pct) == (
        None,
        None,
    )  # MIG: not supported
    assert gpu.live.throttle_reasons == []


def test_not_supported_is_none_never_zero() -> None:
    (gpu,), _ = detect_nvml(NvmlGateway(FakeNvml([power_not_supported()])))
    live = gpu.live
    assert live is not None
    assert (live.power_usage_w, live.power_limit_w, live.fan_speed_pct, live.energy_total_j) == (None,) * 4
    assert (live.temperature_c, live.clock_sm_mhz) == (40, 210)  # what is supported still comes through
    assert (gpu.ecc_enabled, gpu.mig_mode, gpu.cuda_cores) == (None, None, None)


def test_any_error_on_one_field_is_none_for_that_field() -> None:
    gpu_spec = rtx_4090()
    gpu_spec.errors = {"nvmlDeviceGetFanSpeed": pynvml.NVML_ERROR_UNKNOWN, "nvmlDeviceGetUUID": 4}
    (gpu,), _ = detect_nvml(NvmlGateway(FakeNvml([gpu_spec])))
    assert gpu.uuid is None and gpu.live is not None and gpu.live.fan_speed_pct is None
    assert not gpu.live.lost and gpu.live.power_usage_w == 26.84


def test_a_lost_gpu_at_detection_is_listed_as_lost() -> None:
    nvml = FakeNvml([rtx_4090(), lost_gpu(after_reads=0)])
    nvml.lose(1)
    gpus, error = detect_nvml(NvmlGateway(nvml))
    assert error is None and [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090", "Unknown NVIDIA GPU"]
    assert gpus[1].live is not None and gpus[1].live.lost and "GpuIsLost" in (gpus[1].live.error or "")
    assert gpus[0].live is not None and not gpus[0].live.lost


@pytest.mark.parametrize(
    ("code", "reason", "words"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "library_not_found", "libnvidia-ml.so not found"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "driver_not_loaded", "not loaded"),
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, "driver_library_mismatch", "version mismatch"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no_permission", "permission"),
        (pynvml.NVML_ERROR_TIMEOUT, "timeout", "timed out"),
        (pynvml.NVML_ERROR_UNKNOWN, "error", "999"),
    ],
)
def test_init_failures_say_why(code: int, reason: str, words: str) -> None:
    gpus, error = detect_nvml(NvmlGateway(FakeNvml([h100()], init_error=code)))
    assert gpus == [] and error is not None
    assert (error.source, error.reason) == ("nvml", reason)
    assert words in error.message


def test_scripted_failures() -> None:
    reasons = [detect_nvml(NvmlGateway(n()))[1] for n in (library_missing, mismatch, no_permission)]
    assert [e.reason if e else None for e in reasons] == [
        "library_not_found",
        "driver_library_mismatch",
        "no_permission",
    ]


def test_nvml_without_gpus_is_no_device() -> None:
    _, error = detect_nvml(NvmlGateway(FakeNvml([])))
    assert error is not None and error.reason == "no_device"


def test_pynvml_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
    error = NvmlGateway().init()
    assert error is not None and (error.source, error.reason) == ("nvml", "not_installed")


def test_init_once_and_shutdown() -> None:
    nvml = FakeNvml([h100()])
    gateway = NvmlGateway(nvml)
    assert gateway.init() is None and gateway.init() is None and gateway.available
    assert nvml.calls["nvmlInit"] == 1
    gateway.shutdown()
    gateway.shutdown()
    assert nvml.calls["nvmlShutdown"] == 1 and nvml.init_count == 0


def test_failed_init_is_remembered() -> None:
    nvml = library_missing()
    gateway = NvmlGateway(nvml)
    assert gateway.init() is not None and gateway.init() is not None and not gateway.available
    assert nvml.calls["nvmlInit"] == 1


def test_detect_gpus_releases_nvml() -> None:
    nvml = FakeNvml([h100()])
    detect_gpus(nvml=nvml, nvidia_smi=None)
    assert nvml.calls["nvmlInit"] == 1 and nvml.init_count == 0


def test_function_missing_from_an_older_pynvml_is_none() -> None:
    gateway = NvmlGateway(FakeNvml([h100()]))
    gateway.init()
    handle = gateway.call("nvmlDeviceGetHandleByIndex", 0)
    assert gateway.query("nvmlDeviceGetSomethingFromTheFuture", handle) is None
    assert (
        gateway.query_first(("nvmlDeviceGetSomethingFromTheFuture", "nvmlDeviceGetFanSpeed"), handle) is None
    )
    assert (
        gateway.query_first(("nvmlDeviceGetSomethingFromTheFuture", "nvmlDeviceGetPowerUsage"), handle)
        == 612_345
    )


def test_memory_is_mib() -> None:
    spec = h100()
    spec.memory_total_bytes, spec.memory_used_bytes = 1024 * MIB + MIB // 2, 0
    (gpu,), _ = detect_nvml(NvmlGateway(FakeNvml([spec])))
    assert gpu.memory_total_mb == 1024.5


@pytest.mark.parametrize(
    ("mask", "names"),
    [
        (None, None),
        (0, []),
        (0x1, ["gpu_idle"]),
        (0x44, ["sw_power_cap", "hw_thermal_slowdown"]),
        (0x8 | 0x80, ["hw_slowdown", "hw_power_brake_slowdown"]),
        (0x8000000000000000, ["unknown"]),
        (0x1000, ["other_0x1000"]),
    ],
)
def test_decode_clock_event_reasons(mask: int | None, names: list[str] | None) -> None:
    assert decode_clock_event_reasons(mask) == names


@pytest.mark.parametrize(
    ("value", "text"), [(12020, "12.2"), (11060, "11.6"), (13010, "13.1"), (0, None), (None, None)]
)
def test_cuda_version_text(value: int | None, text: str | None) -> None:
    assert cuda_version_text(value) == text
