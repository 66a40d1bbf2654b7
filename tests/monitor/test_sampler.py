"""The sampler: period, boost, ring buffer bounds, hung driver, lost GPU, window summaries."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from ruckus_agent.models.gpu import GpuReading
from ruckus_agent.models.monitor import HostReading, Sample
from ruckus_agent.monitor import RingBuffer, Sampler, summarize_window


class ScriptedGpus:
    """Hardware stand-in: returns scripted readings; can hang or lose a GPU."""

    available = True

    def __init__(self, count: int = 2) -> None:
        self.count = count
        self.reads = 0
        self.hang = threading.Event()
        self.release = threading.Event()
        self.lost_after: int | None = None
        self.closed = False

    def read_all(self) -> list[GpuReading]:
        self.reads += 1
        if self.hang.is_set():
            self.release.wait(10)
        out = []
        for i in range(self.count):
            lost = self.lost_after is not None and self.reads > self.lost_after and i == 1
            out.append(
                GpuReading(index=i, lost=True, error="GPU is lost")
                if lost
                else GpuReading(index=i, temperature_c=40 + i, power_usage_w=100.0, utilization_gpu_pct=50.0)
            )
        return out

    def close(self) -> None:
        self.closed = True


def host() -> HostReading:
    return HostReading(cpu_utilization_pct=10.0, memory_used_mb=1000.0, memory_total_mb=4000.0)


def test_ring_buffer_keeps_only_the_newest() -> None:
    ring: RingBuffer[int] = RingBuffer(3)
    for i in range(10):
        ring.append(i)
    assert list(ring) == [7, 8, 9]
    assert ring.latest() == 9
    assert ring.since(float, 8) == [8, 9]
    with pytest.raises(ValueError):
        RingBuffer(0)


async def test_samples_flow_into_the_buffer_and_callback() -> None:
    seen: list[Sample] = []
    gpus = ScriptedGpus()
    sampler = Sampler(gpus, interval_s=0.02, capacity=5, on_sample=seen.append, host_reader=host)
    await sampler.start()
    await asyncio.sleep(0.3)
    await sampler.stop()
    assert len(sampler.buffer) == 5  # bounded
    assert len(seen) >= 6
    latest = sampler.latest
    assert latest is not None and latest is seen[-1]
    assert [g.temperature_c for g in latest.gpus] == [40, 41]
    assert gpus.closed


async def test_boost_switches_to_the_fast_rate_and_back() -> None:
    sampler = Sampler(ScriptedGpus(), interval_s=10, fast_interval_s=0.02, host_reader=host)
    await sampler.start()
    await asyncio.sleep(0.1)
    slow_count = sampler.samples_taken
    assert slow_count == 1  # only the first sample at a 10 s period
    release = sampler.boost()
    assert sampler.current_interval_s == 0.02
    await asyncio.sleep(0.3)
    assert sampler.samples_taken >= slow_count + 5
    release()
    release()  # idempotent
    assert sampler.current_interval_s == 10
    await sampler.stop()


async def test_a_hung_driver_never_blocks_the_loop() -> None:
    gpus = ScriptedGpus()
    sampler = Sampler(gpus, interval_s=0.05, read_timeout_s=0.1, host_reader=host)
    gpus.hang.set()
    first = await asyncio.wait_for(sampler.sample_once(), 2)
    assert first.gpus == [] and "timed out" in (first.gpu_read_error or "")
    assert first.host.cpu_utilization_pct == 10.0  # the host is still sampled
    second = await asyncio.wait_for(sampler.sample_once(), 2)
    assert "has not answered" in (second.gpu_read_error or "")
    assert gpus.reads == 1  # no second read piles up behind the stuck one
    gpus.hang.clear()
    gpus.release.set()
    await asyncio.sleep(0.05)
    third = await sampler.sample_once()
    assert third.gpu_read_error is None and len(third.gpus) == 2
    await sampler.stop()


async def test_a_lost_gpu_is_reported_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    gpus = ScriptedGpus()
    gpus.lost_after = 1
    sampler = Sampler(gpus, host_reader=host)
    await sampler.sample_once()
    lost = await sampler.sample_once()
    await sampler.sample_once()
    assert lost.gpus[1].lost and lost.gpus[0].temperature_c == 40
    assert sum("GPU 1 is lost" in r.message for r in caplog.records) == 1  # logged once
    await sampler.stop()


def _sample(t: float, **gpu: float | None) -> Sample:
    ts = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=t)
    return Sample(timestamp=ts, host=HostReading(cpu_utilization_pct=20.0), gpus=[GpuReading(index=0, **gpu)])


def test_window_summary_uses_the_energy_counter_when_present() -> None:
    samples = [
        _sample(
            0,
            utilization_gpu_pct=10,
            memory_used_mb=100,
            power_usage_w=100,
            temperature_c=50,
            energy_total_j=1000.0,
        ),
        _sample(
            1,
            utilization_gpu_pct=90,
            memory_used_mb=300,
            power_usage_w=300,
            temperature_c=70,
            energy_total_j=1250.0,
        ),
        _sample(
            2,
            utilization_gpu_pct=50,
            memory_used_mb=200,
            power_usage_w=200,
            temperature_c=60,
            energy_total_j=1500.0,
        ),
    ]
    t = summarize_window(samples, gpu_index=0)
    assert (t.samples, t.gpu_utilization_pct, t.gpu_utilization_max_pct) == (3, 50.0, 90)
    assert (t.gpu_memory_peak_mb, t.power_mean_w, t.temperature_max_c) == (300, 200.0, 70)
    assert (t.energy_j, t.energy_source) == (500.0, "counter")
    assert t.cpu_utilization_pct == 20.0


def test_window_summary_integrates_power_without_a_counter() -> None:
    samples = [_sample(0, power_usage_w=100), _sample(2, power_usage_w=300), _sample(3, power_usage_w=None)]
    t = summarize_window(samples, gpu_index=0)
    assert (t.energy_j, t.energy_source) == (400.0, "integrated")  # (100+300)/2 W * 2 s
    assert summarize_window(samples, gpu_index=5).energy_j is None  # no such GPU


def test_history_and_window_select_by_time() -> None:
    sampler = Sampler(None, host_reader=host)
    now = datetime.now(UTC)
    for age in (30, 20, 10, 0):
        sampler.buffer.append(Sample(timestamp=now - timedelta(seconds=age), host=host()))
    assert len(sampler.history(15)) == 2
    assert len(sampler.window(now - timedelta(seconds=25), now - timedelta(seconds=5))) == 2
