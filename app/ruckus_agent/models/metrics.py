"""The metric registry: every per-run metric, its unit (also in its key) and its family."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    key: str
    unit: str
    family: str
    description: str
    higher_is_better: bool | None = None


_SPECS = [
    MetricSpec("latency_s", "s", "latency", "Wall time of one run", False),
    MetricSpec("ttft_s", "s", "latency", "Time to first token (from streamed timestamps)", False),
    MetricSpec("tpot_s", "s", "latency", "Time per output token after the first", False),
    MetricSpec("avg_time_ms", "ms", "latency", "Mean time of one timed operation", False),
    MetricSpec(
        "model_load_time_seconds", "s", "latency", "Model/back-end load time (cold start only)", False
    ),
    MetricSpec("input_tokens", "tokens", "tokens", "Prompt tokens"),
    MetricSpec("output_tokens", "tokens", "tokens", "Generated tokens"),
    MetricSpec("throughput_tokens_per_s", "tokens/s", "throughput", "Output tokens per second", True),
    MetricSpec(
        "bandwidth_gb_s", "GB/s", "throughput", "Memory bandwidth, 1e9 bytes/s, STREAM byte counting", True
    ),
    MetricSpec("tflops", "TFLOP/s", "throughput", "Dense matmul throughput, 2n^3 per product", True),
    MetricSpec("peak_memory_mb", "MB", "memory_usage", "Peak memory of the run", False),
    MetricSpec("model_load_memory_mb", "MB", "memory_usage", "Memory taken by loading the model", False),
    MetricSpec("gpu_utilization_pct", "%", "gpu_utilization", "Mean GPU utilization over the run"),
    MetricSpec("gpu_utilization_max_pct", "%", "gpu_utilization", "Max GPU utilization over the run"),
    MetricSpec("gpu_memory_peak_mb", "MB", "memory_usage", "Peak GPU memory used over the run", False),
    MetricSpec("power_mean_w", "W", "power", "Mean GPU power over the run"),
    MetricSpec("energy_j", "J", "energy", "GPU energy over the run", False),
    MetricSpec("temperature_max_c", "C", "temperature", "Max GPU temperature over the run"),
    MetricSpec("cpu_utilization_pct", "%", "cpu_utilization", "Mean host CPU utilization over the run"),
    MetricSpec("rouge_l", "", "quality", "ROUGE-L F-measure against a reference summary", True),
]

METRICS: dict[str, MetricSpec] = {spec.key: spec for spec in _SPECS}


def metric_families() -> list[str]:
    """The families in registry order, each once (what /api/v1/info lists as `metrics`)."""
    return list(dict.fromkeys(spec.family for spec in _SPECS))
