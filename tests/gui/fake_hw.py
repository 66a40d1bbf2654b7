"""Agents over fake GPUs for the GUI tests, the demo window and benchmarks/gui_loop_lag.py.

Only the hardware is fake: a FakeNvml (pynvml's names over scripted devices) feeds the real detection and the
real GpuReader; storage is the real memory:// backend. `LiveFakeNvml` makes the readings move with time, as a
busy machine's would, so plots have something to show.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from fakes.fake_nvml import MIB, FakeGpu, FakeHandle, FakeNvml
from fakes.fake_torch import fake_torch
from ruckus_agent.core.agent import Agent
from ruckus_agent.core.config import load_settings
from ruckus_agent.core.detector import SystemDetector
from ruckus_agent.gpu import GpuReader, detect_gpus

TOKEN = "gui-test-token-0123456789"


class LiveFakeNvml(FakeNvml):
    """FakeNvml whose utilization, temperature, power and memory follow slow sine waves per GPU."""

    def _gpu(self, func: str, handle: FakeHandle, *, sample: bool = False) -> FakeGpu:
        gpu = super()._gpu(func, handle, sample=sample)
        if sample:
            self._move(handle.index, gpu)
        return gpu

    @staticmethod
    def _move(index: int, gpu: FakeGpu) -> None:
        t = time.monotonic()
        phase = index * 0.9
        util = 50 + 45 * math.sin(t / 6 + phase)
        gpu.utilization_gpu_pct = round(util)
        gpu.utilization_memory_pct = round(util * 0.7)
        gpu.temperature_c = round(38 + 0.4 * util + 3 * math.sin(t / 2.3 + phase))
        if gpu.power_limit_mw:
            gpu.power_usage_mw = round(gpu.power_limit_mw * (0.12 + 0.8 * util / 100))
        share = 0.3 + 0.25 * (1 + math.sin(t / 20 + phase))
        gpu.memory_used_bytes = int(gpu.memory_total_bytes * share) // MIB * MIB
        gpu.clock_sm_mhz = round(1200 + 7 * util)


def fake_agent(
    tmp_path: Path,
    nvml: FakeNvml | None = None,
    *,
    torch_module: Any | None = None,
    **settings: Any,
) -> Agent:
    """A real Agent on memory:// storage whose GPUs are `nvml`'s (none when None); API on a free port."""
    nvml = nvml if nvml is not None else FakeNvml([])
    torch_module = torch_module if torch_module is not None else fake_torch(cuda_build=None)
    defaults: dict[str, Any] = {
        "storage_url": "memory://",
        "api_token": TOKEN,
        "config_dir": tmp_path / "cfg",
        "host": "127.0.0.1",
        "port": 0,
    }
    s = load_settings(**{**defaults, **settings})
    detector = SystemDetector(
        tmp_path / "models",
        gpu_detect=lambda: detect_gpus(nvml=nvml, torch_module=torch_module, nvidia_smi=None),
    )
    return Agent(s, detector=detector, gpu_reader=GpuReader(nvml=nvml))
