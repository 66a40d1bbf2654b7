"""The detection chain: NVML, then torch.cuda and nvidia-smi; merging; why a source failed; this machine."""

from __future__ import annotations

import importlib
import importlib.util
import time
from pathlib import Path

import pytest

from fakes.fake_nvml import FakeNvml, h100, identical_gpus, library_missing, mismatch, no_permission, rtx_4090
from fakes.fake_torch import FakeDeviceProperties, fake_torch, rtx_4090_props
from ruckus_agent.gpu import NvmlGateway, detect_gpus, merge_gpus
from ruckus_agent.gpu.detect import bus_key, same_gpu, uuid_key
from ruckus_agent.gpu.torch_source import detect_torch
from ruckus_agent.models.gpu import GpuInfo

FAKES = Path(__file__).parent.parent / "fakes"
FAKE_SMI = str(FAKES / "fake_nvidia_smi")
HANGING_SMI = str(FAKES / "fake_nvidia_smi_hang")
DATA = Path(__file__).parent.parent / "data" / "nvidia-smi"
REPORT_4090 = DATA / "geforce-rtx-4090_driver-535.86.05_dtd-v12.xml"
NO_SMI = "nvidia-smi-that-does-not-exist"


@pytest.fixture
def smi_4090(monkeypatch: pytest.MonkeyPatch) -> str:
    """The fake nvidia-smi, printing the RTX 4090 report."""
    monkeypatch.setenv("FAKE_NVIDIA_SMI_XML", str(REPORT_4090))
    return FAKE_SMI


def _errors(detection: object) -> list[tuple[str, str]]:
    return [(e.source, e.reason) for e in detection.detection_errors]  # type: ignore[attr-defined]


# --- NVML works ---


def test_nvml_ok_stops_there(smi_4090: str) -> None:
    torch = fake_torch(error=AssertionError("torch must not be asked when NVML works"))
    detection = detect_gpus(nvml=FakeNvml([rtx_4090(), h100()]), torch_module=torch, nvidia_smi=smi_4090)
    assert detection.sources_tried == ["nvml"] and detection.detection_errors == []
    assert [(g.name, g.detection_method) for g in detection.gpus] == [
        ("NVIDIA GeForce RTX 4090", "nvml"),
        ("NVIDIA H100 80GB HBM3", "nvml"),
    ]
    h = detection.gpus[1]
    assert (h.architecture, h.tensor_core_generation) == ("Hopper", 4)
    assert h.supported_precisions == ["FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8"]
    assert detection.summary == "2 GPUs found via nvml: NVIDIA GeForce RTX 4090, NVIDIA H100 80GB HBM3"


def test_eight_identical_gpus() -> None:
    detection = detect_gpus(nvml=FakeNvml(identical_gpus(8)), nvidia_smi=None)
    assert len(detection.gpus) == 8 and len({g.uuid for g in detection.gpus}) == 8
    assert [g.index for g in detection.gpus] == list(range(8))
    assert detection.summary == "8 GPUs found via nvml: 8x NVIDIA H100 80GB HBM3"


def test_an_injected_gateway_is_left_open() -> None:
    nvml = FakeNvml([h100()])
    gateway = NvmlGateway(nvml)
    detect_gpus(nvml=gateway, nvidia_smi=None)
    assert gateway.available and nvml.init_count == 1 and nvml.calls["nvmlShutdown"] == 0


# --- NVML fails: torch and nvidia-smi ---


def test_library_missing_then_torch_finds_the_gpu() -> None:
    detection = detect_gpus(
        nvml=library_missing(), torch_module=fake_torch([rtx_4090_props()]), nvidia_smi=NO_SMI
    )
    assert detection.sources_tried == ["nvml", "torch", "nvidia-smi"]
    assert _errors(detection) == [("nvml", "library_not_found"), ("nvidia-smi", "not_installed")]
    (gpu,) = detection.gpus
    assert (gpu.detection_method, gpu.name, gpu.compute_capability, gpu.sm_count) == (
        "torch",
        "NVIDIA GeForce RTX 4090",
        [8, 9],
        128,
    )
    assert gpu.uuid == "GPU-71d1acc2-662d-2166-bf9f-65272d2fc437"  # torch's uuid, given NVML's prefix
    assert gpu.pci_bus_id == "00000000:84:00.0"
    assert gpu.memory_total_mb == 24217  # 25_393_364_992 B
    assert gpu.memory_used_mb is None and gpu.live is None  # torch knows no live values
    assert (gpu.architecture, gpu.tensor_core_generation) == ("Ada", 4)
    assert detection.summary == (
        "1 GPU found via torch: NVIDIA GeForce RTX 4090; "
        "No NVIDIA driver: libnvidia-ml.so not found; nvidia-smi not found on PATH"
    )


def test_library_missing_torch_sees_nothing_then_nvidia_smi(smi_4090: str) -> None:
    detection = detect_gpus(
        nvml=library_missing(), torch_module=fake_torch(cuda_build=None), nvidia_smi=smi_4090
    )
    assert _errors(detection) == [("nvml", "library_not_found"), ("torch", "no_device")]
    assert (
        detection.detection_errors[1].message == "torch is installed but sees no CUDA device (CPU-only build)"
    )
    (gpu,) = detection.gpus
    assert (gpu.detection_method, gpu.driver_version, gpu.cuda_version) == ("nvidia-smi", "535.86.05", "12.2")
    assert gpu.live is not None and gpu.live.power_usage_w == 26.84
    assert (gpu.architecture, gpu.tensor_core_generation) == ("Ada", 4)


def test_torch_and_nvidia_smi_merge_by_uuid(smi_4090: str) -> None:
    props = rtx_4090_props()
    props.pci_bus_id = 0x01  # a different bus id: the uuid decides
    detection = detect_gpus(nvml=library_missing(), torch_module=fake_torch([props]), nvidia_smi=smi_4090)
    (gpu,) = detection.gpus
    assert gpu.detection_method == "torch"  # the first source that found it
    assert gpu.compute_capability == [8, 9] and gpu.sm_count == 128  # from torch
    assert gpu.memory_total_mb == 24217  # torch came first and had a value
    assert (gpu.memory_used_mb, gpu.memory_free_mb) == (2, 24214)  # only nvidia-smi had these
    assert (gpu.driver_version, gpu.cuda_version, gpu.pcie_width) == ("535.86.05", "12.2", 16)
    assert gpu.live is not None and (gpu.live.temperature_c, gpu.live.power_limit_w) == (40, 450)
    assert gpu.supported_precisions == ["FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8"]


def test_merge_by_bus_id_when_a_source_has_no_uuid(smi_4090: str) -> None:
    props = rtx_4090_props()
    props.uuid = None
    props.pci_bus_id = 0x84
    detection = detect_gpus(nvml=library_missing(), torch_module=fake_torch([props]), nvidia_smi=smi_4090)
    (gpu,) = detection.gpus
    assert gpu.uuid == "GPU-71d1acc2-662d-2166-bf9f-65272d2fc437" and gpu.detection_method == "torch"


def test_merge_by_index_when_nothing_else_is_known(smi_4090: str) -> None:
    props = FakeDeviceProperties("NVIDIA GeForce RTX 4090", 25_393_364_992, 8, 9, 128)
    detection = detect_gpus(nvml=library_missing(), torch_module=fake_torch([props]), nvidia_smi=smi_4090)
    (gpu,) = detection.gpus
    assert gpu.uuid == "GPU-71d1acc2-662d-2166-bf9f-65272d2fc437"


def test_different_gpus_are_not_merged(smi_4090: str) -> None:
    props = rtx_4090_props()
    props.uuid = "0f0f0f0f-0000-0000-0000-000000000000"
    detection = detect_gpus(nvml=library_missing(), torch_module=fake_torch([props]), nvidia_smi=smi_4090)
    assert [(g.index, g.detection_method) for g in detection.gpus] == [(0, "torch"), (0, "nvidia-smi")]


@pytest.mark.parametrize(
    ("nvml", "reason", "words"),
    [
        (mismatch, "driver_library_mismatch", "version mismatch"),
        (no_permission, "no_permission", "/dev/nvidia"),
        (library_missing, "library_not_found", "libnvidia-ml.so not found"),
    ],
)
def test_nvml_failures_are_explained(nvml: object, reason: str, words: str) -> None:
    detection = detect_gpus(nvml=nvml(), torch_module=fake_torch(), nvidia_smi=NO_SMI)  # type: ignore[operator]
    assert detection.gpus == []
    assert _errors(detection) == [("nvml", reason), ("torch", "no_device"), ("nvidia-smi", "not_installed")]
    assert words in detection.summary


def test_nvidia_smi_timeout() -> None:
    start = time.monotonic()
    detection = detect_gpus(
        nvml=library_missing(), torch_module=fake_torch(), nvidia_smi=HANGING_SMI, timeout_s=0.3
    )
    assert time.monotonic() - start < 3
    assert _errors(detection)[-1] == ("nvidia-smi", "timeout")
    assert "nvidia-smi did not answer within 0.3 s" in detection.summary


def test_nvidia_smi_none_skips_it() -> None:
    detection = detect_gpus(nvml=library_missing(), torch_module=fake_torch(), nvidia_smi=None)
    assert detection.sources_tried == ["nvml", "torch"]


def test_a_crashing_source_becomes_an_error_not_an_exception(smi_4090: str) -> None:
    class BrokenNvml:  # no NVMLError attribute, nvmlInit explodes: a broken install
        def nvmlInit(self) -> None:
            raise RuntimeError("boom")

    torch = fake_torch(error=RuntimeError("CUDA driver initialization failed"))
    detection = detect_gpus(nvml=BrokenNvml(), torch_module=torch, nvidia_smi=smi_4090)
    assert _errors(detection) == [("nvml", "error"), ("torch", "error")]
    assert "CUDA driver initialization failed" in detection.detection_errors[1].message
    assert [g.detection_method for g in detection.gpus] == ["nvidia-smi"]


# --- torch source, alone ---


def test_torch_not_installed_is_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real_find_spec(name)
    )
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: pytest.fail(f"imported {name}"))
    gpus, error = detect_torch()
    assert (
        gpus == []
        and error is not None
        and (error.reason, error.message) == ("not_installed", "torch is not installed")
    )


def test_a_cpu_wheel_is_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ruckus_agent.gpu.torch_source.installed_version", lambda: "2.13.0+cpu")
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: pytest.fail(f"imported {name}"))
    _, error = detect_torch()
    assert error is not None and error.reason == "no_device" and "CPU-only build 2.13.0+cpu" in error.message


def test_rocm_devices_have_no_cuda_compute_capability() -> None:
    torch = fake_torch([FakeDeviceProperties("AMD Instinct MI300X", 192 * 2**30, 9, 4, 304)])
    torch.version.hip = "6.2"
    (gpu,), error = detect_torch(torch)
    assert error is None and gpu.compute_capability is None and gpu.sm_count == 304


# --- merge keys ---


def test_merge_keys() -> None:
    assert uuid_key("GPU-ABC") == uuid_key("abc") == "abc"
    assert bus_key("0000:00:03.0") == bus_key("00000000:00:03.0") == (0, 0, 3, 0)
    assert (
        bus_key("00000000:0A:00.0") == (0, 10, 0, 0) and bus_key("garbage") is None and bus_key(None) is None
    )
    a = GpuInfo(index=0, name="x", uuid="GPU-1", pci_bus_id="0000:01:00.0", detection_method="torch")
    b = GpuInfo(index=1, name="x", uuid="GPU-2", pci_bus_id="00000000:01:00.0", detection_method="nvidia-smi")
    assert not same_gpu(a, b)  # both have uuids: they decide, the bus ids are not consulted
    assert same_gpu(a, b.model_copy(update={"uuid": None}))
    assert len(merge_gpus([a], [b])) == 2


# --- this machine: no GPU, no driver, a CPU-only torch, no nvidia-smi ---


def _machine_has_nvml() -> bool:
    gateway = NvmlGateway()
    try:
        return gateway.available
    finally:
        gateway.shutdown()


@pytest.mark.skipif(_machine_has_nvml(), reason="this machine has an NVIDIA driver")
def test_this_machine_reports_why_there_is_no_gpu() -> None:
    start = time.monotonic()
    detection = detect_gpus()
    assert time.monotonic() - start < 1.0  # no torch import for a CPU-only wheel
    assert detection.gpus == []
    assert detection.detection_errors[0].reason == "library_not_found"
    torch_error = next(e for e in detection.detection_errors if e.source == "torch")
    assert torch_error.reason == "no_device"
    assert "torch is installed but sees no CUDA device" in detection.summary
    assert detection.summary.startswith("No NVIDIA driver: libnvidia-ml.so not found; ")


@pytest.mark.skipif(not _machine_has_nvml(), reason="no NVIDIA driver on this machine")
def test_this_machine_finds_its_gpus_through_nvml() -> None:
    detection = detect_gpus()
    assert detection.gpus and all(g.detection_method == "nvml" for g in detection.gpus)
    assert all(g.uuid and g.pci_bus_id and g.compute_capability and g.driver_version for g in detection.gpus)
