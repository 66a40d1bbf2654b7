"""Benchmarks: memory bandwidth, matmul throughput per precision, tensor cores; torch (CUDA/CPU) or numpy.

Modules keep measuring (timing, backends, memory, matmul, tensor_cores), statistics (stats) and reporting
(report) apart; results are the pydantic records of `ruckus_agent.models.benchmark`. Importing this package
does not import torch.
"""

from __future__ import annotations

from ruckus_agent.bench.backends import Backend, NumpyBackend, TorchBackend, make_backend
from ruckus_agent.bench.control import BenchmarkCancelled, BenchmarkError, RunControl
from ruckus_agent.bench.matmul import FULL_MATMUL, QUICK_MATMUL, MatmulConfig, run_matmul
from ruckus_agent.bench.memory import FULL_MEMORY, QUICK_MEMORY, MemoryConfig, run_memory_bandwidth
from ruckus_agent.bench.report import format_suite
from ruckus_agent.bench.stats import PlateauRule, find_plateau
from ruckus_agent.bench.suite import run_suite
from ruckus_agent.bench.tensor_cores import assess_tensor_cores
from ruckus_agent.bench.timing import FakeTimer, PerfCounterTimer, Region, Timer

__all__ = [
    "FULL_MATMUL",
    "FULL_MEMORY",
    "QUICK_MATMUL",
    "QUICK_MEMORY",
    "Backend",
    "BenchmarkCancelled",
    "BenchmarkError",
    "FakeTimer",
    "MatmulConfig",
    "MemoryConfig",
    "NumpyBackend",
    "PerfCounterTimer",
    "PlateauRule",
    "Region",
    "RunControl",
    "Timer",
    "TorchBackend",
    "assess_tensor_cores",
    "find_plateau",
    "format_suite",
    "make_backend",
    "run_matmul",
    "run_memory_bandwidth",
    "run_suite",
]
