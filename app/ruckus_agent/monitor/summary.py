"""Summaries of the samples inside one run's time window (jobs and benchmarks keep them with results)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from statistics import fmean

from ruckus_agent.models.monitor import RunTelemetry, Sample


def _vals(xs: Sequence[float | None]) -> list[float]:
    return [x for x in xs if x is not None]


def summarize_window(samples: Sequence[Sample], gpu_index: int | None = None) -> RunTelemetry:
    """Mean/max utilization, peak memory, mean power, energy and max temperature of one GPU (or host only).

    Energy comes from the difference of NVML's energy counter when both ends have it, else from integrating
    power over time (trapezoids); `energy_source` says which.
    """
    out = RunTelemetry(samples=len(samples), gpu_index=gpu_index)
    cpu = _vals([s.host.cpu_utilization_pct for s in samples])
    out.cpu_utilization_pct = round(fmean(cpu), 2) if cpu else None
    if gpu_index is None:
        return out
    pts = [
        (s.timestamp.timestamp(), g) for s in samples for g in s.gpus if g.index == gpu_index and not g.lost
    ]
    if not pts:
        return out
    util = _vals([g.utilization_gpu_pct for _, g in pts])
    mem = _vals([g.memory_used_mb for _, g in pts])
    power = _vals([g.power_usage_w for _, g in pts])
    temp = _vals([g.temperature_c for _, g in pts])
    sm = _vals([g.clock_sm_mhz for _, g in pts])
    out.gpu_utilization_pct = round(fmean(util), 2) if util else None
    out.gpu_utilization_max_pct = max(util) if util else None
    out.gpu_memory_peak_mb = max(mem) if mem else None
    out.power_mean_w = round(fmean(power), 3) if power else None
    out.temperature_max_c = max(temp) if temp else None
    out.clock_sm_min_mhz = min(sm) if sm else None
    out.clock_sm_max_mhz = max(sm) if sm else None
    reasons: list[str] = []
    for _, g in pts:
        for r in g.throttle_reasons or []:
            if r not in reasons:
                reasons.append(r)
    out.throttle_reasons = reasons
    first, last = pts[0][1].energy_total_j, pts[-1][1].energy_total_j
    if first is not None and last is not None and len(pts) > 1:
        out.energy_j = round(last - first, 3)
        out.energy_source = "counter"
    else:
        timed = [(t, g.power_usage_w) for t, g in pts if g.power_usage_w is not None]
        if len(timed) > 1:
            energy = sum((t1 - t0) * (p0 + p1) / 2 for (t0, p0), (t1, p1) in itertools.pairwise(timed))
            out.energy_j = round(energy, 3)
            out.energy_source = "integrated"
    return out
