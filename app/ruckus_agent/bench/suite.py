"""The benchmark suite: memory bandwidth, matmul per precision and the tensor-core assessment on one device.

Synchronous; the agent runs it in a thread or a worker process. Cancellation raises BenchmarkCancelled whose
`partial` is the BenchmarkSuiteResult of what finished (cancelled=True).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from ruckus_agent.bench.backends import Backend, make_backend
from ruckus_agent.bench.control import (
    BenchmarkCancelled,
    BenchmarkError,
    CancelToken,
    ProgressCallback,
    RunControl,
    TelemetryHook,
    utcnow,
)
from ruckus_agent.bench.hardware import load_since, read_cpu_times
from ruckus_agent.bench.matmul import FULL_MATMUL, QUICK_MATMUL, MatmulConfig, sweep_matmul
from ruckus_agent.bench.memory import FULL_MEMORY, QUICK_MEMORY, MemoryConfig, sweep_memory
from ruckus_agent.bench.tensor_cores import assess
from ruckus_agent.bench.timing import Timer
from ruckus_agent.models.benchmark import (
    SUITE_TESTS,
    BenchmarkSuiteResult,
    ComputeResult,
    MemoryBandwidthResult,
)

TEST_ALIASES: dict[str, str] = {
    "memory_bandwidth": "memory_bandwidth",
    "memory": "memory_bandwidth",
    "bandwidth": "memory_bandwidth",
    "compute_performance": "compute_performance",
    "compute": "compute_performance",
    "matmul": "compute_performance",
    "flops": "compute_performance",
    "tensor_cores": "tensor_cores",
    "tensor_core_capabilities": "tensor_cores",
}
"""Names `tests` accepts, mapped to the suite's parts (SUITE_TESTS)."""

CONTENDED_PCT = 10.0
"""Other processes' CPU share (% of all CPUs) above which the suite notes that figures may read low."""

# Share of the overall progress bar each part takes when it runs.
_WEIGHTS = {"memory_bandwidth": 0.45, "compute_performance": 0.5, "tensor_cores": 0.05}


def normalise_tests(tests: Iterable[str] | None) -> list[str]:
    """The suite parts to run, in run order; unknown names raise."""
    if tests is None:
        return list(SUITE_TESTS)
    chosen = set()
    for name in tests:
        key = TEST_ALIASES.get(name.strip().lower())
        if key is None:
            raise BenchmarkError(f"unknown benchmark test {name!r}: choose from {sorted(TEST_ALIASES)}")
        chosen.add(key)
    return [t for t in SUITE_TESTS if t in chosen]


def share_of_peak(result: BenchmarkSuiteResult) -> tuple[str | None, dict[str, float] | None]:
    """(datasheet row, measured ÷ datasheet) for a CUDA run whose GPU the peak table knows."""
    if not result.device.startswith("cuda"):
        return None, None
    from ruckus_agent.gpu.capabilities import lookup_peak

    spec = lookup_peak(result.device_name)
    if spec is None:
        return None, None
    share: dict[str, float] = {}
    mem = result.memory_bandwidth
    if mem is not None and mem.peak_bandwidth_gb_s and spec.memory_bandwidth_gb_s:
        share["memory_bandwidth"] = mem.peak_bandwidth_gb_s / spec.memory_bandwidth_gb_s
    if result.compute is not None:
        for precision, res in result.compute.results.items():
            peak = spec.tflops.get(precision)
            if res.tflops is not None and peak:
                share[precision] = res.tflops / peak
    return spec.name, share or None


def run_suite(
    device: str = "cpu",
    *,
    quick: bool = False,
    tests: set[str] | Iterable[str] | None = None,
    precisions: list[str] | None = None,
    max_memory_usage_percent: float = 50,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    telemetry: TelemetryHook | None = None,
    backend: str | Backend | None = None,
    timer: Timer | None = None,
    memory_config: MemoryConfig | None = None,
    matmul_config: MatmulConfig | None = None,
) -> BenchmarkSuiteResult:
    """Run the suite on `device` ('cpu' or 'cuda:N').

    tests: any of memory_bandwidth, compute_performance, tensor_cores (aliases: memory, compute, matmul,
    flops, tensor_core_capabilities); all by default. precisions: matmul precisions (all by default).
    backend: 'torch', 'numpy' or None (torch when installed). quick: ~20 s on a 2-core CPU instead of
    ~2 minutes. Raises BenchmarkError when it cannot run, BenchmarkCancelled (partial result) when cancelled.
    """
    selected = normalise_tests(tests)
    chosen = make_backend(device, backend)
    mem_cfg = memory_config or (QUICK_MEMORY if quick else FULL_MEMORY)
    mm_cfg = matmul_config or (QUICK_MATMUL if quick else FULL_MATMUL)
    torch_version, numpy_version = chosen.versions()
    clock_start, cpu_before = time.perf_counter(), read_cpu_times()
    result = BenchmarkSuiteResult(
        device=chosen.device,
        device_name=chosen.device_name(),
        backend=chosen.name,
        torch_version=torch_version,
        numpy_version=numpy_version,
        quick=quick,
        tests=selected,
        hardware=chosen.hardware(),
        started_at=utcnow(),
    )
    if quick:
        result.notes.append("quick: fewer sizes, shorter timed regions and smaller time budgets")

    control = RunControl(progress=progress, cancel=cancel, telemetry=telemetry)
    total = sum(_WEIGHTS[t] for t in selected) or 1.0
    spans: dict[str, tuple[float, float]] = {}
    at = 0.0
    for t in selected:
        spans[t] = (at / total, (at + _WEIGHTS[t]) / total)
        at += _WEIGHTS[t]

    step = ""
    try:
        if "memory_bandwidth" in spans:
            step = "memory_bandwidth"
            result.memory_bandwidth = sweep_memory(
                chosen,
                config=mem_cfg,
                max_memory_usage_percent=max_memory_usage_percent,
                timer=timer,
                control=control.part(*spans[step]),
            )
        if "compute_performance" in spans:
            step = "compute_performance"
            result.compute = sweep_matmul(
                chosen,
                config=mm_cfg,
                precisions=precisions,
                max_memory_usage_percent=max_memory_usage_percent,
                timer=timer,
                control=control.part(*spans[step]),
            )
        if "tensor_cores" in spans:
            step = "tensor_cores"
            result.tensor_cores = assess(
                chosen, compute=result.compute, config=mm_cfg, timer=timer, control=control.part(*spans[step])
            )
    except BenchmarkCancelled as exc:
        result.cancelled = True
        partial = exc.partial
        if isinstance(partial, MemoryBandwidthResult):
            result.memory_bandwidth = partial
        elif isinstance(partial, ComputeResult) and step == "compute_performance":
            result.compute = partial
        result.notes.append(f"cancelled during {step}")
    finally:
        chosen.release()

    result.finished_at = utcnow()
    result.duration_s = time.perf_counter() - clock_start
    result.host_load = load_since(cpu_before)
    busy = (result.host_load or {}).get("other_processes_cpu_pct", 0.0)
    if busy > CONTENDED_PCT:
        result.notes.append(
            f"other processes used {busy:g}% of the CPUs during the run: CPU-side figures may read low"
        )
    result.peak_spec_name, result.share_of_peak = share_of_peak(result)
    if result.cancelled:
        raise BenchmarkCancelled("benchmark suite cancelled", partial=result)
    control.report("done", 1.0)
    return result
