"""A fake `torch` module for the torch.cuda source: device properties only, no kernels."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any


@dataclass
class FakeDeviceProperties:
    """The attributes of torch.cuda.get_device_properties() the agent reads."""

    name: str
    total_memory: int
    major: int
    minor: int
    multi_processor_count: int
    uuid: str | None = None  # torch prints it without NVML's "GPU-" prefix
    pci_domain_id: int | None = None
    pci_bus_id: int | None = None
    pci_device_id: int | None = None


class FakeCuda:
    def __init__(self, devices: list[FakeDeviceProperties], *, error: Exception | None = None) -> None:
        self.devices = devices
        self.error = error

    def is_available(self) -> bool:
        if self.error is not None:
            raise self.error
        return bool(self.devices)

    def device_count(self) -> int:
        return len(self.devices)

    def get_device_properties(self, index: int) -> FakeDeviceProperties:
        return self.devices[index]


def fake_torch(
    devices: list[FakeDeviceProperties] | None = None,
    *,
    cuda_build: str | None = "12.4",
    error: Exception | None = None,
) -> Any:
    """A module-like object with `.cuda` and `.version` (cuda_build=None: a CPU-only build)."""
    return SimpleNamespace(
        __version__="2.13.0",
        cuda=FakeCuda(devices or [], error=error),
        version=SimpleNamespace(cuda=cuda_build, hip=None),
    )


def rtx_4090_props() -> FakeDeviceProperties:
    """The RTX 4090 of fake_nvml.rtx_4090() and the 535.86.05 nvidia-smi report, as torch sees it."""
    return FakeDeviceProperties(
        name="NVIDIA GeForce RTX 4090",
        total_memory=25_393_364_992,  # 24217 MiB: what torch reports, a little less than NVML's total
        major=8,
        minor=9,
        multi_processor_count=128,
        uuid="71d1acc2-662d-2166-bf9f-65272d2fc437",
        pci_domain_id=0,
        pci_bus_id=0x84,
        pci_device_id=0,
    )
