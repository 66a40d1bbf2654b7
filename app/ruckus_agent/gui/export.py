"""CSV and JSON text for the export buttons. Plain Python: no Qt here, so the formats are easy to test.

CSV columns carry their unit in the name, as the models do; an unknown value is an empty cell, never 0.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from typing import Any

from ruckus_agent.gui.series import GPU_FIELDS, HOST_FIELDS, Window
from ruckus_agent.models.jobs import JobResult, MultiRunJobResult, SingleRunResult
from ruckus_agent.models.monitor import RunTelemetry

TELEMETRY_FIELDS: tuple[str, ...] = tuple(
    name for name in RunTelemetry.model_fields if name not in ("gpu_index", "throttle_reasons")
)


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def monitor_csv(window: Window) -> str:
    """One row per sample of the window: timestamp, host fields, then each GPU's fields."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["timestamp", *(f"host_{f}" for f in HOST_FIELDS)]
    for index in window.gpus:
        header += [f"gpu{index}_{f}" for f in GPU_FIELDS]
    writer.writerow(header)
    for row in range(len(window.t)):
        stamp = datetime.fromtimestamp(float(window.t[row]), UTC).isoformat()
        cells: list[Any] = [stamp, *(_cell(float(window.host[f][row])) for f in HOST_FIELDS)]
        for cols in window.gpus.values():
            cells += [_cell(float(cols[f][row])) for f in GPU_FIELDS]
        writer.writerow(cells)
    return out.getvalue()


def job_runs(result: JobResult | MultiRunJobResult) -> list[SingleRunResult]:
    """Every run of a job in run order (a one-run job has at most one)."""
    if isinstance(result, MultiRunJobResult):
        return sorted(result.individual_runs, key=lambda r: r.run_id)
    return [result.run] if result.run is not None else []


def metric_names(runs: list[SingleRunResult]) -> list[str]:
    return list(dict.fromkeys(key for run in runs for key in run.metrics))


def outlier_runs(result: JobResult | MultiRunJobResult) -> dict[int, list[str]]:
    """Run id -> the metrics it is an outlier in (modified z-score, as the statistics flag them)."""
    flagged: dict[int, list[str]] = {}
    if isinstance(result, MultiRunJobResult):
        for name, stats in result.summary_stats.items():
            for run_id in stats.outliers:
                flagged.setdefault(run_id, []).append(name)
    return flagged


def job_json(result: JobResult | MultiRunJobResult) -> str:
    return result.model_dump_json(indent=2)


def job_csv(result: JobResult | MultiRunJobResult) -> str:
    """One row per run: identity, timing, every metric, the run's telemetry, outlier flags, error."""
    runs = job_runs(result)
    metrics = metric_names(runs)
    flagged = outlier_runs(result)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "job_id",
            "run_id",
            "cold_start",
            "success",
            "started_at",
            "completed_at",
            "duration_seconds",
            *metrics,
            *(f"telemetry_{f}" for f in TELEMETRY_FIELDS),
            "outlier_in",
            "error",
        ]
    )
    for run in runs:
        telemetry = run.telemetry
        writer.writerow(
            [
                result.job_id,
                run.run_id,
                run.cold_start,
                run.success,
                _cell(run.started_at),
                _cell(run.completed_at),
                _cell(run.duration_seconds),
                *(_cell(run.metrics.get(m)) for m in metrics),
                *(_cell(getattr(telemetry, f, None) if telemetry else None) for f in TELEMETRY_FIELDS),
                ";".join(flagged.get(run.run_id, [])),
                _cell(run.error),
            ]
        )
    return out.getvalue()
