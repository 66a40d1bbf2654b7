"""Build a job's result from its record and its persisted runs (also for partial and interrupted jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ruckus_agent.jobs.statistics import summarize_runs
from ruckus_agent.models.jobs import (
    ColdStartData,
    JobResult,
    JobState,
    JobStatus,
    MultiRunJobResult,
    SingleRunResult,
)
from ruckus_agent.models.metrics import METRICS
from ruckus_agent.models.storage import JobRecord, RunRecord


def job_state(record: JobRecord) -> JobState:
    return JobState(
        job_id=record.job_id,
        status=JobStatus(record.status),
        task_type=record.task_type,
        experiment_id=record.request.get("experiment_id"),
        runs_completed=record.runs_completed,
        runs_total=record.runs_total,
        stage=record.stage,
        submitted_at=record.submitted_at,
        started_at=record.started_at,
        completed_at=record.completed_at,
        error=record.error,
    )


def _unit(metric: str) -> str | None:
    if metric in METRICS:
        return METRICS[metric].unit
    for key, spec in METRICS.items():
        if metric.startswith(key + "_"):
            return spec.unit
    return None


def _duration(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 6) if start and end else None


def build_result(record: JobRecord, runs: list[RunRecord]) -> JobResult | MultiRunJobResult:
    """JobResult for a one-run job, MultiRunJobResult otherwise; statistics over successful warm runs."""
    req = record.request
    partial: dict[str, Any] = (record.result or {}) if (record.result or {}).get("partial") else {}
    load_s = partial.get("model_load_time_seconds")
    if load_s is None and record.result and not record.result.get("partial"):
        load_s = record.result.get("model_load_time_seconds") or (
            record.result.get("cold_start_data") or {}
        ).get("model_load_time_seconds")
    singles = [SingleRunResult.model_validate(r.data) for r in sorted(runs, key=lambda r: r.run_index)]
    environment = partial.get("environment") or {}
    status = JobStatus(record.status)
    common: dict[str, Any] = {
        "job_id": record.job_id,
        "experiment_id": req.get("experiment_id"),
        "status": status,
        "task_type": record.task_type or req.get("task_type", ""),
        "model": req.get("model"),
        "framework": req.get("framework"),
        "started_at": record.started_at,
        "completed_at": record.completed_at,
        "duration_seconds": _duration(record.started_at, record.completed_at),
        "error": record.error,
        "environment": environment,
    }
    if record.runs_total == 1:
        run = singles[0] if singles else None
        return JobResult(
            **common,
            model_load_time_seconds=load_s,
            metrics=run.metrics if run and run.success else {},
            run=run,
        )
    wanted = req.get("required_metrics") or None
    rows = [
        {"run_id": r.run_id, "success": r.success, "cold_start": r.cold_start, "metrics": r.metrics}
        for r in singles
    ]
    stats = summarize_runs(rows, units={k: u for k in _metric_names(singles) if (u := _unit(k))})
    if wanted:
        stats = {k: v for k, v in stats.items() if any(k == w or k.startswith(w + "_") for w in wanted)}
    cold = next((r for r in singles if r.cold_start), None)
    return MultiRunJobResult(
        **common,
        total_runs=record.runs_total,
        runs_completed=len(singles),
        successful_runs=sum(1 for r in singles if r.success),
        failed_runs=sum(1 for r in singles if not r.success),
        cold_start_data=ColdStartData(model_load_time_seconds=load_s, first_run=cold),
        individual_runs=singles,
        summary_stats=stats,
    )


def _metric_names(runs: list[SingleRunResult]) -> list[str]:
    return list(dict.fromkeys(k for r in runs for k in r.metrics))
