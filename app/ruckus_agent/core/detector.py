"""SystemDetector: OS, CPU, memory, frameworks, models on disk, and GPUs (through gpu/).

Everything here is cheap and import-free: frameworks are read from distribution metadata, the CPU from
/proc/cpuinfo and psutil (py-cpuinfo takes over a second, so it is not used).
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psutil

from ruckus_agent.core.models_scan import scan_models
from ruckus_agent.models.gpu import GpuDetection
from ruckus_agent.models.metrics import metric_families
from ruckus_agent.models.system import (
    CpuInfo,
    FrameworkInfo,
    MemoryInfo,
    SystemDetails,
    SystemInfo,
)

log = logging.getLogger(__name__)

MB = 1024 * 1024

#: ISA features that matter for ML, as /proc/cpuinfo names them -> our names
CPU_FEATURES = {
    "sse4_2": "sse4_2",
    "avx": "avx",
    "avx2": "avx2",
    "fma": "fma",
    "f16c": "f16c",
    "avx512f": "avx512f",
    "avx512bw": "avx512bw",
    "avx512vl": "avx512vl",
    "avx512_vnni": "avx512_vnni",
    "avx512_bf16": "avx512_bf16",
    "avx512_fp16": "avx512_fp16",
    "avx_vnni": "avx_vnni",
    "amx_tile": "amx_tile",
    "amx_bf16": "amx_bf16",
    "amx_int8": "amx_int8",
    "amx_fp16": "amx_fp16",
    # Arm
    "asimd": "neon",
    "asimdhp": "neon_fp16",
    "sve": "sve",
    "sve2": "sve2",
    "bf16": "arm_bf16",
    "i8mm": "arm_i8mm",
}

#: Distributions we report as ML frameworks (distribution name -> display name)
FRAMEWORKS = {
    "torch": "torch",
    "transformers": "transformers",
    "vllm": "vllm",
    "onnxruntime": "onnxruntime",
    "onnxruntime-gpu": "onnxruntime-gpu",
    "jax": "jax",
    "jaxlib": "jaxlib",
    "tensorflow": "tensorflow",
    "tensorrt": "tensorrt",
    "tensorrt-llm": "tensorrt-llm",
    "accelerate": "accelerate",
    "diffusers": "diffusers",
    "optimum": "optimum",
    "sentence-transformers": "sentence-transformers",
    "llama-cpp-python": "llama-cpp-python",
    "triton": "triton",
    "deepspeed": "deepspeed",
    "bitsandbytes": "bitsandbytes",
    "xformers": "xformers",
    "flash-attn": "flash-attn",
    "numpy": "numpy",
    "openvino": "openvino",
}


# --- system ---------------------------------------------------------------------------------
def _os_release(root: Path) -> str | None:
    try:
        text = (root / "etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return None
    fields = dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )
    name = fields.get("PRETTY_NAME") or fields.get("NAME")
    return name.strip().strip('"') if name else None


def detect_system(root: Path = Path("/")) -> SystemDetails:
    uname = platform.uname()
    os_release = _os_release(root) if uname.system == "Linux" else f"{uname.system} {uname.release}"
    try:
        boot = datetime.fromtimestamp(psutil.boot_time(), tz=UTC)
    except Exception:  # psutil can fail in odd containers
        boot = None
    return SystemDetails(
        hostname=socket.gethostname(),
        os=uname.system,
        os_release=os_release,
        kernel=uname.release,
        architecture=uname.machine,
        python_version=platform.python_version(),
        python_implementation=platform.python_implementation(),
        boot_time=boot,
    )


# --- CPU --------------------------------------------------------------------------------------
def parse_cpuinfo(text: str) -> dict[str, object]:
    """Model, vendor, flags and physical-core count from /proc/cpuinfo text."""
    model = vendor = None
    flags: set[str] = set()
    cores: set[tuple[str, str]] = set()
    mhz: list[float] = []
    physical_id = "0"
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if ":" in line:
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
        if not fields:
            continue
        model = model or fields.get("model name") or fields.get("Model") or fields.get("cpu model")
        vendor = vendor or fields.get("vendor_id") or fields.get("CPU implementer")
        flags |= set((fields.get("flags") or fields.get("Features") or "").split())
        physical_id = fields.get("physical id", physical_id)
        if "core id" in fields:
            cores.add((physical_id, fields["core id"]))
        if "cpu MHz" in fields:
            try:
                mhz.append(float(fields["cpu MHz"]))
            except ValueError:
                pass
    return {
        "model": model,
        "vendor": vendor,
        "flags": flags,
        "physical_cores": len(cores) or None,
        "mhz": (sum(mhz) / len(mhz)) if mhz else None,
    }


def _cache_kb(level: int, root: Path) -> int | None:
    base = root / "sys/devices/system/cpu/cpu0/cache"
    try:
        for index in sorted(base.glob("index*")):
            if (index / "level").read_text().strip() != str(level):
                continue
            if (index / "type").read_text().strip() == "Instruction":
                continue
            size = (index / "size").read_text().strip()
            if size.endswith("K"):
                return int(size[:-1])
            if size.endswith("M"):
                return int(size[:-1]) * 1024
            return int(size) // 1024
    except (OSError, ValueError):
        return None
    return None


def detect_cpu(root: Path = Path("/")) -> CpuInfo:
    try:
        parsed = parse_cpuinfo((root / "proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        parsed = {
            "model": platform.processor() or None,
            "vendor": None,
            "flags": set(),
            "physical_cores": None,
        }
    flags = parsed["flags"]
    assert isinstance(flags, set)
    features = {ours: theirs in flags for theirs, ours in CPU_FEATURES.items()}
    # Report only features of this ISA family (x86 names on x86, Arm names on Arm).
    machine = platform.machine().lower()
    arm_only = {"neon", "neon_fp16", "sve", "sve2", "arm_bf16", "arm_i8mm"}
    is_arm = machine.startswith(("arm", "aarch"))
    features = {k: v for k, v in features.items() if (k in arm_only) == is_arm}
    freq_now = freq_max = None
    try:
        freq = psutil.cpu_freq()
        if freq is not None:
            freq_now = freq.current or None
            freq_max = freq.max or None
    except Exception:
        pass
    if freq_now is None and isinstance(parsed.get("mhz"), float):
        freq_now = parsed["mhz"]
    physical = parsed["physical_cores"] or psutil.cpu_count(logical=False)
    return CpuInfo(
        model=parsed["model"],
        vendor=parsed["vendor"],
        architecture=platform.machine(),
        physical_cores=physical,
        logical_cores=psutil.cpu_count(logical=True) or os.cpu_count() or 1,
        frequency_mhz=round(freq_now, 1) if freq_now else None,
        frequency_max_mhz=round(freq_max, 1) if freq_max else None,
        features=features,
        l2_cache_kb=_cache_kb(2, root),
        l3_cache_kb=_cache_kb(3, root),
    )


def detect_memory() -> MemoryInfo:
    vm = psutil.virtual_memory()
    try:
        swap_total: float | None = psutil.swap_memory().total / MB
    except Exception:
        swap_total = None
    return MemoryInfo(
        total_mb=round(vm.total / MB, 1),
        available_mb=round(vm.available / MB, 1),
        used_percent=vm.percent,
        swap_total_mb=round(swap_total, 1) if swap_total is not None else None,
    )


# --- frameworks -------------------------------------------------------------------------------
def framework_gpu_support(name: str, version: str, requires: list[str]) -> tuple[bool | None, str]:
    """Whether a framework build can use a GPU, from metadata alone; None when metadata cannot tell."""
    local = version.partition("+")[2].lower()
    if local.startswith(("cu", "rocm")):
        return True, f"local version +{local}"
    if local == "cpu":
        return False, "local version +cpu (CPU-only build)"
    gpu_reqs = [r.split(";")[0].strip() for r in requires if r.lower().startswith(("nvidia-", "jax-cuda"))]
    gpu_reqs = [r for r in gpu_reqs if "extra ==" not in r]
    if gpu_reqs:
        return True, f"CUDA libraries among its requirements ({gpu_reqs[0]}, ...)"
    if name.endswith("-gpu"):
        return True, "GPU distribution"
    return None, "not known without importing it"


def detect_frameworks() -> list[FrameworkInfo]:
    found: list[FrameworkInfo] = []
    for dist_name, display in FRAMEWORKS.items():
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            continue
        requires = [r for r in (dist.requires or []) if "extra ==" not in r]
        support, detail = framework_gpu_support(dist_name, dist.version, requires)
        found.append(FrameworkInfo(name=display, version=dist.version, gpu_support=support, detail=detail))
    return found


# --- models ---------------------------------------------------------------------------------------
#: Models in the model directory, read from their config and safetensors headers (no weights loaded).
detect_models = scan_models


# --- the detector -----------------------------------------------------------------------------
GpuDetectFn = Callable[[], GpuDetection]


def _default_gpu_detect() -> GpuDetection:
    from ruckus_agent.gpu import detect_gpus

    return detect_gpus()


class SystemDetector:
    """Runs every detector; GPU detection is injectable so tests can drive it with fake hardware."""

    def __init__(self, model_path: Path, gpu_detect: GpuDetectFn | None = None) -> None:
        self.model_path = model_path
        self._gpu_detect = gpu_detect or _default_gpu_detect

    def detect_gpus(self) -> GpuDetection:
        try:
            return self._gpu_detect()
        except Exception as exc:  # a broken GPU stack must not stop the agent
            log.exception("GPU detection failed")
            return GpuDetection(summary=f"GPU detection failed: {exc}")

    def detect(self) -> SystemInfo:
        """Synchronous and blocking (reads files, may run nvidia-smi): call it in a thread."""
        started = time.perf_counter()
        gpu = self.detect_gpus()
        info = SystemInfo(
            system=detect_system(),
            cpu=detect_cpu(),
            memory=detect_memory(),
            gpus=gpu.gpus,
            gpu_detection_errors=gpu.detection_errors,
            gpu_detection_summary=gpu.summary,
            frameworks=detect_frameworks(),
            models=detect_models(self.model_path),
            metrics=metric_families(),
        )
        info.detection_seconds = round(time.perf_counter() - started, 4)
        return info


def python_executable() -> str:
    return sys.executable
