"""Live reads for the monitor: one NVML session, cached handles, one batch read of every GPU per call."""

from __future__ import annotations

import shutil
import threading
import time
from types import TracebackType
from typing import Any, Literal

from ruckus_agent.gpu.nvml import LOST_CODES, GpuLostError, NvmlGateway, as_text, error_code, error_text
from ruckus_agent.gpu.nvml_source import lost_reading, read_device, read_slow_fields
from ruckus_agent.gpu.smi import SmiError, parse_nvidia_smi_xml, run_nvidia_smi
from ruckus_agent.models.gpu import GpuReading, SourceError

ReaderSource = Literal["nvml", "nvidia-smi"]


class GpuReader:
    """Batch reader of every GPU's live metrics.

    NVML is initialised on first use and kept; device handles are fetched once and reused. A GPU that stops
    answering gives `GpuReading(lost=True)` (its handle is fetched again on the next call, in case the driver
    came back). Without NVML, `nvidia_smi` (a binary name or path; off by default) gives a slower fallback.
    """

    def __init__(self, nvml: Any | None = None, *, nvidia_smi: str | None = None, smi_timeout_s: float = 5.0):
        self._gateway = nvml if isinstance(nvml, NvmlGateway) else NvmlGateway(nvml)
        self._owns_gateway = not isinstance(nvml, NvmlGateway)
        self._nvidia_smi = nvidia_smi
        self._smi_timeout_s = smi_timeout_s
        self._lock = threading.Lock()
        self._handles: list[Any | None] | None = None
        self._uuids: list[str | None] = []
        self._closed = False
        self._slow: dict[int, tuple[float, dict[str, Any]]] = {}
        self.slow_fields_max_age_s = 1.0
        self.last_error: str | None = None

    @property
    def source(self) -> ReaderSource | None:
        """Where readings come from: "nvml", "nvidia-smi", or None when neither works."""
        if self._closed:
            return None
        if self._gateway.available:
            return "nvml"
        if self._nvidia_smi and shutil.which(self._nvidia_smi):
            return "nvidia-smi"
        return None

    @property
    def available(self) -> bool:
        """True when read_all() can return readings."""
        return self.source is not None

    @property
    def nvml_error(self) -> SourceError | None:
        """Why NVML is not available (None when it is)."""
        return self._gateway.init()

    def read_all(self) -> list[GpuReading]:
        """One reading per GPU, in index order; [] when nothing can be read. Never raises for a lost GPU."""
        source = self.source
        if source == "nvml":
            with self._lock:
                return self._read_nvml()
        if source == "nvidia-smi":
            return self._read_smi()
        return []

    def _device_handles(self) -> list[Any | None]:
        if self._handles is None:
            count = self._gateway.query("nvmlDeviceGetCount") or 0
            self._handles = [None] * count
            self._uuids = [None] * count
        return self._handles

    def _handle(self, index: int) -> Any:
        handles = self._device_handles()
        if handles[index] is None:
            handle = self._gateway.call("nvmlDeviceGetHandleByIndex", index)
            handles[index] = handle
            if self._uuids[index] is None:
                self._uuids[index] = as_text(
                    self._gateway.query("nvmlDeviceGetUUID", handle, lost_on=LOST_CODES)
                )
        return handles[index]

    def _read_nvml(self) -> list[GpuReading]:
        readings: list[GpuReading] = []
        now = time.monotonic()
        for index in range(len(self._device_handles())):
            try:
                handle = self._handle(index)
                cached = self._slow.get(index)
                if cached is None or now - cached[0] >= self.slow_fields_max_age_s:
                    cached = (now, read_slow_fields(self._gateway, handle))
                    self._slow[index] = cached
                readings.append(read_device(self._gateway, handle, index, self._uuids[index], cached[1]))
            except GpuLostError as exc:
                readings.append(self._lost(index, str(exc)))
            except self._gateway.module.NVMLError as exc:  # the handle itself could not be fetched
                if error_code(exc) not in LOST_CODES:
                    self.last_error = error_text(exc)
                readings.append(self._lost(index, f"nvmlDeviceGetHandleByIndex: {error_text(exc)}"))
        return readings

    def _lost(self, index: int, why: str) -> GpuReading:
        assert self._handles is not None
        self._handles[index] = None  # fetch it again next time
        self._slow.pop(index, None)
        return lost_reading(index, self._uuids[index], why)

    def _read_smi(self) -> list[GpuReading]:
        assert self._nvidia_smi is not None
        try:
            gpus = parse_nvidia_smi_xml(run_nvidia_smi(self._nvidia_smi, self._smi_timeout_s))
        except SmiError as exc:
            self.last_error = exc.message
            return []
        return [g.live for g in gpus if g.live is not None]

    def close(self) -> None:
        """Release NVML (when this reader opened it). Later reads return []."""
        with self._lock:
            self._closed = True
            self._handles = None
            if self._owns_gateway:
                self._gateway.shutdown()

    def __enter__(self) -> GpuReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
