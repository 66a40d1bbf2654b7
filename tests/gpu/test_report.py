"""format_report: the text of `ruckus-agent detect`."""

from __future__ import annotations

from fakes.fake_nvml import FakeNvml, a100_mig, library_missing, power_not_supported, rtx_4090
from fakes.fake_torch import fake_torch
from ruckus_agent.gpu import detect_gpus, format_report
from ruckus_agent.models.gpu import GpuDetection, GpuInfo, GpuReading


def test_report_of_working_gpus() -> None:
    text = format_report(detect_gpus(nvml=FakeNvml([rtx_4090(), a100_mig()]), nvidia_smi=None))
    lines = text.splitlines()
    assert lines[0] == "GPUs: 2 found"
    assert "  [0] NVIDIA GeForce RTX 4090  (via nvml)" in lines
    assert "      uuid GPU-71d1acc2-662d-2166-bf9f-65272d2fc437, bus 00000000:84:00.0" in lines
    assert "      memory 24564 MiB, 2 MiB used" in lines
    assert (
        "      compute capability 8.9 Ada, tensor cores gen 4, precisions FP64 FP32 TF32 FP16 BF16 FP8 INT8"
        in lines
    )
    assert "      driver 535.86.05, CUDA 12.2, PCIe gen 4 x16, ECC on, MIG on (2 devices)" in lines
    assert any(line.startswith("      now: 40 °C, 26.8 W of 450 W, util 0% (memory 0%)") for line in lines)
    assert lines[-3:] == ["  nvml        ok, 2 GPUs", "  torch       not needed", "  nvidia-smi  not needed"]


def test_report_says_why_each_source_failed() -> None:
    detection = detect_gpus(
        nvml=library_missing(), torch_module=fake_torch(cuda_build=None), nvidia_smi="no-such-smi"
    )
    assert format_report(detection).splitlines() == [
        "GPUs: none found",
        "  No NVIDIA driver: libnvidia-ml.so not found; "
        "torch is installed but sees no CUDA device (CPU-only build); nvidia-smi not found on PATH",
        "Sources (in order):",
        "  nvml        failed (library_not_found): No NVIDIA driver: libnvidia-ml.so not found",
        "  torch       failed (no_device): torch is installed but sees no CUDA device (CPU-only build)",
        "  nvidia-smi  failed (not_installed): nvidia-smi not found on PATH",
    ]


def test_unsupported_values_are_left_out_not_printed_as_none() -> None:
    text = format_report(detect_gpus(nvml=FakeNvml([power_not_supported()]), nvidia_smi=None))
    assert "None" not in text and "N/A" not in text
    assert " W" not in text.split("now:")[1]  # no power figure at all


def test_lost_gpu_and_not_tried_sources() -> None:
    gpu = GpuInfo(
        index=3,
        name="NVIDIA H100 80GB HBM3",
        detection_method="nvml",
        live=GpuReading(index=3, lost=True, error="GPU 3 does not answer"),
    )
    detection = GpuDetection(gpus=[gpu], sources_tried=["nvml"], summary="1 GPU found via nvml")
    lines = format_report(detection).splitlines()
    assert "      LOST: GPU 3 does not answer" in lines
    assert GpuDetection().model_dump()["summary"] == ""
    assert format_report(GpuDetection()).splitlines()[-1] == "  nvidia-smi  not tried"
