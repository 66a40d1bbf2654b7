"""Telemetry routes: the latest sample, the ring buffer, and Prometheus /metrics."""

from __future__ import annotations

from aiohttp import web

from ruckus_agent.api import prometheus
from ruckus_agent.api.errors import ApiError
from ruckus_agent.api.keys import AGENT, CACHE
from ruckus_agent.api.routing import Route, model_response
from ruckus_agent.core.agent import Agent
from ruckus_agent.models.monitor import MetricsHistory, Sample


def _sampler(agent: Agent):
    if agent.sampler is None:
        raise ApiError(503, "the monitor is not running yet; retry shortly", headers={"Retry-After": "1"})
    return agent.sampler


async def metrics_live(request: web.Request) -> web.StreamResponse:
    sampler = _sampler(request.app[AGENT])
    sample = sampler.latest or await sampler.sample_once()
    return model_response(sample)


async def metrics_history(request: web.Request) -> web.StreamResponse:
    agent = request.app[AGENT]
    sampler = _sampler(agent)
    raw = request.query.get("seconds", "60")
    limit = agent.settings.history_seconds
    try:
        seconds = float(raw)
    except ValueError:
        raise ApiError(422, "query parameter 'seconds' must be a number", details={"value": raw}) from None
    if not 0 < seconds <= limit:
        raise ApiError(422, f"query parameter 'seconds' must be in (0, {limit}]", details={"value": raw})
    samples = sampler.history(seconds)
    return model_response(
        MetricsHistory(
            seconds=seconds, interval_s=sampler.current_interval_s, count=len(samples), samples=samples
        )
    )


async def metrics_prometheus(request: web.Request) -> web.StreamResponse:
    """Rendered once per new sample (and job-count change); uptime is the only per-request line."""
    agent = request.app[AGENT]
    sampler = agent.sampler
    sample = sampler.latest if sampler is not None else None
    info = agent.system_info
    status = agent.status()
    key = (id(sample), id(info), len(status.running_jobs), len(status.queued_jobs))
    cache = request.app[CACHE].get("prometheus")
    if cache is None or cache["key"] != key:
        text = prometheus.render(
            hostname=info.system.hostname if info else "",
            agent_id=agent.agent_id,
            agent_type=str(agent.settings.agent_type),
            version=agent.version,
            uptime_s=0.0,
            gpus=info.gpus if info else [],
            sample=sample,
            jobs_running=len(status.running_jobs),
            jobs_queued=len(status.queued_jobs),
        )
        head, _, tail = text.partition("ruckus_agent_uptime_seconds 0\n")
        cache = {"key": key, "head": head.encode(), "tail": tail.encode()}
        request.app[CACHE]["prometheus"] = cache
    body = cache["head"] + f"ruckus_agent_uptime_seconds {agent.uptime_seconds()}\n".encode() + cache["tail"]
    return web.Response(body=body, headers={"Content-Type": prometheus.CONTENT_TYPE})


ROUTES: list[Route] = [
    Route(
        "GET",
        "/api/v1/metrics/live",
        metrics_live,
        "The latest sample: per GPU and host",
        Sample,
        errors=(401, 503),
        tag="metrics",
    ),
    Route(
        "GET",
        "/api/v1/metrics/history",
        metrics_history,
        "Samples from the ring buffer",
        MetricsHistory,
        query={"seconds": "How far back, in seconds (default 60)"},
        errors=(401, 422, 503),
        tag="metrics",
    ),
    Route(
        "GET",
        "/metrics",
        metrics_prometheus,
        "Prometheus text format (dcgm-exporter names for GPUs)",
        None,
        content_type="text/plain",
        errors=(401,),
        tag="metrics",
    ),
]
