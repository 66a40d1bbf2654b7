"""Live monitor: an async sampler on the agent's loop and fixed-size ring buffers of samples."""

from __future__ import annotations

from ruckus_agent.monitor.ring import RingBuffer
from ruckus_agent.monitor.sampler import GpuReaderProtocol, Sampler
from ruckus_agent.monitor.summary import summarize_window

__all__ = ["GpuReaderProtocol", "RingBuffer", "Sampler", "summarize_window"]
