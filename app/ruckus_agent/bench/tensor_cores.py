"""Tensor-core assessment: what the capability table says, and whether FP16/BF16 matmul measurably beats FP32.

On a GPU, the generation comes from the compute capability (gpu.capabilities) and the measured speed-up of
FP16/BF16 over FP32 (IEEE, TF32 off) says whether the tensor cores actually accelerate (a throttled or
misconfigured GPU shows a low one). A CPU has no tensor cores; the same speed-up is reported as a note on
the CPU's matrix unit (AMX, AVX512-BF16), labelled as such.
"""

from __future__ import annotations

from ruckus_agent.bench.backends import Backend, TorchBackend, make_backend
from ruckus_agent.bench.control import CancelToken, ProgressCallback, RunControl, TelemetryHook
from ruckus_agent.bench.hardware import matrix_unit, ml_flags, read_cpuinfo
from ruckus_agent.bench.matmul import FULL_MATMUL, QUICK_MATMUL, MatmulConfig, sweep_matmul
from ruckus_agent.bench.timing import Timer
from ruckus_agent.models.benchmark import ComputeResult, MatmulResult, TensorCoreAssessment

SPEEDUP_THRESHOLD = 1.5
"""FP16/BF16 ÷ FP32 matmul speed-up that counts as 'accelerates'. Tensor cores give 2x (GeForce, FP32
accumulate) to 16x (data-centre parts) over IEEE FP32; below 1.5x they are not doing their job."""

LOW_PRECISIONS = ("FP16", "BF16")
NEEDED = ("FP32", *LOW_PRECISIONS)


def _speedups(results: dict[str, MatmulResult]) -> tuple[float | None, dict[str, float]]:
    fp32 = results.get("FP32")
    base = fp32.tflops if fp32 is not None and not fp32.skipped else None
    out: dict[str, float] = {}
    if base:
        for precision in LOW_PRECISIONS:
            res = results.get(precision)
            if res is not None and not res.skipped and res.tflops is not None:
                out[precision] = res.tflops / base
    return base, out


def _describe(speedups: dict[str, float]) -> str:
    return ", ".join(f"{p} {s:.3g}x FP32" for p, s in speedups.items()) or "no FP16/BF16 speed-up measured"


def assess(
    backend: Backend,
    *,
    compute: ComputeResult | None = None,
    config: MatmulConfig = FULL_MATMUL,
    timer: Timer | None = None,
    control: RunControl | None = None,
) -> TensorCoreAssessment:
    """Assess tensor cores on a ready backend, reusing FP32/FP16/BF16 results from `compute` when given."""
    control = control or RunControl()
    results: dict[str, MatmulResult] = dict(compute.results) if compute is not None else {}
    missing = [p for p in NEEDED if p not in results]
    if missing:
        extra = sweep_matmul(backend, config=config, precisions=missing, timer=timer, control=control)
        results.update(extra.results)
    fp32_tflops, speedups = _speedups(results)
    accelerates = any(s >= SPEEDUP_THRESHOLD for s in speedups.values()) if speedups else None
    measured = _describe(speedups)

    if isinstance(backend, TorchBackend) and backend.is_cuda:
        from ruckus_agent.gpu.capabilities import (
            architecture_name,
            supported_precisions,
            tensor_core_generation,
        )

        cc = backend.compute_capability()
        generation = tensor_core_generation(cc)
        arch = architecture_name(cc)
        if generation is None:
            note = f"No tensor cores ({arch or 'unknown architecture'}); measured {measured}."
        elif accelerates:
            note = f"Tensor cores, generation {generation} ({arch}), accelerate: {measured}."
        elif accelerates is None:
            note = f"Tensor cores, generation {generation} ({arch}); speed-up not measured."
        else:
            note = (
                f"Tensor cores, generation {generation} ({arch}), but measured {measured} is below "
                f"{SPEEDUP_THRESHOLD:g}x: check clocks, throttling and the telemetry of the run."
            )
        return TensorCoreAssessment(
            device=backend.device,
            kind="gpu",
            present=generation is not None,
            generation=generation,
            architecture=arch,
            compute_capability=list(cc) if cc else None,
            supported_precisions=supported_precisions(cc),
            fp32_tflops=fp32_tflops,
            speedup_vs_fp32=speedups,
            speedup_threshold=SPEEDUP_THRESHOLD,
            accelerates=accelerates,
            note=note,
        )

    flags = read_cpuinfo()[1]
    unit = matrix_unit(flags)
    unit_text = unit or f"none seen (flags: {' '.join(ml_flags(flags)) or 'unknown'})"
    if accelerates:
        verdict = "low-precision matmul runs faster than FP32 here"
    elif accelerates is None:
        verdict = "speed-up not measured"
    else:
        verdict = "low-precision matmul does not run faster than FP32 here"
    note = f"CPU: no tensor cores. CPU matrix unit: {unit_text}. Measured {measured}: {verdict}."
    return TensorCoreAssessment(
        device=backend.device,
        kind="cpu",
        present=False,
        supported_precisions=[p for p, r in results.items() if not r.skipped],
        fp32_tflops=fp32_tflops,
        speedup_vs_fp32=speedups,
        speedup_threshold=SPEEDUP_THRESHOLD,
        accelerates=accelerates,
        matrix_unit=unit,
        note=note,
    )


def assess_tensor_cores(
    device: str = "cpu",
    *,
    compute: ComputeResult | None = None,
    quick: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    telemetry: TelemetryHook | None = None,
    backend: str | Backend | None = None,
    timer: Timer | None = None,
    config: MatmulConfig | None = None,
) -> TensorCoreAssessment:
    """Tensor cores on `device`: table + measured FP16/BF16 speed-up over FP32 (runs the matmuls that
    `compute` lacks). Raises BenchmarkCancelled (partial: the ComputeResult so far) when cancelled."""
    chosen = make_backend(device, backend)
    return assess(
        chosen,
        compute=compute,
        config=config or (QUICK_MATMUL if quick else FULL_MATMUL),
        timer=timer,
        control=RunControl(progress=progress, cancel=cancel, telemetry=telemetry),
    )
