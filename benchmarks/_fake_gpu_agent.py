"""Run the real agent (runtime, API, sampler) on 8 fake NVML GPUs, for the telemetry benchmarks.

python benchmarks/_fake_gpu_agent.py PORT INTERVAL_S [N_GPUS]
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakes.fake_nvml import FakeNvml, identical_gpus
from ruckus_agent.core.agent import Agent
from ruckus_agent.core.config import load_settings
from ruckus_agent.core.detector import SystemDetector
from ruckus_agent.gpu import GpuReader, detect_gpus
from ruckus_agent.runtime import Runtime


async def main() -> None:
    port, interval = int(sys.argv[1]), float(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    nvml = FakeNvml(identical_gpus(n))
    settings = load_settings(
        host="127.0.0.1",
        port=port,
        storage_url="memory://",
        sample_interval_s=interval,
        config_dir=Path(tempfile.mkdtemp()),
    )
    detector = SystemDetector(settings.model_path, gpu_detect=lambda: detect_gpus(nvml=nvml, nvidia_smi=None))
    runtime = Runtime(settings, agent=Agent(settings, detector=detector, gpu_reader=GpuReader(nvml=nvml)))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await runtime.start()
    await stop.wait()
    await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main())
