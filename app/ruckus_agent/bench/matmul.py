"""Matrix-multiply throughput per precision: square nxn products, 2·n³ operations each.

For each precision: n starts at `start_n` and doubles until one product (best of two single calls, after
the warm-up call) lasts `min_product_s`, bounded by `max_n`, the memory limit and the precision's time
budget; then the iteration count adapts so a timed region lasts `target_region_s`, and `repeats` regions
are timed (CUDA events on GPUs). The figure is the best region's mean time per product. A precision the
device cannot run is reported skipped with the reason (the library's own error when trying it failed),
never as 0."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ruckus_agent.bench.backends import MATMUL_PRECISIONS, Backend, make_backend
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
from ruckus_agent.bench.timing import Region, Timer, measure
from ruckus_agent.models.benchmark import ComputeResult, MatmulProbe, MatmulResult

KNOWN_PRECISIONS: tuple[str, ...] = (*MATMUL_PRECISIONS, "FP4")


@dataclass(frozen=True)
class MatmulConfig:
    """Knobs of the matmul benchmark; `budget_s` is per precision (growth, calibration and regions)."""

    start_n: int
    max_n_cpu: int
    max_n_cuda: int
    min_product_s: float
    target_region_s: float
    repeats: int
    budget_s: float

    def max_n(self, backend: Backend) -> int:
        return self.max_n_cuda if backend.is_cuda else self.max_n_cpu


FULL_MATMUL = MatmulConfig(
    start_n=256,
    max_n_cpu=4096,
    max_n_cuda=16384,
    min_product_s=0.02,
    target_region_s=0.25,
    repeats=7,
    budget_s=8.0,
)
QUICK_MATMUL = MatmulConfig(
    start_n=256,
    max_n_cpu=2048,
    max_n_cuda=16384,
    min_product_s=0.005,
    target_region_s=0.1,
    repeats=3,
    budget_s=1.5,
)


def normalise_precisions(precisions: Iterable[str] | None) -> list[str]:
    """Upper-cased, de-duplicated, in display order; unknown names raise."""
    if precisions is None:
        return list(MATMUL_PRECISIONS)
    wanted = {p.strip().upper() for p in precisions}
    unknown = wanted - set(KNOWN_PRECISIONS)
    if unknown:
        raise BenchmarkError(f"unknown precisions {sorted(unknown)}: choose from {list(KNOWN_PRECISIONS)}")
    return [p for p in KNOWN_PRECISIONS if p in wanted]


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _skipped(precision: str, reason: str) -> MatmulResult:
    return MatmulResult(precision=precision, skipped=True, skip_reason=reason)


def _run_precision(
    backend: Backend,
    precision: str,
    config: MatmulConfig,
    timer: Timer,
    control: RunControl,
    limit_bytes: int,
) -> MatmulResult:
    reason = backend.precision_skip_reason(precision)
    if reason is not None:
        return _skipped(precision, reason)
    started, cpu_before = utcnow(), read_cpu_times()
    max_n = config.max_n(backend)
    notes: list[str] = []
    probes: list[MatmulProbe] = []
    budget_limited = False
    spent_s = 0.0
    fn: Callable[[], object] | None = None
    dtype = ""
    n = config.start_n
    held_bytes = 0  # the previous size's kernel stays alive until the next one works
    with backend.precision_mode(precision):
        while True:
            control.check()
            control.report(f"compute_performance: {precision} n={n}", 0.0)
            need = backend.matmul_bytes(precision, n)
            if need + held_bytes > limit_bytes:
                if fn is None:
                    return _skipped(precision, f"n={n} needs {need / 2**20:.0f} MiB, over the memory limit")
                notes.append(f"n={n} would exceed the memory limit: stayed at n={n // 2}")
                n //= 2
                break
            try:
                candidate, candidate_dtype = backend.matmul_kernel(precision, n)
            except Exception as exc:
                if fn is None:
                    return _skipped(precision, _first_line(exc))
                notes.append(f"n={n} failed ({_first_line(exc)}): stayed at n={n // 2}")
                n //= 2
                break
            fn, dtype, held_bytes = candidate, candidate_dtype, need
            # best of two single products: one disturbed call must not decide the size
            probe = Region("matmul", n=n, precision=precision)
            first_s, _ = timer.time(fn, 1, probe)
            second_s, _ = timer.time(fn, 1, probe)
            spent_s += first_s + second_s
            product_s = min(first_s, second_s)
            probes.append(MatmulProbe(n=n, time_ms=product_s * 1e3))
            if product_s >= config.min_product_s:
                break
            if 2 * n > max_n:
                notes.append(
                    f"n capped at {n} (max_n) before one product lasted {config.min_product_s * 1e3:g} ms"
                )
                break
            # the next size costs ~8x per product; it needs a probe plus calibration and repeats
            if spent_s + 8 * product_s * (config.repeats + 3) > config.budget_s:
                budget_limited = True
                notes.append(
                    f"time budget ({config.budget_s:g} s) kept n at {n}: "
                    f"one product took {product_s * 1e3:.3g} ms"
                )
                break
            n *= 2
        assert fn is not None
        region = Region("matmul", n=n, precision=precision)
        timing = measure(
            timer,
            fn,
            region,
            target_s=config.target_region_s,
            repeats=config.repeats,
            budget_s=max(config.budget_s - spent_s, 0.0),
            check=control.check,
        )
    if timing.budget_limited:
        budget_limited = True
        notes.append(
            f"time budget ({config.budget_s:g} s) capped the region at {timing.iterations} product(s), "
            f"shorter than the {config.target_region_s:g} s target"
        )
    finished = utcnow()
    flops = 2.0 * n**3
    return MatmulResult(
        precision=precision,
        dtype=dtype,
        n=n,
        flops_per_product=flops,
        iterations=timing.iterations,
        repeats=len(timing.region_times_s),
        region_times_s=timing.region_times_s,
        region_iterations=timing.region_iterations,
        avg_time_ms=timing.best_s * 1e3,
        tflops=flops / timing.best_s / 1e12,
        median_tflops=flops / timing.median_s / 1e12,
        sizes_tried=probes,
        time_budget_s=config.budget_s,
        budget_limited=budget_limited,
        notes=notes,
        started_at=started,
        finished_at=finished,
        telemetry=control.observe(started, finished),
        host_load=load_since(cpu_before),
    )


def sweep_matmul(
    backend: Backend,
    *,
    config: MatmulConfig,
    precisions: Iterable[str] | None = None,
    max_memory_usage_percent: float = 50.0,
    timer: Timer | None = None,
    control: RunControl | None = None,
) -> ComputeResult:
    """Run the matmul benchmark on a ready backend; BenchmarkCancelled(partial=result) when cancelled."""
    if not 0 < max_memory_usage_percent <= 100:
        raise BenchmarkError("max_memory_usage_percent must be in (0, 100]")
    control = control or RunControl()
    timer = timer or backend.timer()
    selected = normalise_precisions(precisions)
    limit_bytes = int(backend.free_memory_bytes() * max_memory_usage_percent / 100)
    result = ComputeResult(device=backend.device, backend=backend.name, started_at=utcnow())
    cpu_before = read_cpu_times()
    try:
        for i, precision in enumerate(selected):
            part = control.part(i / len(selected), (i + 1) / len(selected))
            result.results[precision] = _run_precision(backend, precision, config, timer, part, limit_bytes)
            backend.release()
    except BenchmarkCancelled:
        result.cancelled = True
    result.finished_at = utcnow()
    result.host_load = load_since(cpu_before)
    if result.cancelled:
        raise BenchmarkCancelled("matmul benchmark cancelled", partial=result)
    control.report("compute_performance: done", 1.0)
    return result


def run_matmul(
    device: str = "cpu",
    *,
    quick: bool = False,
    precisions: Iterable[str] | None = None,
    max_memory_usage_percent: float = 50.0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    telemetry: TelemetryHook | None = None,
    backend: str | Backend | None = None,
    timer: Timer | None = None,
    config: MatmulConfig | None = None,
) -> ComputeResult:
    """Matmul TFLOPS per precision on `device` (FP64, FP32, TF32, FP16, BF16, FP8, INT8 by default).
    Raises BenchmarkCancelled with the partial result when `cancel` is set."""
    chosen = make_backend(device, backend)
    return sweep_matmul(
        chosen,
        config=config or (QUICK_MATMUL if quick else FULL_MATMUL),
        precisions=precisions,
        max_memory_usage_percent=max_memory_usage_percent,
        timer=timer,
        control=RunControl(progress=progress, cancel=cancel, telemetry=telemetry),
    )
