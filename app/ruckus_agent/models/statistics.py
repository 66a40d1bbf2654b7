"""Per-metric statistics of a job's runs (`MetricStatistics`).

A plain serializable record: every field is documented, and a figure the data cannot support is None (JSON
null), never 0. The thresholds (p90 from 10 values, p95 from 20, p99 from 100, CI from 2) are DESIGN.md's
"Statistics thresholds"; the numbers are computed in `ruckus_agent.jobs.statistics`.
"""

from __future__ import annotations

from pydantic import Field

from ruckus_agent.models.common import WireModel


class MetricStatistics(WireModel):
    """One numeric metric over a job's successful warm runs (the cold start, run 0, is not among them)."""

    metric: str = Field(
        description="Metric key, unit in the name where the registry has one (e.g. 'latency_s')"
    )
    count: int = Field(description="Number of values summarized (None and non-finite values are not counted)")
    mean: float | None = Field(None, description="Arithmetic mean; null when count is 0")
    std: float | None = Field(
        None, description="Sample standard deviation (n-1 denominator); 0.0 for one value, null for none"
    )
    min: float | None = Field(None, description="Smallest value; null when count is 0")
    max: float | None = Field(None, description="Largest value; null when count is 0")
    median: float | None = Field(None, description="Median (mean of the two middle values for even count)")
    p90: float | None = Field(
        None, description="90th percentile, linear interpolation (numpy's default); null below 10 values"
    )
    p95: float | None = Field(None, description="95th percentile, linear interpolation; null below 20 values")
    p99: float | None = Field(
        None, description="99th percentile, linear interpolation; null below 100 values"
    )
    cv: float | None = Field(
        None, description="Coefficient of variation std/mean; null when the mean is 0 or count is 0"
    )
    ci95_low: float | None = Field(
        None,
        description="Lower end of the 95% CI of the mean, mean - t(0.975, n-1)·std/√n; null below 2 values",
    )
    ci95_high: float | None = Field(
        None,
        description="Upper end of the 95% CI of the mean, mean + t(0.975, n-1)·std/√n; null below 2 values",
    )
    raw_values: list[float] = Field(default_factory=list, description="The values summarized, in run order")
    run_ids: list[int] = Field(
        default_factory=list, description="Run id of each raw value, same order (0 is the cold start)"
    )
    outliers: list[int] = Field(
        default_factory=list,
        description=(
            "Run ids whose modified z-score |0.6745·(x - median)/MAD| exceeds 3.5 "
            "(Iglewicz & Hoaglin, 1993); empty when MAD is 0 or count < 3. Flagged only: outliers stay in "
            "every other figure"
        ),
    )
    unit: str | None = Field(None, description="Unit of the values (e.g. 's', 'GB/s'), if known")
