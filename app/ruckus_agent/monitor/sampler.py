"""The live sampler: reads GPUs and the host periodically on the agent's loop.

Hardware reads run on one dedicated thread with a timeout, so a hung driver never freezes the loop; while a
read is stuck, samples carry the host reading and say why the GPU part is missing. The period drops from
`interval_s` (1 s) to `fast_interval_s` (0.1 s) while anyone holds a `boost()` (a running job, a benchmark).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import psutil

from ruckus_agent.models.gpu import GpuReading
from ruckus_agent.models.monitor import HostReading, Sample
from ruckus_agent.monitor.ring import RingBuffer

log = logging.getLogger(__name__)
MB = 1024 * 1024


class GpuReaderProtocol(Protocol):
    """What the sampler needs from the GPU layer (gpu.GpuReader implements it)."""

    @property
    def available(self) -> bool: ...

    def read_all(self) -> list[GpuReading]: ...

    def close(self) -> None: ...


def read_host() -> HostReading:
    vm = psutil.virtual_memory()
    try:
        load_1m: float | None = os.getloadavg()[0]
    except (OSError, AttributeError):
        load_1m = None
    return HostReading(
        cpu_utilization_pct=psutil.cpu_percent(interval=None),
        memory_used_mb=round((vm.total - vm.available) / MB, 1),
        memory_total_mb=round(vm.total / MB, 1),
        memory_used_pct=vm.percent,
        load_1m=load_1m,
    )


class Sampler:
    def __init__(
        self,
        gpu_reader: GpuReaderProtocol | None,
        *,
        interval_s: float = 1.0,
        fast_interval_s: float = 0.1,
        capacity: int = 7200,
        read_timeout_s: float = 2.0,
        on_sample: Callable[[Sample], None] | None = None,
        host_reader: Callable[[], HostReading] = read_host,
    ) -> None:
        self.gpu_reader = gpu_reader
        self.interval_s = interval_s
        self.fast_interval_s = fast_interval_s
        self.read_timeout_s = read_timeout_s
        self.buffer: RingBuffer[Sample] = RingBuffer(capacity)
        self.on_sample = on_sample
        self._host_reader = host_reader
        self._boosts = 0
        self._wake: asyncio.Future[bool] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ruckus-hw")
        self._pending: asyncio.Future[tuple[HostReading, list[GpuReading]]] | None = None
        self._lost: set[int] = set()
        self.samples_taken = 0
        psutil.cpu_percent(interval=None)  # prime: the first call has no interval to compare against

    # lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ruckus-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.gpu_reader is not None:
            try:
                self.gpu_reader.close()
            except Exception:
                log.debug("GPU reader close failed", exc_info=True)

    # rate -----------------------------------------------------------------------------------------
    @property
    def current_interval_s(self) -> float:
        return self.fast_interval_s if self._boosts > 0 else self.interval_s

    def boost(self) -> Callable[[], None]:
        """Sample at the fast rate until the returned release() is called (nested boosts count)."""
        self._boosts += 1
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(True)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._boosts -= 1

        return release

    # reading ---------------------------------------------------------------------------------------
    def _read_blocking(self) -> tuple[HostReading, list[GpuReading]]:
        host = self._host_reader()
        gpus = self.gpu_reader.read_all() if self.gpu_reader is not None and self.gpu_reader.available else []
        return host, gpus

    async def sample_once(self) -> Sample:
        """Take one sample now, store it and hand it to on_sample."""
        now = datetime.now(UTC)
        error: str | None = None
        gpus: list[GpuReading] = []
        if self._pending is not None and not self._pending.done():
            host = self._host_reader()
            error = f"GPU driver has not answered for more than {self.read_timeout_s:g} s"
        else:
            loop = asyncio.get_running_loop()
            pending = loop.run_in_executor(self._executor, self._read_blocking)
            self._pending = pending
            # asyncio.wait, not wait_for: it never cancels the read, and has no cancel/timeout race on 3.11
            done, _ = await asyncio.wait({pending}, timeout=self.read_timeout_s)
            if not done:
                host = self._host_reader()
                error = f"GPU read timed out after {self.read_timeout_s:g} s"
                log.warning("%s; sampling the host only until it answers", error)
            elif pending.exception() is not None:
                host = self._host_reader()
                error = f"GPU read failed: {pending.exception()}"
                log.warning("%s", error)
            else:
                host, gpus = pending.result()
        sample = Sample(timestamp=now, host=host, gpus=gpus, gpu_read_error=error)
        self._note_lost(gpus)
        self.buffer.append(sample)
        self.samples_taken += 1
        if self.on_sample is not None:
            self.on_sample(sample)
        return sample

    def _note_lost(self, gpus: list[GpuReading]) -> None:
        for reading in gpus:
            if reading.lost and reading.index not in self._lost:
                self._lost.add(reading.index)
                log.error(
                    "GPU %d is lost (%s); the agent keeps running",
                    reading.index,
                    reading.error or "no reason",
                )
            elif not reading.lost and reading.index in self._lost:
                self._lost.discard(reading.index)
                log.info("GPU %d answers again", reading.index)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            try:
                await self.sample_once()
            except Exception:
                log.exception("sampling failed")
            next_at += self.current_interval_s
            now = loop.time()
            if next_at < now:  # fell behind (slow read, suspended laptop): do not burst to catch up
                next_at = now + self.current_interval_s
            if await self._sleep(next_at - now):
                next_at = loop.time()  # boosted: sample at once, then at the fast rate

    async def _sleep(self, delay_s: float) -> bool:
        """Sleep delay_s or until boost(); True if woken by a boost."""
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[bool] = loop.create_future()
        self._wake = wake

        def timeout() -> None:
            if not wake.done():
                wake.set_result(False)

        timer = loop.call_later(delay_s, timeout)
        try:
            return await wake
        finally:
            timer.cancel()
            self._wake = None

    # queries ---------------------------------------------------------------------------------------
    @property
    def latest(self) -> Sample | None:
        return self.buffer.latest()

    def history(self, seconds: float) -> list[Sample]:
        start = time.time() - seconds
        return self.buffer.since(lambda s: s.timestamp.timestamp(), start)

    def window(self, start: datetime, end: datetime) -> list[Sample]:
        """Samples taken in [start, end]."""
        s, e = start.timestamp(), end.timestamp()
        return [
            x for x in self.buffer.since(lambda x: x.timestamp.timestamp(), s) if x.timestamp.timestamp() <= e
        ]
