"""Statistics of a job's runs: mean, spread, percentiles, Student-t confidence interval, outliers.

Pure Python on purpose (no numpy/scipy): this runs inside the agent, which must start fast. The figures match
numpy/scipy (the tests check that): `percentile` is numpy's default `method="linear"`, `t_critical_975` is
`scipy.stats.t.ppf(0.975, df)`. Thresholds are DESIGN.md's "Statistics thresholds".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from ruckus_agent.models.statistics import MetricStatistics

P90_MIN_COUNT = 10
P95_MIN_COUNT = 20
P99_MIN_COUNT = 100
CI_MIN_COUNT = 2
OUTLIER_MIN_COUNT = 3

MODIFIED_Z_FACTOR = 0.6745
"""Φ⁻¹(0.75): scales the MAD to the standard deviation of normal data (Iglewicz & Hoaglin, 1993)."""
MODIFIED_Z_THRESHOLD = 3.5
"""|modified z| above this is an outlier, the cut-off Iglewicz & Hoaglin (1993) recommend."""

_Z_975 = 1.959963984540054
"""Φ⁻¹(0.975), the normal quantile the large-df series expands around."""
_SERIES_MIN_DF = 1000
"""From this df on, the Cornish-Fisher series is used; its truncation error there is below 1e-15 relative."""


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of ascending values, numpy's default linear interpolation, bit for bit.

    Same arithmetic as `numpy.percentile(values, q)`: virtual index (n-1)·q/100, then numpy's `_lerp`
    (interpolating from the upper neighbour when the fraction is ≥ 0.5).
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return float(sorted_values[-1])
    lower = math.floor(virtual)
    gamma = virtual - lower
    a = float(sorted_values[lower])
    b = float(sorted_values[lower + 1])
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma


def median(sorted_values: Sequence[float]) -> float:
    """Median of ascending values: the middle one, or the mean of the two middle ones (as numpy.median)."""
    n = len(sorted_values)
    if n == 0:
        raise ValueError("median of no values")
    mid = n // 2
    if n % 2:
        return float(sorted_values[mid])
    return (float(sorted_values[mid - 1]) + float(sorted_values[mid])) / 2


def _two_sided_probability(theta: float, df: int) -> float:
    """P(|T| ≤ √df·tan θ), Student t with integer df: the finite sums of Abramowitz & Stegun 26.7.3/4."""
    sin_t = math.sin(theta)
    cos_t = math.cos(theta)
    cos2 = cos_t * cos_t
    term = 1.0
    total = 1.0
    if df % 2:  # odd: (2/π)[θ + sinθ(cosθ + (2/3)cos³θ + … + (2·4…(df-3))/(1·3…(df-2))·cos^(df-2)θ)]
        if df == 1:
            return 2 * theta / math.pi
        for k in range(1, (df - 1) // 2):
            term *= cos2 * (2 * k) / (2 * k + 1)
            total += term
        return 2 / math.pi * (theta + sin_t * cos_t * total)
    # even: sinθ[1 + (1/2)cos²θ + (1·3)/(2·4)cos⁴θ + … + (1·3…(df-3))/(2·4…(df-2))·cos^(df-2)θ]
    for k in range(1, df // 2):
        term *= cos2 * (2 * k - 1) / (2 * k)
        total += term
    return sin_t * total


def _t_quantile_exact(df: int, coverage: float) -> float:
    """t with P(|T| ≤ t) = coverage, by Newton's method in θ = arctan(t/√df) from θ = 0.

    dP/dθ = c·cos^(df-1)θ is positive and non-increasing on [0, π/2), so P is concave there: starting left of
    the root, every Newton step stays left of it and the iterates rise monotonically to it (no bracketing).
    """
    c = 2 * math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(math.pi)
    theta = 0.0
    for _ in range(200):
        step = (coverage - _two_sided_probability(theta, df)) / (c * math.cos(theta) ** (df - 1))
        new_theta = theta + step
        if new_theta <= theta:  # converged to rounding: no further rise
            break
        theta = new_theta
        if step <= 1e-16 * theta:
            break
    return math.sqrt(df) * math.tan(theta)


def _t_975_series(df: int) -> float:
    """Cornish-Fisher expansion of the t quantile in 1/df (Abramowitz & Stegun 26.7.5), four terms."""
    z = _Z_975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


@lru_cache(maxsize=256)
def t_critical_975(df: int) -> float:
    """Two-sided 95% Student t critical value t_{0.975, df} (= scipy.stats.t.ppf(0.975, df)), df ≥ 1.

    Exact finite-sum CDF inverted by Newton below df 1000; the Cornish-Fisher series (error < 1e-15) above.
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df >= _SERIES_MIN_DF:
        return _t_975_series(df)
    return _t_quantile_exact(df, 0.95)


def modified_z_outliers(values: Sequence[float], run_ids: Sequence[int]) -> list[int]:
    """Run ids whose modified z-score |0.6745·(x - median)/MAD| exceeds 3.5, in run order.

    The rule of Iglewicz & Hoaglin (1993), "How to Detect and Handle Outliers", with MAD the median of the
    absolute deviations from the median. None when MAD is 0 (the score is undefined) or fewer than 3 values.
    """
    if len(values) != len(run_ids):
        raise ValueError(f"{len(values)} values but {len(run_ids)} run ids")
    if len(values) < OUTLIER_MIN_COUNT:
        return []
    center = median(sorted(values))
    mad = median(sorted(abs(x - center) for x in values))
    if mad == 0:
        return []
    return [
        run_id
        for x, run_id in zip(values, run_ids, strict=True)
        if abs(MODIFIED_Z_FACTOR * (x - center) / mad) > MODIFIED_Z_THRESHOLD
    ]


def compute_statistics(
    metric: str,
    values: Sequence[float | None],
    run_ids: Sequence[int],
    unit: str | None = None,
) -> MetricStatistics:
    """Statistics of one metric; `values[i]` was measured by run `run_ids[i]`.

    None and non-finite values (NaN, ±inf: a run that measured nothing) are left out, with their run ids,
    before anything is computed; the rest keep their order. Outliers are flagged, never dropped.
    """
    if len(values) != len(run_ids):
        raise ValueError(f"{len(values)} values but {len(run_ids)} run ids")
    pairs = [
        (float(v), int(r)) for v, r in zip(values, run_ids, strict=True) if v is not None and math.isfinite(v)
    ]
    raw = [v for v, _ in pairs]
    ids = [r for _, r in pairs]
    n = len(raw)
    stats = MetricStatistics(metric=metric, count=n, raw_values=raw, run_ids=ids, unit=unit)
    if n == 0:
        return stats

    ordered = sorted(raw)
    mean = math.fsum(raw) / n
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in raw) / (n - 1)) if n > 1 else 0.0
    stats.mean = mean
    stats.std = std
    stats.min = ordered[0]
    stats.max = ordered[-1]
    stats.median = median(ordered)
    stats.cv = std / mean if mean != 0 else None
    if n >= P90_MIN_COUNT:
        stats.p90 = percentile(ordered, 90)
    if n >= P95_MIN_COUNT:
        stats.p95 = percentile(ordered, 95)
    if n >= P99_MIN_COUNT:
        stats.p99 = percentile(ordered, 99)
    if n >= CI_MIN_COUNT:
        half_width = t_critical_975(n - 1) * std / math.sqrt(n)
        stats.ci95_low = mean - half_width
        stats.ci95_high = mean + half_width
    stats.outliers = modified_z_outliers(raw, ids)
    return stats


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def summarize_runs(
    runs: Sequence[Mapping[str, Any]],
    *,
    metric_keys: Iterable[str] | None = None,
    units: Mapping[str, str] | None = None,
) -> dict[str, MetricStatistics]:
    """Statistics per numeric metric over the successful warm runs (`success` true, `cold_start` false).

    Each run is `{"run_id": int, "success": bool, "cold_start": bool, "metrics": {name: value}}`.
    Non-numeric values (strings, bools, lists, None) are skipped. Metrics come in first-seen order; with
    `metric_keys`, exactly those keys in that order (count 0 for a key no run measured). `units` maps metric
    key to unit.
    """
    included = [run for run in runs if run.get("success") and not run.get("cold_start")]
    columns: dict[str, tuple[list[float], list[int]]] = {}
    if metric_keys is not None:
        for key in metric_keys:
            columns.setdefault(key, ([], []))
    for run in included:
        run_id = int(run["run_id"])
        for name, value in (run.get("metrics") or {}).items():
            if not _is_number(value):
                continue
            if metric_keys is None:
                column = columns.setdefault(name, ([], []))
            elif name in columns:
                column = columns[name]
            else:
                continue
            column[0].append(float(value))
            column[1].append(run_id)
    unit_of = units or {}
    return {
        name: compute_statistics(name, vals, ids, unit_of.get(name)) for name, (vals, ids) in columns.items()
    }
