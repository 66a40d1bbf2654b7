"""Benchmark results: memory bandwidth, matrix-multiply throughput, tensor-core assessment, the whole suite.

Plain serializable records. Every figure in them was measured; a figure that could not be measured is None
(JSON null) with the reason beside it, never 0. Units are in the field names: GB/s is 1e9 bytes per second,
TFLOPS is 1e12 operations per second (for INT8 the operations are integer ones, i.e. TOPS).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ruckus_agent.models.common import WireModel, utcnow

BackendName = Literal["torch", "numpy"]
MemoryTestName = Literal["copy", "read", "write", "triad", "h2d", "d2h"]
StopReason = Literal["plateau", "memory_limit", "max_size", "cancelled"]

MEMORY_TESTS: tuple[str, ...] = ("copy", "read", "write", "triad", "h2d", "d2h")
"""Every memory test, in display order."""

STREAM_BYTE_FACTORS: dict[str, int] = {"copy": 2, "read": 1, "write": 1, "triad": 3, "h2d": 1, "d2h": 1}
"""Bytes moved per iteration as STREAM counts them, in multiples of one array: copy reads one array and
writes one (2), read and write touch one (1), triad a = b + s*c reads two and writes one (3); a host<->device
transfer moves one array once (1)."""

SUITE_TESTS: tuple[str, ...] = ("memory_bandwidth", "compute_performance", "tensor_cores")
"""The parts of a suite run, in the order they run."""


class BandwidthPoint(WireModel):
    """One array size of one memory test."""

    size_bytes: int = Field(description="Bytes of one array (float32 elements x 4)")
    bytes_per_iteration: int = Field(description="Bytes one call moves, STREAM counting")
    iterations: int = Field(description="Calls per timed region (adapted so a region lasts long enough)")
    region_times_s: list[float] = Field(description="Duration of each timed region, in run order")
    region_iterations: list[int] = Field(
        default_factory=list,
        description="Calls each region ran: fewer than `iterations` when its deadline cut it",
    )
    bandwidth_gb_s: float = Field(
        description="Best region: bytes_per_iteration x its calls / its time, 1e9 B/s"
    )
    median_bandwidth_gb_s: float = Field(description="Median region, same units")
    started_at: datetime
    finished_at: datetime
    telemetry: dict[str, Any] | None = Field(None, description="What the telemetry hook returned, if any")
    host_load: dict[str, float] | None = Field(
        None, description="Other processes' and the hypervisor's share of the CPUs meanwhile (Linux)"
    )


class PlateauRule(WireModel):
    """When a size sweep stops: the last `window` points at sizes ≥ `min_size_bytes` agree within
    `tolerance` (largest ≤ smallest x (1 + tolerance)); their median is the plateau figure."""

    window: int
    tolerance: float
    min_size_bytes: int
    description: str


class BandwidthTestResult(WireModel):
    """One memory test (copy, read, ...) over its size sweep."""

    test: MemoryTestName
    stream_byte_factor: int = Field(description="Arrays' worth of bytes counted per call (STREAM)")
    points: list[BandwidthPoint] = Field(default_factory=list)
    plateau_rule: PlateauRule
    plateau_reached: bool = False
    plateau_sizes_bytes: list[int] = Field(default_factory=list, description="Sizes the figure comes from")
    peak_bandwidth_gb_s: float | None = Field(
        None,
        description="Plateau (main-memory) figure: median of the plateau window; when no plateau was "
        "reached, the median of the last `window` points at sizes ≥ the rule's floor (see notes)",
    )
    max_bandwidth_gb_s: float | None = Field(None, description="Highest point of the sweep (often a cache)")
    stopped_by: StopReason | None = None
    notes: list[str] = Field(default_factory=list)


class MemoryBandwidthResult(WireModel):
    """The memory-bandwidth benchmark on one device."""

    device: str
    backend: BackendName
    dtype: str = "float32"
    llc_bytes: int = Field(description="Last-level cache the size sweep must exceed (sum over instances)")
    llc_source: str = Field(description="Where llc_bytes was read, or 'default'")
    free_memory_bytes: int = Field(description="Free device memory when the run started")
    max_memory_usage_percent: float
    memory_limit_bytes: int = Field(description="Most bytes the benchmark allocates at once on the device")
    tests: dict[str, BandwidthTestResult] = Field(default_factory=dict)
    peak_bandwidth_gb_s: float | None = Field(None, description="The copy test's plateau figure")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    cancelled: bool = False
    telemetry: dict[str, Any] | None = None
    host_load: dict[str, float] | None = Field(
        None, description="Other processes' and the hypervisor's share of the CPUs meanwhile (Linux)"
    )


class MatmulProbe(WireModel):
    """One matrix size tried while growing n: the time of a single product after warm-up."""

    n: int
    time_ms: float


class MatmulResult(WireModel):
    """Square matrix multiply in one precision; skipped (with the reason) when the device cannot run it."""

    precision: str
    dtype: str | None = Field(None, description="Input dtype, e.g. 'torch.bfloat16'")
    skipped: bool = False
    skip_reason: str | None = None
    n: int | None = Field(None, description="Matrix order: nxn times nxn")
    flops_per_product: float | None = Field(None, description="2·n³")
    iterations: int | None = Field(None, description="Products per timed region")
    repeats: int | None = None
    region_times_s: list[float] = Field(default_factory=list)
    region_iterations: list[int] = Field(default_factory=list, description="Products each region ran")
    avg_time_ms: float | None = Field(None, description="Mean time of one product in the best region")
    tflops: float | None = Field(None, description="2·n³ / avg time, 1e12 per second (TOPS for INT8)")
    median_tflops: float | None = Field(None, description="Same, from the median region")
    sizes_tried: list[MatmulProbe] = Field(default_factory=list)
    time_budget_s: float | None = None
    budget_limited: bool = Field(False, description="The time budget cut n or the iteration count")
    notes: list[str] = Field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    telemetry: dict[str, Any] | None = None
    host_load: dict[str, float] | None = Field(
        None, description="Other processes' and the hypervisor's share of the CPUs meanwhile (Linux)"
    )


class ComputeResult(WireModel):
    """Matrix-multiply throughput per precision on one device."""

    device: str
    backend: BackendName
    results: dict[str, MatmulResult] = Field(default_factory=dict)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    cancelled: bool = False
    host_load: dict[str, float] | None = Field(
        None, description="Other processes' and the hypervisor's share of the CPUs meanwhile (Linux)"
    )


class TensorCoreAssessment(WireModel):
    """Whether the device has tensor cores (GPU) and whether low precision really runs faster than FP32."""

    device: str
    kind: Literal["gpu", "cpu"]
    present: bool = Field(description="Tensor cores by the capability table (always False on a CPU)")
    generation: int | None = Field(None, description="Volta 1, Turing 2, Ampere 3, Ada/Hopper 4, Blackwell 5")
    architecture: str | None = None
    compute_capability: list[int] | None = None
    supported_precisions: list[str] = Field(
        default_factory=list,
        description="GPU: the capability table's list; CPU: the precisions whose matmul ran",
    )
    fp32_tflops: float | None = None
    speedup_vs_fp32: dict[str, float] = Field(
        default_factory=dict, description="Measured FP16/BF16 matmul TFLOPS ÷ FP32 (IEEE) TFLOPS"
    )
    speedup_threshold: float = Field(description="Speed-up that counts as 'accelerates'")
    accelerates: bool | None = Field(None, description="Any speed-up ≥ threshold; None when not measured")
    matrix_unit: str | None = Field(None, description="CPU matrix/vector extension seen in the CPU flags")
    note: str = ""


class HardwareInfo(WireModel):
    """What the benchmark ran on."""

    cpu_model: str | None = None
    cpu_logical_cores: int | None = None
    cpu_flags: list[str] = Field(default_factory=list, description="Matrix/vector flags relevant to ML")
    llc_bytes: int | None = None
    llc_source: str | None = None
    memory_total_bytes: int | None = None
    torch_threads: int | None = None
    gpu_name: str | None = None
    compute_capability: list[int] | None = None
    gpu_memory_total_bytes: int | None = None
    gpu_l2_cache_bytes: int | None = None
    sm_count: int | None = None


class BenchmarkSuiteResult(WireModel):
    """One run of the suite on one device."""

    device: str
    device_name: str
    backend: BackendName
    torch_version: str | None = None
    numpy_version: str | None = None
    quick: bool = False
    tests: list[str] = Field(default_factory=list)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    duration_s: float | None = None
    cancelled: bool = False
    host_load: dict[str, float] | None = Field(
        None, description="Other processes' and the hypervisor's share of the CPUs meanwhile (Linux)"
    )
    hardware: HardwareInfo = Field(default_factory=HardwareInfo)
    memory_bandwidth: MemoryBandwidthResult | None = None
    compute: ComputeResult | None = None
    tensor_cores: TensorCoreAssessment | None = None
    peak_spec_name: str | None = Field(None, description="Datasheet row used for share_of_peak")
    share_of_peak: dict[str, float] | None = Field(
        None, description="Measured ÷ datasheet peak: 'memory_bandwidth' and per precision"
    )
    notes: list[str] = Field(default_factory=list)

    def to_seed_shape(self) -> dict[str, Any]:
        """The seed's `benchmark_results` shape: memory_bandwidth, compute_performance,
        tensor_core_capabilities (and share_of_peak when known)."""
        out: dict[str, Any] = {}
        mem = self.memory_bandwidth
        if mem is not None:
            section: dict[str, Any] = {"peak_bandwidth_gb_s": mem.peak_bandwidth_gb_s}
            for name, test in mem.tests.items():
                section[f"{name}_gb_s"] = test.peak_bandwidth_gb_s
            copy = mem.tests.get("copy")
            section["plateau_reached"] = copy.plateau_reached if copy else None
            out["memory_bandwidth"] = section
        if self.compute is not None:
            perf: dict[str, Any] = {}
            for precision, res in self.compute.results.items():
                if res.skipped:
                    perf[precision] = {
                        "tflops": None,
                        "avg_time_ms": None,
                        "skipped": True,
                        "skip_reason": res.skip_reason,
                    }
                else:
                    perf[precision] = {"tflops": res.tflops, "avg_time_ms": res.avg_time_ms, "n": res.n}
            out["compute_performance"] = perf
        tc = self.tensor_cores
        if tc is not None:
            out["tensor_core_capabilities"] = {
                "present": tc.present,
                "generation": tc.generation,
                "architecture": tc.architecture,
                "supported_precisions": tc.supported_precisions,
                "accelerates": tc.accelerates,
                "fp16_speedup": tc.speedup_vs_fp32.get("FP16"),
                "bf16_speedup": tc.speedup_vs_fp32.get("BF16"),
                "note": tc.note,
            }
        if self.share_of_peak is not None:
            out["share_of_peak"] = dict(self.share_of_peak)
        return out
