"""v1 routes: health, info, status and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from ruckus_agent.api.errors import json_error
from ruckus_agent.api.keys import AGENT, ROUTE_TABLE
from ruckus_agent.api.openapi import build_openapi
from ruckus_agent.api.routing import Route, json_body, model_response
from ruckus_agent.models.common import AgentStatus, Health
from ruckus_agent.models.system import AgentInfo

JSON = "application/json"


async def health(request: web.Request) -> web.StreamResponse:
    """503 {status: starting} until storage is open and detection is done, then 200 {status: healthy}."""
    h = request.app[AGENT].health()
    return model_response(h, 200 if h.status == "healthy" else 503)


async def info(request: web.Request) -> web.StreamResponse:
    agent = request.app[AGENT]
    if agent.system_info is None:
        return json_error(
            503, "the agent is still detecting this machine; retry shortly", headers={"Retry-After": "1"}
        )
    return web.Response(body=agent.info_json(), content_type=JSON)


async def status(request: web.Request) -> web.StreamResponse:
    return model_response(request.app[AGENT].status())


async def openapi(request: web.Request) -> web.StreamResponse:
    return json_body(build_openapi(request.app[ROUTE_TABLE], version=request.app[AGENT].version))


ROUTES: list[Route] = [
    Route("GET", "/health", health, "Liveness and readiness (always open)", Health, errors=(503,)),
    Route(
        "GET",
        "/api/v1/info",
        info,
        "This machine and agent, in the seed's shape",
        AgentInfo,
        errors=(401, 503),
    ),
    Route(
        "GET", "/api/v1/status", status, "Agent state, running and queued jobs", AgentStatus, errors=(401,)
    ),
    Route("GET", "/api/v1/openapi.json", openapi, "This document (OpenAPI 3.1)", None),
]
