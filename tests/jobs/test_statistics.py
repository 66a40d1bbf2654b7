"""Statistics of a job's runs, checked against numpy/scipy and hand-worked examples."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from ruckus_agent.jobs.statistics import (
    compute_statistics,
    modified_z_outliers,
    percentile,
    summarize_runs,
    t_critical_975,
)
from ruckus_agent.models.statistics import MetricStatistics

REL = 1e-12


def _random_sets() -> list[list[float]]:
    rng = np.random.default_rng(20240611)
    sets: list[list[float]] = []
    for n in (2, 3, 5, 9, 10, 11, 19, 20, 21, 37, 99, 100, 101, 250, 1000):
        sets.append(rng.normal(10.0, 2.0, n).tolist())
        sets.append(rng.lognormal(0.0, 1.0, n).tolist())
        sets.append(rng.integers(-5, 6, n).astype(float).tolist())  # many ties, negatives, zeros
    return sets


HAND_MADE: list[list[float]] = [
    [1.0, 2.0, 3.0, 4.0],
    [4.0, 1.0, 3.0, 2.0, 5.0],
    [0.1, 0.2, 0.3],
    [-3.5, 2.25, 0.0, 1e-9, 7.75, -1.0],
    [1e6, 1e6 + 1, 1e6 + 2, 1e6 + 3, 1e6 + 4, 1e6 + 5, 1e6 + 6, 1e6 + 7, 1e6 + 8, 1e6 + 9],
    [2.5] * 7 + [3.0] * 6,
    [float(i) for i in range(1, 101)],
]

DATA_SETS = HAND_MADE + _random_sets()
PERCENTILES = (0, 1, 5, 10, 25, 33.3, 50, 66.7, 75, 90, 95, 97.5, 99, 99.9, 100)


# --- percentile ---


@pytest.mark.parametrize("values", DATA_SETS, ids=lambda v: f"n{len(v)}")
def test_percentile_matches_numpy_linear_bit_for_bit(values: list[float]) -> None:
    ordered = sorted(values)
    for q in PERCENTILES:
        assert percentile(ordered, q) == float(np.percentile(values, q)), q


def test_percentile_hand_worked() -> None:
    # [1, 2, 3, 4]: p90 index = 3·0.9 = 2.7 → 3 + 0.7·(4 - 3) = 3.7; p50 index 1.5 → 2.5; p0 → 1; p100 → 4
    assert percentile([1.0, 2.0, 3.0, 4.0], 90) == pytest.approx(3.7, rel=REL)
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    assert percentile([7.0], 99) == 7.0


def test_percentile_rejects_empty_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


# --- Student t critical value ---


@pytest.mark.parametrize("df", [*range(1, 201), 250, 500, 998, 999, 1000, 1001, 5000, 10_000, 10**6, 10**9])
def test_t_critical_975_matches_scipy(df: int) -> None:
    assert t_critical_975(df) == pytest.approx(scipy_stats.t.ppf(0.975, df), rel=1e-10)


def test_t_critical_975_textbook_values() -> None:
    # Printed t tables (two-sided 95%): df 1 → 12.706, 2 → 4.303, 10 → 2.228, 30 → 2.042, ∞ → 1.960.
    # df 1 and 2 also have closed forms: tan(0.475·π) and 0.95/√(2·0.975·0.025).
    assert t_critical_975(1) == pytest.approx(math.tan(0.475 * math.pi), rel=1e-13)
    assert t_critical_975(2) == pytest.approx(0.95 / math.sqrt(2 * 0.975 * 0.025), rel=1e-13)
    assert round(t_critical_975(10), 3) == 2.228
    assert round(t_critical_975(30), 3) == 2.042
    assert round(t_critical_975(10**9), 3) == 1.960


def test_t_critical_975_rejects_zero_df() -> None:
    with pytest.raises(ValueError):
        t_critical_975(0)


# --- compute_statistics against numpy/scipy ---


def _expected_ci(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values)
    sem = arr.std(ddof=1) / math.sqrt(len(arr))
    if sem == 0:  # scipy answers NaN for a zero scale; the interval of identical values is that value
        return float(arr.mean()), float(arr.mean())
    low, high = scipy_stats.t.interval(0.95, len(arr) - 1, loc=arr.mean(), scale=sem)
    return float(low), float(high)


@pytest.mark.parametrize("values", DATA_SETS, ids=lambda v: f"n{len(v)}")
def test_compute_statistics_matches_numpy_and_scipy(values: list[float]) -> None:
    n = len(values)
    run_ids = list(range(1, n + 1))
    arr = np.asarray(values)
    result = compute_statistics("latency_s", values, run_ids, unit="s")

    scale = float(np.abs(arr).max()) or 1.0
    assert result.count == n
    assert result.mean == pytest.approx(arr.mean(), rel=REL, abs=REL * scale)
    assert result.std == pytest.approx(arr.std(ddof=1), rel=1e-9, abs=REL * scale)
    assert result.min == arr.min()
    assert result.max == arr.max()
    assert result.median == float(np.median(arr))
    assert result.p90 == (float(np.percentile(arr, 90)) if n >= 10 else None)
    assert result.p95 == (float(np.percentile(arr, 95)) if n >= 20 else None)
    assert result.p99 == (float(np.percentile(arr, 99)) if n >= 100 else None)
    assert result.ci95_low is not None and result.ci95_high is not None
    low, high = _expected_ci(values)
    assert result.ci95_low == pytest.approx(low, rel=1e-10, abs=1e-10 * scale)
    assert result.ci95_high == pytest.approx(high, rel=1e-10, abs=1e-10 * scale)
    if arr.mean() != 0:
        assert result.cv == pytest.approx(arr.std(ddof=1) / arr.mean(), rel=1e-8)
    assert result.raw_values == values
    assert result.run_ids == run_ids
    assert result.unit == "s"


@pytest.mark.parametrize(
    ("n", "p90", "p95", "p99"),
    [
        (9, False, False, False),
        (10, True, False, False),
        (19, True, False, False),
        (20, True, True, False),
        (99, True, True, False),
        (100, True, True, True),
    ],
)
def test_percentile_thresholds(n: int, p90: bool, p95: bool, p99: bool) -> None:
    values = [float((i * 7) % n) for i in range(n)]  # a permutation of 0..n-1: raw order is not sorted order
    result = compute_statistics("x", values, list(range(1, n + 1)))
    assert (result.p90 is not None) is p90
    assert (result.p95 is not None) is p95
    assert (result.p99 is not None) is p99
    for field, q in (("p90", 90), ("p95", 95), ("p99", 99)):
        got = getattr(result, field)
        if got is not None:
            assert got == float(np.percentile(values, q))


# --- small counts ---


def test_no_values() -> None:
    result = compute_statistics("x", [], [])
    assert result.count == 0
    for field in ("mean", "std", "min", "max", "median", "p90", "p95", "p99", "cv", "ci95_low", "ci95_high"):
        assert getattr(result, field) is None, field
    assert result.raw_values == [] and result.run_ids == [] and result.outliers == []


def test_one_value_has_zero_std_no_ci_no_outliers() -> None:
    result = compute_statistics("x", [4.25], [3])
    assert (result.count, result.mean, result.std, result.min, result.max, result.median) == (
        1,
        4.25,
        0.0,
        4.25,
        4.25,
        4.25,
    )
    assert result.cv == 0.0
    assert result.ci95_low is None and result.ci95_high is None
    assert result.p90 is None
    assert result.outliers == []
    assert result.run_ids == [3]


def test_two_values_by_hand() -> None:
    # [1, 3]: mean 2; std = √(((1-2)² + (3-2)²)/1) = √2; sem = √2/√2 = 1;
    # t(0.975, 1) = tan(0.475π) = 12.7062047… → CI = 2 ∓ 12.7062047… = (-10.7062…, 14.7062…)
    result = compute_statistics("x", [1.0, 3.0], [1, 2])
    t1 = math.tan(0.475 * math.pi)
    assert result.mean == 2.0
    assert result.std == pytest.approx(math.sqrt(2), rel=REL)
    assert result.median == 2.0
    assert result.cv == pytest.approx(math.sqrt(2) / 2, rel=REL)
    assert result.ci95_low == pytest.approx(2 - t1, rel=1e-12)
    assert result.ci95_high == pytest.approx(2 + t1, rel=1e-12)
    assert result.outliers == []  # fewer than 3 values: no outlier test


def test_cv_is_null_when_mean_is_zero() -> None:
    result = compute_statistics("x", [-1.0, 1.0], [1, 2])
    assert result.mean == 0.0
    assert result.cv is None


def test_none_nan_and_inf_are_ignored_and_order_kept() -> None:
    values = [3.0, None, 1.0, math.nan, 2.0, math.inf, -math.inf]
    result = compute_statistics("x", values, [1, 2, 3, 4, 5, 6, 7])
    assert result.count == 3
    assert result.raw_values == [3.0, 1.0, 2.0]
    assert result.run_ids == [1, 3, 5]
    assert result.mean == 2.0
    assert result.median == 2.0


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        compute_statistics("x", [1.0, 2.0], [1])
    with pytest.raises(ValueError):
        modified_z_outliers([1.0, 2.0, 3.0], [1, 2])


def test_model_round_trips_through_json() -> None:
    result = compute_statistics("bandwidth_gb_s", [10.0, 10.5, 9.8, 10.2, 50.0], [1, 2, 3, 4, 5], "GB/s")
    again = MetricStatistics.model_validate_json(result.model_dump_json())
    assert again == result
    assert again.outliers == [5]


# --- outliers: modified z-score, Iglewicz & Hoaglin (1993) ---


def test_outlier_hand_worked_high_value() -> None:
    # values [10, 10.5, 9.8, 10.2, 50] (run ids 1..5)
    # sorted: 9.8, 10, 10.2, 10.5, 50 → median 10.2
    # |x - 10.2|: 0.2, 0.3, 0.4, 0.0, 39.8 → sorted 0.0, 0.2, 0.3, 0.4, 39.8 → MAD 0.3
    # z(50)  = 0.6745 · 39.8 / 0.3 = 0.6745 · 132.67 = 89.48  > 3.5 → run 5 flagged
    # z(9.8) = 0.6745 · (-0.4) / 0.3 = -0.899; z(10.5) = 0.6745; z(10) = -0.450: not flagged
    assert modified_z_outliers([10.0, 10.5, 9.8, 10.2, 50.0], [1, 2, 3, 4, 5]) == [5]


def test_outlier_threshold_is_strict_above_3_5() -> None:
    # values [1, 2, 3, 4, 5, 6, x], x ≥ 6: sorted → median 4
    # |x - 4|: 3, 2, 1, 0, 1, 2, x - 4 → sorted 0, 1, 1, 2, 2, 3, x-4 → MAD 2
    # z(x) = 0.6745 · (x - 4) / 2 > 3.5  ⇔  x > 4 + 7/0.6745 = 14.378
    # x = 14.3: z = 0.6745 · 10.3 / 2 = 3.474 → not flagged
    # x = 14.5: z = 0.6745 · 10.5 / 2 = 3.541 → flagged
    # z(1) = 0.6745 · (-3) / 2 = -1.01 → never flagged
    ids = [11, 12, 13, 14, 15, 16, 17]
    assert modified_z_outliers([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 14.3], ids) == []
    assert modified_z_outliers([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 14.5], ids) == [17]


def test_outlier_low_value_uses_absolute_score() -> None:
    # values [x, 1, 2, 3, 4, 5, 6] with x < 1: sorted x, 1..6 → median 3
    # |v - 3|: 3 - x, 2, 1, 0, 1, 2, 3 → sorted 0, 1, 1, 2, 2, 3, 3 - x → MAD 2
    # x = -7: z = 0.6745 · (-10) / 2 = -3.37 → |z| ≤ 3.5, not flagged
    # x = -8: z = 0.6745 · (-11) / 2 = -3.71 → |z| > 3.5, run 21 flagged
    ids = [21, 22, 23, 24, 25, 26, 27]
    assert modified_z_outliers([-7.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], ids) == []
    assert modified_z_outliers([-8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], ids) == [21]


def test_no_outliers_when_mad_is_zero() -> None:
    # [5, 5, 5, 5, 9]: median 5; |x - 5|: 0, 0, 0, 0, 4 → MAD = median = 0 → score undefined → none flagged
    assert modified_z_outliers([5.0, 5.0, 5.0, 5.0, 9.0], [1, 2, 3, 4, 5]) == []
    assert compute_statistics("x", [5.0, 5.0, 5.0, 5.0, 9.0], [1, 2, 3, 4, 5]).outliers == []


def test_no_outliers_below_three_values() -> None:
    assert modified_z_outliers([], []) == []
    assert modified_z_outliers([1.0], [1]) == []
    assert modified_z_outliers([1.0, 1000.0], [1, 2]) == []


def test_outliers_are_flagged_not_dropped() -> None:
    result = compute_statistics("x", [10.0, 10.5, 9.8, 10.2, 50.0], [1, 2, 3, 4, 5])
    assert result.outliers == [5]
    assert result.count == 5
    assert result.max == 50.0
    assert result.mean == pytest.approx((10 + 10.5 + 9.8 + 10.2 + 50) / 5, rel=REL)


def test_several_outliers_in_run_order() -> None:
    # values [100, 10, 11, 12, 13, 14, -80] (ids 1..7): sorted -80, 10, 11, 12, 13, 14, 100 → median 12
    # |x - 12|: 88, 2, 1, 0, 1, 2, 92 → sorted 0, 1, 1, 2, 2, 88, 92 → MAD 2
    # z(100) = 0.6745 · 88 / 2 = 29.7, z(-80) = 0.6745 · (-92) / 2 = -31.0 → runs 1 and 7, in run order
    assert modified_z_outliers([100.0, 10.0, 11.0, 12.0, 13.0, 14.0, -80.0], [1, 2, 3, 4, 5, 6, 7]) == [1, 7]


# --- summarize_runs ---


def _run(run_id: int, metrics: dict[str, Any], *, success: bool = True, cold: bool = False) -> dict[str, Any]:
    return {"run_id": run_id, "success": success, "cold_start": cold, "metrics": metrics}


RUNS = [
    _run(0, {"model_load_time_seconds": 9.0, "latency_s": 100.0, "tokens": 5}, cold=True),
    _run(1, {"latency_s": 1.0, "tokens": 5, "device": "cuda:0", "oom": False}),
    _run(2, {"latency_s": 2.0, "tokens": 6, "device": "cuda:0", "oom": False, "note": None}),
    _run(3, {"latency_s": 1000.0, "tokens": 0}, success=False),
    _run(4, {"tokens": 7, "latency_s": 3.0, "extra_j": 1.5}),
    _run(5, {"latency_s": "n/a", "tokens": 8}),
]


def test_summarize_runs_excludes_cold_start_and_failed_runs() -> None:
    result = summarize_runs(RUNS, units={"latency_s": "s"})
    latency = result["latency_s"]
    assert latency.raw_values == [1.0, 2.0, 3.0]
    assert latency.run_ids == [1, 2, 4]
    assert latency.mean == 2.0
    assert latency.unit == "s"
    assert result["tokens"].run_ids == [1, 2, 4, 5]
    assert result["tokens"].raw_values == [5.0, 6.0, 7.0, 8.0]
    assert result["tokens"].unit is None
    assert "model_load_time_seconds" not in result  # seen only in the cold start


def test_summarize_runs_skips_non_numeric_values_and_keeps_first_seen_order() -> None:
    result = summarize_runs(RUNS)
    assert list(result) == ["latency_s", "tokens", "extra_j"]  # device/oom/note: string, bool, None
    assert result["extra_j"].run_ids == [4]


def test_summarize_runs_with_metric_keys() -> None:
    result = summarize_runs(RUNS, metric_keys=["tokens", "latency_s", "ttft_s"])
    assert list(result) == ["tokens", "latency_s", "ttft_s"]
    assert result["ttft_s"].count == 0
    assert result["tokens"].count == 4


def test_summarize_runs_of_nothing() -> None:
    assert summarize_runs([]) == {}
    assert summarize_runs([_run(0, {"latency_s": 1.0}, cold=True)]) == {}
