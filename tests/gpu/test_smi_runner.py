"""Running `nvidia-smi -q -x`: a fake binary that prints a recorded report, fails, or hangs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ruckus_agent.gpu import SmiError, run_nvidia_smi

FAKES = Path(__file__).parent.parent / "fakes"
FAKE_SMI = str(FAKES / "fake_nvidia_smi")
HANGING_SMI = str(FAKES / "fake_nvidia_smi_hang")
REPORT = (
    Path(__file__).parent.parent / "data" / "nvidia-smi" / "geforce-rtx-4090_driver-535.86.05_dtd-v12.xml"
)


def test_prints_the_recorded_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NVIDIA_SMI_XML", str(REPORT))
    assert run_nvidia_smi(FAKE_SMI, timeout_s=5) == REPORT.read_text()


def test_a_hanging_nvidia_smi_times_out_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(SmiError) as info:
        run_nvidia_smi(HANGING_SMI, timeout_s=0.3)
    assert time.monotonic() - start < 3  # the sleeping grandchild was killed too, not waited for
    assert info.value.reason == "timeout" and "0.3 s" in info.value.message


@pytest.mark.parametrize(
    ("binary", "message"),
    [
        ("nvidia-smi-that-does-not-exist", "nvidia-smi not found on PATH"),
        ("/nonexistent/bin/nvidia-smi", "nvidia-smi not found at /nonexistent/bin/nvidia-smi"),
    ],
)
def test_missing_binary(binary: str, message: str) -> None:
    with pytest.raises(SmiError) as info:
        run_nvidia_smi(binary)
    assert (info.value.reason, info.value.message) == ("not_installed", message)


@pytest.mark.parametrize(
    ("printed", "reason"),
    [
        (
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
            "Make sure that the latest NVIDIA driver is installed and running.",
            "driver_not_loaded",
        ),
        ("Failed to initialize NVML: Driver/library version mismatch", "driver_library_mismatch"),
        ("Failed to initialize NVML: Insufficient Permissions", "no_permission"),
        ("No devices were found", "no_device"),
        ("Segmentation fault", "error"),
    ],
)
def test_failures_are_classified(monkeypatch: pytest.MonkeyPatch, printed: str, reason: str) -> None:
    monkeypatch.setenv("FAKE_NVIDIA_SMI_FAIL", printed)
    with pytest.raises(SmiError) as info:
        run_nvidia_smi(FAKE_SMI)
    assert info.value.reason == reason and printed in info.value.message
