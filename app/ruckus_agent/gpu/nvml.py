"""The one gateway to NVML: lazy init (once), every NVMLError turned into None for that field.

The nvml module is injectable (default: the real `pynvml`), so tests pass a fake with the same names. Nothing
else in the agent imports pynvml.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from ruckus_agent.models.gpu import SourceError

# NVML return codes (nvml.h); stable across versions, so no pynvml import is needed to name them.
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_TIMEOUT = 10
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18
NVML_ERROR_UNKNOWN = 999

# Return codes after which a device handle is no longer trusted.
LOST_CODES = frozenset({NVML_ERROR_GPU_IS_LOST, NVML_ERROR_UNKNOWN})
_GPU_IS_LOST_ONLY = frozenset({NVML_ERROR_GPU_IS_LOST})

# nvmlClocksEventReason* / nvmlClocksThrottleReason* bits → the names nvidia-smi's XML uses.
CLOCK_EVENT_REASONS: dict[int, str] = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clocks_setting",
    0x200: "board_limit",
    0x400: "reliability",
    0x8000000000000000: "unknown",
}

_LIBRARY_FILE = "nvml.dll" if sys.platform == "win32" else "libnvidia-ml.so"


class GpuLostError(Exception):
    """The device stopped answering (NVML_ERROR_GPU_IS_LOST or UNKNOWN): XID error, driver reload."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def error_code(exc: BaseException) -> int | None:
    """The NVML return code carried by an NVMLError (its `value`), None for anything else."""
    value = getattr(exc, "value", None)
    return value if isinstance(value, int) else None


def error_text(exc: BaseException) -> str:
    """Short text of an NVMLError that needs no loaded library: "NVMLError_GpuIsLost (code 15)"."""
    code = error_code(exc)
    return f"{type(exc).__name__} (code {code})" if code is not None else repr(exc)


def describe_error(code: int | None, fallback: str = "") -> tuple[str, str]:
    """(SourceError.reason, plain-English message) for an NVML return code."""
    if code == NVML_ERROR_LIBRARY_NOT_FOUND:
        return "library_not_found", f"No NVIDIA driver: {_LIBRARY_FILE} not found"
    if code == NVML_ERROR_DRIVER_NOT_LOADED:
        return "driver_not_loaded", "NVIDIA driver is installed but not loaded"
    if code == NVML_ERROR_LIB_RM_VERSION_MISMATCH:
        return (
            "driver_library_mismatch",
            "NVIDIA driver/library version mismatch (driver updated: reboot or reload the kernel module)",
        )
    if code == NVML_ERROR_NO_PERMISSION:
        return "no_permission", "No permission to open the NVIDIA device files (/dev/nvidia*)"
    if code == NVML_ERROR_TIMEOUT:
        return "timeout", "NVML timed out talking to the driver"
    detail = fallback or "unexpected error"
    return "error", f"NVML error {code}: {detail}" if code is not None else f"NVML error: {detail}"


def decode_clock_event_reasons(mask: int | None) -> list[str] | None:
    """Names of the active bits of a clocks-event (throttle) bitmask; [] when none, None when unknown."""
    if mask is None:
        return None
    names = [name for bit, name in CLOCK_EVENT_REASONS.items() if mask & bit]
    rest = mask & ~sum(CLOCK_EVENT_REASONS)
    if rest:
        names.append(f"other_{rest:#x}")
    return names


def bytes_to_mib(value: int | float | None) -> float | None:
    """Bytes → MiB (what nvidia-smi calls MiB and our fields call `_mb`)."""
    return None if value is None else float(value) / 2**20


def milli_to_unit(value: int | float | None) -> float | None:
    """mW → W, mJ → J."""
    return None if value is None else float(value) / 1000.0


def as_text(value: Any) -> str | None:
    """NVML strings arrive as str or bytes depending on the pynvml version."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    text = str(value).strip()
    return text or None


def cuda_version_text(version: int | None) -> str | None:
    """NVML's CUDA driver version integer (12020) → "12.2"."""
    if not version:
        return None
    return f"{version // 1000}.{(version % 1000) // 10}"


class NvmlGateway:
    """Lazy, once-only NVML session over an injectable nvml module; each failed query is None."""

    def __init__(self, module: Any | None = None) -> None:
        self._module = module
        self._lock = threading.Lock()
        self._tried = False
        self._initialised = False
        self._init_error: SourceError | None = None

    @property
    def module(self) -> Any:
        """The nvml module in use (imports the real pynvml on first use)."""
        if self._module is None:
            import pynvml

            self._module = pynvml
        return self._module

    def init(self) -> SourceError | None:
        """Initialise NVML on first call; None when ready, else why not (cached)."""
        with self._lock:
            if not self._tried:
                self._tried = True
                self._init_error = self._init_once()
                self._initialised = self._init_error is None
            return self._init_error

    def _init_once(self) -> SourceError | None:
        try:
            module = self.module
        except ImportError as exc:
            return SourceError(
                source="nvml",
                reason="not_installed",
                message=f"nvidia-ml-py (pynvml) is not installed: {exc}",
            )
        try:
            module.nvmlInit()
        except module.NVMLError as exc:
            reason, message = describe_error(error_code(exc), type(exc).__name__)
            return SourceError(source="nvml", reason=reason, message=message)
        except OSError as exc:  # a broken libnvidia-ml.so that the loader rejects
            return SourceError(source="nvml", reason="error", message=f"NVML failed to load: {exc}")
        return None

    @property
    def available(self) -> bool:
        """True when NVML initialised (initialises it on first use)."""
        return self.init() is None

    def call(self, func: str, *args: Any) -> Any:
        """Call an nvml function; NVMLError propagates. A function this pynvml lacks raises AttributeError."""
        fn: Callable[..., Any] = getattr(self.module, func)
        return fn(*args)

    def query(self, func: str, *args: Any, lost_on: frozenset[int] = _GPU_IS_LOST_ONLY) -> Any:
        """Call an nvml function; any NVMLError (or a function this pynvml lacks) gives None.

        A code in `lost_on` (default: NVML_ERROR_GPU_IS_LOST) raises GpuLostError instead, so a reader can
        mark the whole device; pass LOST_CODES for the first call of a sample to treat UNKNOWN the same way.
        """
        try:
            return self.call(func, *args)
        except AttributeError:
            return None
        except self.module.NVMLError as exc:
            code = error_code(exc)
            if code in lost_on:
                raise GpuLostError(code or 0, f"{func}: {error_text(exc)}") from exc
            return None

    def query_first(self, funcs: Iterable[str], *args: Any) -> Any:
        """The first non-None answer among alternative functions (newer name first)."""
        for func in funcs:
            value = self.query(func, *args)
            if value is not None:
                return value
        return None

    def shutdown(self) -> None:
        """Release this session's NVML reference (NVML is reference-counted); safe to call twice."""
        with self._lock:
            if self._initialised:
                self._initialised = False
                try:
                    self.module.nvmlShutdown()
                except Exception:  # shutting down must never raise
                    pass
            self._tried = False
            self._init_error = None
