"""Benchmark task types on the bench package: `memory_benchmark`, `compute_benchmark`, `gpu_benchmark`.

load() is the cold start: the back-end import (torch or numpy), the size calibration and the first measured
call; every warm run then measures again at the calibrated sizes, so runs are comparable.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from pydantic import Field, field_validator

from ruckus_agent.jobs.tasks.base import RunOutput, Task, TaskParams

PRECISIONS = ("FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8", "FP4")
MemoryTest = Literal["copy", "read", "write", "triad", "h2d", "d2h"]


class _DeviceParams(TaskParams):
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d{1,2})?)$", description="'cpu' or 'cuda:N'")
    quick: bool = Field(True, description="Shorter calibration and regions")
    max_memory_usage_percent: float = Field(50, gt=0, le=90, description="Cap on free device memory used")
    backend: Literal["torch", "numpy"] | None = Field(
        None, description="Force a back-end (default: torch if installed)"
    )


class MemoryParams(_DeviceParams):
    tests: list[MemoryTest] | None = Field(None, description="Subset of copy, read, write, triad, h2d, d2h")
    size_mb: float | None = Field(
        None,
        gt=0,
        le=1024 * 1024,
        description="Fixed array size in MiB (default: the plateau found in the cold run)",
    )


class ComputeParams(_DeviceParams):
    precisions: list[str] | None = Field(None, description=f"Subset of {list(PRECISIONS)}")
    matrix_size: int | None = Field(None, ge=16, le=65536, description="Fixed n (default: calibrated)")

    @field_validator("precisions")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        upper = [p.strip().upper() for p in value]
        unknown = [p for p in upper if p not in PRECISIONS]
        if unknown:
            raise ValueError(f"unknown precision(s) {unknown}; choose from {list(PRECISIONS)}")
        if not upper:
            raise ValueError("name at least one precision")
        return upper


class GpuBenchParams(ComputeParams):
    device: str = Field("cuda:0", pattern=r"^(cpu|cuda(:\d{1,2})?)$", description="'cuda:N' (or 'cpu')")
    tests: list[MemoryTest] | None = None


def _fixed_matmul_config(quick: bool, n: int) -> Any:
    from ruckus_agent.bench.matmul import FULL_MATMUL, QUICK_MATMUL

    base = QUICK_MATMUL if quick else FULL_MATMUL
    return dataclasses.replace(base, start_n=n, max_n_cpu=n, max_n_cuda=n, min_product_s=0.0)


def _fixed_memory_config(quick: bool, size_bytes: int) -> Any:
    from ruckus_agent.bench.memory import FULL_MEMORY, QUICK_MEMORY

    base = QUICK_MEMORY if quick else FULL_MEMORY
    return dataclasses.replace(base, start_bytes=size_bytes, max_size_bytes=size_bytes, plateau_floor_bytes=0)


class ComputeBenchmarkTask(Task):
    params_model = ComputeParams
    description = "Matrix-multiply TFLOPS per precision (2·n³ per product) on cpu or cuda:N"

    def load(self) -> dict[str, Any]:
        from ruckus_agent.bench.matmul import run_matmul

        p = self.params
        assert isinstance(p, ComputeParams)
        self._sizes: dict[str, int] = {}
        self._skipped: dict[str, str] = {}
        first = run_matmul(  # a fixed n when given (its config wins over `quick`), else calibrated
            p.device,
            quick=p.quick,
            precisions=p.precisions,
            backend=p.backend,
            max_memory_usage_percent=p.max_memory_usage_percent,
            config=_fixed_matmul_config(p.quick, p.matrix_size) if p.matrix_size else None,
        )
        for name, r in first.results.items():
            if r.skipped or r.n is None:
                self._skipped[name] = r.skip_reason or "skipped"
            else:
                self._sizes[name] = r.n
        self._backend = first.backend
        return {"calibrated_n": dict(self._sizes), "skipped": dict(self._skipped), "backend": first.backend}

    def run(self, run_id: int) -> RunOutput:
        from ruckus_agent.bench.matmul import run_matmul

        p = self.params
        assert isinstance(p, ComputeParams)
        metrics: dict[str, float] = {}
        details: dict[str, Any] = {"n": {}, "skipped": dict(self._skipped), "backend": self._backend}
        for precision, n in self._sizes.items():
            res = run_matmul(
                p.device,
                precisions=[precision],
                backend=p.backend,
                max_memory_usage_percent=p.max_memory_usage_percent,
                config=_fixed_matmul_config(p.quick, n),
            ).results[precision]
            if res.skipped or res.tflops is None:
                details["skipped"][precision] = res.skip_reason or "skipped"
                continue
            key = precision.lower()
            metrics[f"tflops_{key}"] = res.tflops
            if res.avg_time_ms is not None:
                metrics[f"avg_time_ms_{key}"] = res.avg_time_ms
            details["n"][precision] = res.n
        if not metrics:
            raise RuntimeError(f"no precision could run on {p.device}: {details['skipped']}")
        return RunOutput(metrics=metrics, details=details)


class MemoryBenchmarkTask(Task):
    params_model = MemoryParams
    description = (
        "Memory bandwidth (copy, read, write, triad; h2d/d2h on GPUs), GB/s = 1e9 B/s, STREAM counting"
    )

    def load(self) -> dict[str, Any]:
        from ruckus_agent.bench.memory import run_memory_bandwidth

        p = self.params
        assert isinstance(p, MemoryParams)
        fixed = int(p.size_mb * 1024 * 1024) if p.size_mb else None
        first = run_memory_bandwidth(  # a fixed size when given (its config wins over `quick`), else a sweep
            p.device,
            quick=p.quick,
            tests=p.tests,
            backend=p.backend,
            max_memory_usage_percent=p.max_memory_usage_percent,
            config=_fixed_memory_config(p.quick, fixed) if fixed else None,
        )
        if fixed:
            self._size = fixed
        else:
            sizes = [
                max(t.plateau_sizes_bytes or [t.points[-1].size_bytes])
                for t in first.tests.values()
                if t.points
            ]
            if not sizes:
                raise RuntimeError("the calibration sweep measured nothing")
            self._size = max(sizes)
        self._tests = list(first.tests)
        return {
            "array_size_bytes": self._size,
            "calibration_peak_bandwidth_gb_s": first.peak_bandwidth_gb_s,
            "backend": first.backend,
        }

    def run(self, run_id: int) -> RunOutput:
        from ruckus_agent.bench.memory import run_memory_bandwidth

        p = self.params
        assert isinstance(p, MemoryParams)
        res = run_memory_bandwidth(
            p.device,
            tests=self._tests,
            backend=p.backend,
            max_memory_usage_percent=p.max_memory_usage_percent,
            config=_fixed_memory_config(p.quick, self._size),
        )
        metrics: dict[str, float] = {}
        for name, test in res.tests.items():
            if test.points:
                metrics[f"bandwidth_gb_s_{name}"] = test.points[-1].bandwidth_gb_s
        if not metrics:
            raise RuntimeError(f"no bandwidth test fitted in the memory cap on {p.device}")
        return RunOutput(metrics=metrics, details={"array_size_bytes": self._size, "backend": res.backend})


class GpuBenchmarkTask(Task):
    """Both benchmarks in one job: bandwidth and TFLOPS per run."""

    params_model = GpuBenchParams
    description = "Memory bandwidth and matmul TFLOPS together on one device (default cuda:0)"

    def load(self) -> dict[str, Any]:
        p = self.params
        assert isinstance(p, GpuBenchParams)
        shared = p.model_dump(include={"device", "quick", "max_memory_usage_percent", "backend"})
        self._memory = MemoryBenchmarkTask(MemoryParams(**shared, tests=p.tests), self.context)
        self._compute = ComputeBenchmarkTask(
            ComputeParams(**shared, precisions=p.precisions, matrix_size=p.matrix_size), self.context
        )
        return {"memory": self._memory.load(), "compute": self._compute.load()}

    def run(self, run_id: int) -> RunOutput:
        mem = self._memory.run(run_id)
        comp = self._compute.run(run_id)
        return RunOutput(
            metrics={**mem.metrics, **comp.metrics}, details={"memory": mem.details, "compute": comp.details}
        )
