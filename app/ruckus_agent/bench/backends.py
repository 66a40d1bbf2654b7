"""Backends: what the benchmarks run on — torch (`cpu` or `cuda:N`) or numpy (CPU only).

A backend allocates the arrays, hands out the kernels (one call = one copy, one product, ...), its timer, and
what it knows of the device. torch is imported here only when a torch backend is made, never at module
import, so the agent starts without it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ruckus_agent.bench.control import BenchmarkError
from ruckus_agent.bench.hardware import CacheInfo, logical_cores, ml_flags, read_cache_info, read_cpuinfo
from ruckus_agent.bench.timing import PerfCounterTimer, Region, Timer
from ruckus_agent.models.benchmark import BackendName, HardwareInfo

MATMUL_PRECISIONS: tuple[str, ...] = ("FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8")
"""Precisions the matmul benchmark knows, in display order (FP4 has no stable torch matmul yet)."""

CPU_MEMORY_TESTS: tuple[str, ...] = ("copy", "read", "write", "triad")
CUDA_MEMORY_TESTS: tuple[str, ...] = (*CPU_MEMORY_TESTS, "h2d", "d2h")

TF32_CPU_REASON = "TF32 is a CUDA tensor-core mode"

# Compute capability each precision needs on CUDA (what gpu.capabilities.supported_precisions encodes).
_CUDA_REQUIREMENTS: dict[str, str] = {
    "FP16": "compute capability ≥ 5.3",
    "TF32": "compute capability ≥ 8.0 (Ampere)",
    "BF16": "compute capability ≥ 8.0 (Ampere)",
    "FP8": "compute capability ≥ 8.9 (Ada, Hopper)",
    "INT8": "compute capability ≥ 6.1",
}

_DEVICE_RE = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


def parse_device(device: str) -> tuple[str, int | None]:
    """'cpu' → ('cpu', None); 'cuda' → ('cuda', 0); 'cuda:1' → ('cuda', 1); anything else raises."""
    match = _DEVICE_RE.match(device.strip().lower())
    if not match:
        raise BenchmarkError(f"unknown device {device!r}: use 'cpu' or 'cuda:N'")
    kind, index = match.group(1), match.group(2)
    if kind == "cpu":
        if index is not None:
            raise BenchmarkError(f"unknown device {device!r}: use 'cpu' or 'cuda:N'")
        return "cpu", None
    return "cuda", int(index or 0)


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def torch_available() -> bool:
    """Whether torch can be imported (checked without importing it)."""
    return importlib.util.find_spec("torch") is not None


def _host_free_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def _host_total_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


@dataclass
class Buffers:
    """Arrays of one memory-sweep size class: device arrays and an optional host (pinned) array."""

    capacity_elems: int
    device: list[Any]
    host: Any = None


class Backend(ABC):
    """One device seen through one array library."""

    name: BackendName
    device: str
    is_cuda: bool = False

    @abstractmethod
    def device_name(self) -> str: ...

    @abstractmethod
    def timer(self) -> Timer: ...

    @abstractmethod
    def free_memory_bytes(self) -> int:
        """Free memory of the device the arrays live on."""

    def host_free_memory_bytes(self) -> int:
        return _host_free_bytes()

    @abstractmethod
    def cache_info(self) -> CacheInfo:
        """The last-level cache a bandwidth sweep has to exceed."""

    @abstractmethod
    def hardware(self) -> HardwareInfo: ...

    def versions(self) -> tuple[str | None, str | None]:
        """(torch version, numpy version) of the libraries this backend uses; None for one it does not."""
        return None, _dist_version("numpy")

    def memory_tests(self) -> tuple[str, ...]:
        return CPU_MEMORY_TESTS

    @abstractmethod
    def allocate(self, n_elems: int, device_arrays: int, host_array: bool) -> Buffers:
        """float32 arrays of n_elems, written once so their pages are touched before timing."""

    @abstractmethod
    def memory_kernel(self, test: str, buffers: Buffers, n_elems: int) -> Callable[[], object]:
        """One call of `test` on the first n_elems of the buffers."""

    def release(self) -> None:  # noqa: B027 - optional hook, a no-op where nothing is cached
        """Give cached device memory back (after buffers were dropped)."""

    @abstractmethod
    def precision_skip_reason(self, precision: str) -> str | None:
        """Why `precision` cannot run here without trying it; None when it should be tried."""

    @abstractmethod
    def matmul_kernel(self, precision: str, n: int) -> tuple[Callable[[], object], str]:
        """(one nxn product, input dtype name); raises when the device cannot run it."""

    @abstractmethod
    def matmul_bytes(self, precision: str, n: int) -> int:
        """Device bytes the inputs, output and set-up temporaries of an nxn product take."""

    @contextlib.contextmanager
    def precision_mode(self, precision: str) -> Iterator[None]:
        """Global library state a precision needs while it runs (TF32 on/off)."""
        yield


def _cpu_hardware(cache: CacheInfo) -> HardwareInfo:
    model, flags = read_cpuinfo()
    return HardwareInfo(
        cpu_model=model,
        cpu_logical_cores=logical_cores(),
        cpu_flags=ml_flags(flags),
        llc_bytes=cache.llc_bytes,
        llc_source=cache.source,
        memory_total_bytes=_host_total_bytes(),
    )


class NumpyBackend(Backend):
    """numpy on the CPU: FP64, FP32 and FP16 matmul; the memory tests with numpy's own kernels.

    numpy has no fused triad: a = b + s·c runs as two passes (a = s·c; a += b), so its triad moves more
    bytes than STREAM counts and reads lower.
    """

    name: BackendName = "numpy"

    def __init__(self, device: str = "cpu") -> None:
        kind, _ = parse_device(device)
        if kind != "cpu":
            raise BenchmarkError("the numpy backend runs on the CPU only")
        import numpy

        self.np = numpy
        self.device = "cpu"
        self._cache: CacheInfo | None = None

    def device_name(self) -> str:
        return read_cpuinfo()[0] or "CPU"

    def timer(self) -> Timer:
        return PerfCounterTimer()

    def free_memory_bytes(self) -> int:
        return _host_free_bytes()

    def cache_info(self) -> CacheInfo:
        if self._cache is None:
            self._cache = read_cache_info()
        return self._cache

    def hardware(self) -> HardwareInfo:
        return _cpu_hardware(self.cache_info())

    def allocate(self, n_elems: int, device_arrays: int, host_array: bool) -> Buffers:
        np = self.np
        arrays = []
        for i in range(device_arrays):
            arr = np.empty(n_elems, dtype=np.float32)
            arr.fill(1.0 + i)
            arrays.append(arr)
        return Buffers(capacity_elems=n_elems, device=arrays)

    def memory_kernel(self, test: str, buffers: Buffers, n_elems: int) -> Callable[[], object]:
        np = self.np
        a = buffers.device[0][:n_elems]
        if test == "read":
            return lambda: np.add.reduce(a)
        if test == "write":
            return lambda: a.fill(2.0)
        b = buffers.device[1][:n_elems]
        if test == "copy":
            return lambda: np.copyto(b, a)
        if test == "triad":
            c = buffers.device[2][:n_elems]

            def triad() -> None:
                np.multiply(c, 3.0, out=a)
                np.add(a, b, out=a)

            return triad
        raise BenchmarkError(f"memory test {test!r} does not run on the numpy backend")

    def precision_skip_reason(self, precision: str) -> str | None:
        reasons = {
            "TF32": TF32_CPU_REASON,
            "BF16": "numpy has no bfloat16 dtype",
            "FP8": "numpy has no 8-bit float dtype",
            "INT8": "numpy has no INT8 matrix multiply with 32-bit accumulation",
        }
        if precision in reasons:
            return reasons[precision]
        if precision not in MATMUL_PRECISIONS:
            return f"{precision} matmul is not benchmarked"
        return None

    def _dtype(self, precision: str) -> Any:
        np = self.np
        return {"FP64": np.float64, "FP32": np.float32, "FP16": np.float16}[precision]

    def matmul_kernel(self, precision: str, n: int) -> tuple[Callable[[], object], str]:
        np = self.np
        dtype = self._dtype(precision)
        rng = np.random.default_rng(0)
        a = rng.standard_normal((n, n), dtype=np.float32).astype(dtype)
        b = rng.standard_normal((n, n), dtype=np.float32).astype(dtype)
        out = np.empty((n, n), dtype=dtype)

        def product() -> None:
            np.matmul(a, b, out=out)

        product()
        return product, f"numpy.{np.dtype(dtype).name}"

    def matmul_bytes(self, precision: str, n: int) -> int:
        itemsize = int(self.np.dtype(self._dtype(precision)).itemsize)
        return n * n * (3 * itemsize + 4)


class CudaEventTimer:
    """CUDA events around the loop on the current stream; the host waits on the end event.

    The deadline is not applied: launches are asynchronous, so the host cannot see mid-region how long
    the device has been busy (and no other process shares the calls' CPU time the way it does on a CPU).
    """

    def __init__(self, torch: Any, index: int) -> None:
        self._torch = torch
        self._index = index

    def time(
        self, fn: Callable[[], object], iterations: int, region: Region, deadline_s: float | None = None
    ) -> tuple[float, int]:
        torch = self._torch
        with torch.cuda.device(self._index):
            torch.cuda.synchronize()
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iterations):
                fn()
            end.record()
            end.synchronize()
            return float(start.elapsed_time(end)) / 1000.0, iterations


class TorchBackend(Backend):
    """torch on `cpu` or `cuda:N`."""

    name: BackendName = "torch"

    def __init__(self, device: str = "cpu") -> None:
        kind, index = parse_device(device)
        try:
            import torch
        except ImportError as exc:
            raise BenchmarkError(f"torch is not installed: {exc}") from exc
        self.torch = torch
        self.index = index
        self.is_cuda = kind == "cuda"
        if self.is_cuda:
            if not torch.cuda.is_available():
                raise BenchmarkError(
                    f"{device}: torch.cuda.is_available() is False (torch {torch.__version__})"
                )
            count = torch.cuda.device_count()
            if index is None or index >= count:
                raise BenchmarkError(f"{device}: no such CUDA device ({count} visible)")
            self.device = f"cuda:{index}"
            self._props: Any = torch.cuda.get_device_properties(index)
        else:
            self.device = "cpu"
            self._props = None
        self._cache: CacheInfo | None = None

    # --- device facts -------------------------------------------------------------------------------

    def compute_capability(self) -> tuple[int, int] | None:
        if self._props is None:
            return None
        return int(self._props.major), int(self._props.minor)

    def device_name(self) -> str:
        if self._props is not None:
            return str(self._props.name)
        return read_cpuinfo()[0] or "CPU"

    def timer(self) -> Timer:
        if self.is_cuda:
            assert self.index is not None
            return CudaEventTimer(self.torch, self.index)
        return PerfCounterTimer()

    def free_memory_bytes(self) -> int:
        if self.is_cuda:
            free, _total = self.torch.cuda.mem_get_info(self.index)
            return int(free)
        return _host_free_bytes()

    def cache_info(self) -> CacheInfo:
        if self._cache is None:
            if self._props is not None:
                l2 = getattr(self._props, "L2_cache_size", None)
                self._cache = (
                    CacheInfo(int(l2), 2, "torch.cuda.get_device_properties().L2_cache_size")
                    if l2
                    else CacheInfo(64 * 1024 * 1024, None, "default")
                )
            else:
                self._cache = read_cache_info()
        return self._cache

    def hardware(self) -> HardwareInfo:
        cpu_cache = read_cache_info() if self.is_cuda else self.cache_info()
        info = _cpu_hardware(cpu_cache)
        info.torch_threads = int(self.torch.get_num_threads())
        if self._props is not None:
            cc = self.compute_capability()
            info.gpu_name = str(self._props.name)
            info.compute_capability = list(cc) if cc else None
            info.gpu_memory_total_bytes = int(self._props.total_memory)
            l2 = getattr(self._props, "L2_cache_size", None)
            info.gpu_l2_cache_bytes = int(l2) if l2 else None
            info.sm_count = int(getattr(self._props, "multi_processor_count", 0)) or None
        return info

    def versions(self) -> tuple[str | None, str | None]:
        return str(self.torch.__version__), _dist_version("numpy")

    # --- memory ---------------------------------------------------------------------------------------

    def memory_tests(self) -> tuple[str, ...]:
        return CUDA_MEMORY_TESTS if self.is_cuda else CPU_MEMORY_TESTS

    def allocate(self, n_elems: int, device_arrays: int, host_array: bool) -> Buffers:
        torch = self.torch
        arrays = []
        for i in range(device_arrays):
            arr = torch.empty(n_elems, dtype=torch.float32, device=self.device)
            arr.fill_(1.0 + i)
            arrays.append(arr)
        host = None
        if host_array:
            host = torch.empty(n_elems, dtype=torch.float32, pin_memory=self.is_cuda)
            host.fill_(1.0)
        if self.is_cuda:
            torch.cuda.synchronize(self.index)
        return Buffers(capacity_elems=n_elems, device=arrays, host=host)

    def memory_kernel(self, test: str, buffers: Buffers, n_elems: int) -> Callable[[], object]:
        torch = self.torch
        a = buffers.device[0][:n_elems]
        if test == "read":
            return a.sum
        if test == "write":
            return lambda: a.fill_(2.0)
        if test in ("h2d", "d2h"):
            if not self.is_cuda or buffers.host is None:
                raise BenchmarkError(f"memory test {test!r} needs a CUDA device")
            h = buffers.host[:n_elems]
            if test == "h2d":
                return lambda: a.copy_(h, non_blocking=True)
            return lambda: h.copy_(a, non_blocking=True)
        b = buffers.device[1][:n_elems]
        if test == "copy":
            return lambda: b.copy_(a)
        if test == "triad":
            c = buffers.device[2][:n_elems]
            return lambda: torch.add(b, c, alpha=3.0, out=a)
        raise BenchmarkError(f"unknown memory test {test!r}")

    def release(self) -> None:
        if self.is_cuda:
            self.torch.cuda.empty_cache()

    # --- matmul ---------------------------------------------------------------------------------------

    def precision_skip_reason(self, precision: str) -> str | None:
        torch = self.torch
        if precision not in MATMUL_PRECISIONS:
            return f"{precision} matmul is not benchmarked"
        if precision == "FP8" and not (hasattr(torch, "_scaled_mm") and hasattr(torch, "float8_e4m3fn")):
            return f"torch {torch.__version__} has no FP8 matmul (torch._scaled_mm)"
        if precision == "INT8" and not hasattr(torch, "_int_mm"):
            return f"torch {torch.__version__} has no INT8 matmul (torch._int_mm)"
        if not self.is_cuda:
            return TF32_CPU_REASON if precision == "TF32" else None
        from ruckus_agent.gpu.capabilities import architecture_name, supported_precisions

        cc = self.compute_capability()
        if cc is not None and precision not in supported_precisions(cc):
            arch = architecture_name(cc) or "unknown architecture"
            need = _CUDA_REQUIREMENTS.get(precision, "a newer GPU")
            return f"{precision} needs {need}; {self.device_name()} is {cc[0]}.{cc[1]} ({arch})"
        return None

    _DTYPES = {"FP64": "float64", "FP32": "float32", "TF32": "float32", "FP16": "float16", "BF16": "bfloat16"}

    def matmul_kernel(self, precision: str, n: int) -> tuple[Callable[[], object], str]:
        torch = self.torch
        dev = self.device
        gen = torch.Generator(device=dev).manual_seed(0)

        def randn() -> Any:
            return torch.randn(n, n, device=dev, dtype=torch.float32, generator=gen)

        if precision in self._DTYPES:
            dtype = getattr(torch, self._DTYPES[precision])
            a, b = randn().to(dtype), randn().to(dtype)
            out = torch.empty(n, n, device=dev, dtype=dtype)

            def product() -> object:
                return torch.mm(a, b, out=out)

        elif precision == "FP8":
            dtype = torch.float8_e4m3fn
            a = randn().to(dtype)
            b = randn().to(dtype).t()  # _scaled_mm wants the second operand column-major
            scale = torch.ones((), device=dev, dtype=torch.float32)

            def product() -> object:
                return torch._scaled_mm(a, b, scale_a=scale, scale_b=scale, out_dtype=torch.bfloat16)

        elif precision == "INT8":
            dtype = torch.int8
            a = torch.randint(-128, 128, (n, n), device=dev, dtype=dtype, generator=gen)
            b = torch.randint(-128, 128, (n, n), device=dev, dtype=dtype, generator=gen)

            def product() -> object:
                return torch._int_mm(a, b)

        else:
            raise BenchmarkError(f"unknown precision {precision!r}")
        with self.precision_mode(precision):
            product()
        if self.is_cuda:
            torch.cuda.synchronize(self.index)
        return product, str(dtype)

    def matmul_bytes(self, precision: str, n: int) -> int:
        itemsize = {"FP64": 8, "FP32": 4, "TF32": 4, "FP16": 2, "BF16": 2, "FP8": 1, "INT8": 1}[precision]
        out_itemsize = {"FP8": 2, "INT8": 4}.get(precision, itemsize)
        return n * n * (2 * itemsize + out_itemsize + 4)  # + one float32 set-up temporary

    @contextlib.contextmanager
    def precision_mode(self, precision: str) -> Iterator[None]:
        """FP32 is IEEE (TF32 off, also no reduced-precision oneDNN on CPUs); TF32 turns it on."""
        if precision not in ("FP32", "TF32"):
            yield
            return
        torch = self.torch
        old = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("high" if precision == "TF32" else "highest")
        try:
            yield
        finally:
            torch.set_float32_matmul_precision(old)


def make_backend(device: str = "cpu", backend: str | Backend | None = None) -> Backend:
    """The backend to run on: an instance as given, 'torch', 'numpy', or None (torch when installed,
    otherwise numpy, which runs on the CPU only)."""
    if isinstance(backend, Backend):
        return backend
    kind, _ = parse_device(device)
    if backend is None:
        backend = "torch" if torch_available() else "numpy"
        if backend == "numpy" and kind == "cuda":
            raise BenchmarkError(f"{device}: CUDA benchmarks need torch, which is not installed")
    if backend == "torch":
        return TorchBackend(device)
    if backend == "numpy":
        return NumpyBackend(device)
    raise BenchmarkError(f"unknown benchmark backend {backend!r}: use 'torch' or 'numpy'")
