"""GpuReader: one batch read of every GPU, cached handles, lost GPUs as readings, nvidia-smi fallback."""

from __future__ import annotations

import time
from pathlib import Path

import pynvml
import pytest

from fakes.fake_nvml import FakeNvml, a100_mig, h100, identical_gpus, library_missing, lost_gpu, rtx_4090
from ruckus_agent.gpu import GpuReader

FAKE_SMI = str(Path(__file__).parent.parent / "fakes" / "fake_nvidia_smi")
REPORT_4090 = (
    Path(__file__).parent.parent / "data" / "nvidia-smi" / "geforce-rtx-4090_driver-535.86.05_dtd-v12.xml"
)


def test_reads_every_gpu() -> None:
    reader = GpuReader(FakeNvml([rtx_4090(), h100(), a100_mig()]))
    assert reader.available and reader.source == "nvml" and reader.nvml_error is None
    readings = reader.read_all()
    assert [(r.index, r.uuid, r.lost) for r in readings] == [
        (0, "GPU-71d1acc2-662d-2166-bf9f-65272d2fc437", False),
        (1, "GPU-4a0b7e11-5c2d-4f3e-9a8b-000000000000", False),
        (2, "GPU-27b94a00-ed54-5c24-b1fd-1054085de32a", False),
    ]
    h = readings[1]
    assert (h.temperature_c, h.power_usage_w, h.power_limit_w) == (61, 612.345, 700)
    assert (h.utilization_gpu_pct, h.utilization_memory_pct, h.clock_sm_mhz, h.clock_mem_mhz) == (
        98,
        71,
        1980,
        2619,
    )
    assert (h.memory_total_mb, h.memory_used_mb, h.memory_free_mb) == (81559, 40960, 40599)
    assert (h.energy_total_j, h.throttle_reasons, h.pstate, h.fan_speed_pct) == (
        987_654.321,
        ["sw_power_cap"],
        "P0",
        None,
    )
    assert readings[2].utilization_gpu_pct is None  # MIG on


def test_handles_are_cached_and_nvml_is_initialised_once() -> None:
    nvml = FakeNvml(identical_gpus(8))
    reader = GpuReader(nvml)
    for _ in range(10):
        assert len(reader.read_all()) == 8
    assert nvml.calls["nvmlInit"] == 1
    assert nvml.calls["nvmlDeviceGetCount"] == 1
    assert nvml.calls["nvmlDeviceGetHandleByIndex"] == 8
    assert nvml.calls["nvmlDeviceGetUUID"] == 8
    assert nvml.calls["nvmlDeviceGetUtilizationRates"] == 80


def test_eight_gpus_read_fast() -> None:
    reader = GpuReader(FakeNvml(identical_gpus(8)))
    reader.read_all()
    start = time.perf_counter()
    for _ in range(100):
        reader.read_all()
    per_read_ms = (time.perf_counter() - start) * 10
    assert per_read_ms < 20  # our overhead only: the fake answers instantly


def test_a_gpu_lost_mid_sampling_gives_lost_readings() -> None:
    nvml = FakeNvml([lost_gpu(after_reads=2), rtx_4090()])
    reader = GpuReader(nvml)
    first, second = reader.read_all(), reader.read_all()
    assert [r.lost for r in first + second] == [False, False, False, False]
    third = reader.read_all()  # the 3rd sample: lost after memory was read, at the utilization call
    assert third[0].lost and third[0].uuid == "GPU-4a0b7e11-5c2d-4f3e-9a8b-000000000007"
    assert "GpuIsLost" in (third[0].error or "")
    assert third[0].power_usage_w is None and third[0].temperature_c is None
    assert not third[1].lost and third[1].power_usage_w == 26.84  # the other GPU carries on
    fourth = reader.read_all()
    assert fourth[0].lost and "nvmlDeviceGetHandleByIndex" in (fourth[0].error or "")
    nvml.gpus[0].lost, nvml.gpus[0].lost_after_reads = False, None  # the driver recovered
    assert not reader.read_all()[0].lost  # its handle was fetched again


def test_unknown_error_on_the_first_call_means_lost_elsewhere_means_none() -> None:
    probe_fails, fan_fails = h100(0), h100(1)
    probe_fails.errors = {"nvmlDeviceGetMemoryInfo": pynvml.NVML_ERROR_UNKNOWN}
    fan_fails.errors = {"nvmlDeviceGetFanSpeed": pynvml.NVML_ERROR_UNKNOWN}
    readings = GpuReader(FakeNvml([probe_fails, fan_fails])).read_all()
    assert readings[0].lost and "NVMLError_Unknown" in (readings[0].error or "")
    assert not readings[1].lost and readings[1].fan_speed_pct is None and readings[1].power_usage_w == 612.345


def test_without_nvml_there_is_nothing_to_read() -> None:
    reader = GpuReader(library_missing())
    assert not reader.available and reader.source is None and reader.read_all() == []
    assert reader.nvml_error is not None and reader.nvml_error.reason == "library_not_found"


def test_nvidia_smi_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NVIDIA_SMI_XML", str(REPORT_4090))
    reader = GpuReader(library_missing(), nvidia_smi=FAKE_SMI)
    assert reader.source == "nvidia-smi"
    (reading,) = reader.read_all()
    assert (reading.uuid, reading.power_usage_w, reading.temperature_c) == (
        "GPU-71d1acc2-662d-2166-bf9f-65272d2fc437",
        26.84,
        40,
    )
    monkeypatch.setenv("FAKE_NVIDIA_SMI_FAIL", "No devices were found")
    assert reader.read_all() == [] and reader.last_error == "nvidia-smi: No devices were found"


def test_close_releases_nvml() -> None:
    nvml = FakeNvml([h100()])
    with GpuReader(nvml) as reader:
        assert len(reader.read_all()) == 1
    assert nvml.init_count == 0 and nvml.calls["nvmlShutdown"] == 1
    assert reader.read_all() == [] and not reader.available
    reader.close()
    assert nvml.calls["nvmlShutdown"] == 1


def test_reader_on_this_machine_never_raises() -> None:
    reader = GpuReader()
    readings = reader.read_all()
    assert isinstance(readings, list)
    reader.close()
