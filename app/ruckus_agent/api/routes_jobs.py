"""Job routes: submit, list, state, result, cancel, and the aliases the RUCKUS server polls."""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from ruckus_agent.api.errors import ApiError
from ruckus_agent.api.keys import AGENT
from ruckus_agent.api.middlewares import pydantic_details
from ruckus_agent.api.routing import Route, int_query, model_response
from ruckus_agent.jobs.results import job_state
from ruckus_agent.models.jobs import (
    JobAccepted,
    JobList,
    JobRequest,
    JobResult,
    JobState,
    JobStatus,
    MultiRunJobResult,
    ServerJobRequest,
)

_STATUSES = {s.value for s in JobStatus}
_RESULT = TypeAdapter(JobResult | MultiRunJobResult)


async def submit_job(request: web.Request) -> web.StreamResponse:
    """A JobRequest, or the RUCKUS server's {job_id, experiment_spec}."""
    if request.content_type != "application/json":
        raise ApiError(415, f"expected Content-Type: application/json, got {request.content_type or 'none'}")
    try:
        data = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(
            422, "the body must be a JSON object", details=[{"loc": [], "msg": "expected an object"}]
        )
    try:
        job = (
            ServerJobRequest.model_validate(data).to_job_request()
            if "experiment_spec" in data
            else JobRequest.model_validate(data)
        )
    except ValidationError as exc:
        raise ApiError(422, "job request failed validation", details=pydantic_details(exc)) from None
    record = await request.app[AGENT].jobs.submit(job)
    return model_response(JobAccepted(job_id=record.job_id), status=202)


async def list_jobs(request: web.Request) -> web.StreamResponse:
    statuses = [s for s in request.query.get("status", "").split(",") if s]
    unknown = [s for s in statuses if s not in _STATUSES]
    if unknown:
        raise ApiError(422, f"unknown status {unknown[0]!r}; use one of {sorted(_STATUSES)}")
    limit = int_query(request, "limit", 50, lo=1, hi=1000)
    offset = int_query(request, "offset", 0, lo=0, hi=10**9)
    storage = request.app[AGENT].storage
    records = await storage.list_jobs(statuses or None, limit=limit, offset=offset)
    total = await storage.count_jobs(statuses or None)
    return model_response(
        JobList(jobs=[job_state(r) for r in records], total=total, limit=limit, offset=offset)
    )


async def get_job(request: web.Request) -> web.StreamResponse:
    record = await request.app[AGENT].jobs.get(request.match_info["job_id"])
    return model_response(job_state(record))


async def get_result(request: web.Request) -> web.StreamResponse:
    result = await request.app[AGENT].jobs.result(request.match_info["job_id"])
    return model_response(result)


async def cancel_job(request: web.Request) -> web.StreamResponse:
    record = await request.app[AGENT].jobs.cancel(request.match_info["job_id"])
    return model_response(job_state(record))


_ERR = (401, 404)
ROUTES: list[Route] = [
    Route(
        "POST",
        "/api/v1/jobs",
        submit_job,
        "Submit a job (JobRequest, or {job_id, experiment_spec})",
        JobAccepted,
        response_status=202,
        request=JobRequest,
        errors=(400, 401, 409, 413, 415, 422, 429, 503),
        tag="jobs",
    ),
    Route(
        "GET",
        "/api/v1/jobs",
        list_jobs,
        "Job history, newest first",
        JobList,
        query={"status": "Comma-separated statuses", "limit": "1..1000 (default 50)", "offset": "Default 0"},
        errors=(401, 422),
        tag="jobs",
    ),
    Route(
        "GET",
        "/api/v1/jobs/{job_id}",
        get_job,
        "Status and progress of a job",
        JobState,
        errors=_ERR,
        tag="jobs",
    ),
    Route(
        "GET",
        "/api/v1/jobs/{job_id}/result",
        get_result,
        "JobResult (1 run) or MultiRunJobResult; partial for cancelled/failed/timeout/interrupted jobs",
        MultiRunJobResult,
        errors=(*_ERR, 409),
        tag="jobs",
    ),
    Route(
        "DELETE",
        "/api/v1/jobs/{job_id}",
        cancel_job,
        "Cancel a queued or running job",
        JobState,
        errors=(*_ERR, 409),
        tag="jobs",
    ),
    Route(
        "GET",
        "/api/v1/status/{job_id}",
        get_job,
        "Alias of GET /api/v1/jobs/{job_id}",
        JobState,
        errors=_ERR,
        tag="jobs",
    ),
    Route(
        "GET",
        "/api/v1/results/{job_id}",
        get_result,
        "Alias of GET /api/v1/jobs/{job_id}/result",
        MultiRunJobResult,
        errors=(*_ERR, 409),
        tag="jobs",
    ),
]
