"""System detection against recorded /proc and /sys files and the real machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psutil

from ruckus_agent.core.detector import (
    SystemDetector,
    detect_cpu,
    detect_models,
    framework_gpu_support,
    parse_cpuinfo,
)
from ruckus_agent.models.gpu import GpuDetection

CPUINFO_2_SOCKETS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
physical id\t: 0
core id\t\t: 0
cpu MHz\t\t: 2000.000
flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
physical id\t: 0
core id\t\t: 0
cpu MHz\t\t: 2100.000
flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8

processor\t: 2
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
physical id\t: 1
core id\t\t: 0
cpu MHz\t\t: 2000.000
flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8
"""


def test_parse_cpuinfo_counts_physical_cores_across_sockets() -> None:
    parsed = parse_cpuinfo(CPUINFO_2_SOCKETS)
    assert parsed["model"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert parsed["vendor"] == "GenuineIntel"
    assert parsed["physical_cores"] == 2  # (socket 0, core 0) twice is one core (hyper-thread)
    assert {"amx_bf16", "avx512_fp16"} <= parsed["flags"]  # type: ignore[operator]
    assert parsed["mhz"] == (2000 + 2100 + 2000) / 3


def test_detect_cpu_reads_features_and_caches_from_a_root(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text(CPUINFO_2_SOCKETS)
    for i, (level, kind, size) in enumerate(
        [(1, "Data", "48K"), (1, "Instruction", "32K"), (2, "Unified", "2048K"), (3, "Unified", "105M")]
    ):
        d = tmp_path / f"sys/devices/system/cpu/cpu0/cache/index{i}"
        d.mkdir(parents=True)
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")
    cpu = detect_cpu(tmp_path)
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8480+"
    assert cpu.physical_cores == 2
    assert cpu.l2_cache_kb == 2048
    assert cpu.l3_cache_kb == 105 * 1024
    if cpu.architecture == "x86_64":
        assert cpu.features["amx_bf16"] is True
        assert cpu.features["avx512_bf16"] is True
        assert cpu.features["amx_fp16"] is False
        assert "neon" not in cpu.features


def test_this_machine_matches_proc_and_psutil() -> None:
    info = SystemDetector(
        Path("/nonexistent"), gpu_detect=lambda: GpuDetection(summary="no GPU layer")
    ).detect()
    text = Path("/proc/cpuinfo").read_text()
    model_line = next(line for line in text.splitlines() if line.startswith("model name"))
    assert info.cpu.model == model_line.split(":", 1)[1].strip()
    assert info.cpu.logical_cores == os.cpu_count()
    assert abs(info.memory.total_mb - psutil.virtual_memory().total / 2**20) < 1
    assert info.system.os == "Linux"
    assert "latency" in info.metrics and "throughput" in info.metrics
    assert info.gpus == [] and info.gpu_detection_summary == "no GPU layer"
    names = {f.name for f in info.frameworks}
    assert "numpy" in names


def test_gpu_layer_failure_is_explained_not_fatal() -> None:
    def broken() -> GpuDetection:
        raise OSError("driver exploded")

    info = SystemDetector(Path("/nonexistent"), gpu_detect=broken).detect()
    assert info.gpus == []
    assert "driver exploded" in info.gpu_detection_summary


def test_framework_gpu_support_from_metadata() -> None:
    assert framework_gpu_support("torch", "2.3.0+cu121", [])[0] is True
    assert framework_gpu_support("torch", "2.3.0+rocm6.0", [])[0] is True
    assert framework_gpu_support("torch", "2.13.0+cpu", [])[0] is False
    assert framework_gpu_support("torch", "2.4.0", ["nvidia-cublas-cu12==12.1; platform_system == 'Linux'"])[
        0
    ]
    assert framework_gpu_support("onnxruntime-gpu", "1.18.0", [])[0] is True
    assert framework_gpu_support("transformers", "4.44.0", ["numpy"])[0] is None


def test_models_on_disk(tmp_path: Path) -> None:
    hf = tmp_path / "tiny-gpt2"
    hf.mkdir()
    (hf / "config.json").write_text(
        json.dumps({"architectures": ["GPT2LMHeadModel"], "torch_dtype": "float32"})
    )
    (hf / "model.safetensors").write_bytes(b"x" * 100)
    (tmp_path / "llama.gguf").write_bytes(b"g" * 10)
    (tmp_path / "notes").mkdir()  # no config, no weights: not a model
    models = detect_models(tmp_path)
    assert [(m.name, m.format, m.architecture, m.dtype) for m in models] == [
        ("llama", "gguf", None, None),
        ("tiny-gpt2", "safetensors", "GPT2LMHeadModel", "float32"),
    ]
    assert models[1].size_bytes == 100 + len((hf / "config.json").read_bytes())
    assert detect_models(tmp_path / "missing") == []
