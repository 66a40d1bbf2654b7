"""The live sampler: reads GPUs and the host periodically on the agent's loop.

Periodic reads run on one dedicated sampling thread that hands each finished sample to the loop (one
wake-up of the loop per sample, the cheapest way to sample at 10 Hz); a hung driver never freezes the loop:
a watchdog on the loop notices when the thread stops delivering and keeps taking host-only samples that say
why the GPU part is missing. The period drops from
`interval_s` (1 s) to `fast_interval_s` (0.1 s) while anyone holds a `boost()` (a running job, a benchmark).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
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
    return HostReading.model_construct(  # typed values already; this runs up to 10 times a second
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
        self._thread: threading.Thread | None = None
        self._kick = threading.Event()  # wakes the sampling thread (boost, stop)
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_delivery = time.monotonic()
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ruckus-hw")
        self._pending: asyncio.Future[tuple[HostReading, list[GpuReading]]] | None = None
        self._lost: set[int] = set()
        self.samples_taken = 0
        psutil.cpu_percent(interval=None)  # prime: the first call has no interval to compare against

    # lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._last_delivery = time.monotonic()
        self._thread = threading.Thread(target=self._thread_main, name="ruckus-sampler", daemon=True)
        self._thread.start()
        self._schedule_watchdog(self.read_timeout_s)

    async def stop(self) -> None:
        self._stopping.set()
        self._kick.set()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        thread, self._thread = self._thread, None
        stuck = False
        if thread is not None:
            await asyncio.to_thread(thread.join, self.read_timeout_s)
            stuck = thread.is_alive()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.gpu_reader is not None and not stuck:  # a reader stuck in the driver cannot be closed
            try:
                self.gpu_reader.close()
            except Exception:
                log.debug("GPU reader close failed", exc_info=True)

    # the sampling thread and its watchdog -----------------------------------------------------------
    def _thread_main(self) -> None:
        loop = self._loop
        assert loop is not None
        next_at = time.monotonic()
        while not self._stopping.is_set():
            now = datetime.now(UTC)
            try:
                host, gpus = self._read_blocking()
                sample = Sample.model_construct(timestamp=now, host=host, gpus=gpus, gpu_read_error=None)
            except Exception as exc:
                log.warning("sampling failed: %s", exc)
                sample = None
            if sample is not None:
                try:
                    loop.call_soon_threadsafe(self._deliver, sample)
                except RuntimeError:  # the loop is closed: the agent is gone
                    return
            next_at += self.current_interval_s
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (slow read, suspended laptop): do not burst to catch up
                next_at, delay = time.monotonic(), 0.0
            if self._kick.wait(delay):  # boosted or stopping: go at once, then at the new rate
                self._kick.clear()
                next_at = time.monotonic()

    def _deliver(self, sample: Sample) -> None:
        self._last_delivery = time.monotonic()
        self._store(sample)

    def _store(self, sample: Sample) -> None:
        self._note_lost(sample.gpus)
        self.buffer.append(sample)
        self.samples_taken += 1
        if self.on_sample is not None:
            try:
                self.on_sample(sample)
            except Exception:
                log.exception("sample subscriber failed")

    def _schedule_watchdog(self, delay_s: float) -> None:
        if self._loop is not None and not self._stopping.is_set():
            self._watchdog = self._loop.call_later(delay_s, self._check_thread)

    def _check_thread(self) -> None:
        """On the loop: if the sampling thread is stuck in the driver, sample the host alone meanwhile."""
        silent_s = time.monotonic() - self._last_delivery
        if silent_s > self.read_timeout_s + self.current_interval_s:
            error = f"GPU driver has not answered for more than {self.read_timeout_s:g} s"
            if self.samples_taken and (self.latest is None or self.latest.gpu_read_error is None):
                log.warning("%s; sampling the host only until it answers", error)
            self._store(Sample(timestamp=datetime.now(UTC), host=self._host_reader(), gpu_read_error=error))
            self._schedule_watchdog(self.current_interval_s)
        else:
            self._schedule_watchdog(self.read_timeout_s)

    # rate -----------------------------------------------------------------------------------------
    @property
    def current_interval_s(self) -> float:
        return self.fast_interval_s if self._boosts > 0 else self.interval_s

    def boost(self) -> Callable[[], None]:
        """Sample at the fast rate until the returned release() is called (nested boosts count)."""
        self._boosts += 1
        self._kick.set()
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
        self._store(sample)
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
