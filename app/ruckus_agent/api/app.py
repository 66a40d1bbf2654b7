"""The aiohttp app factory."""

from __future__ import annotations

from aiohttp import web

from ruckus_agent.api import routes_jobs, routes_metrics, routes_v1
from ruckus_agent.api.keys import AGENT, CACHE, ROUTE_TABLE, SETTINGS, TOKEN
from ruckus_agent.api.middlewares import auth_middleware, body_limit_middleware, error_middleware
from ruckus_agent.api.routing import Route
from ruckus_agent.core.agent import Agent


def all_routes() -> list[Route]:
    return [*routes_v1.ROUTES, *routes_metrics.ROUTES, *routes_jobs.ROUTES]


def create_app(agent: Agent) -> web.Application:
    """An app serving `agent`. Starting and stopping the agent is the runtime's job, not the app's."""
    settings = agent.settings
    app = web.Application(
        middlewares=[error_middleware, auth_middleware, body_limit_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[AGENT] = agent
    app[SETTINGS] = settings
    app[TOKEN] = agent.api_token
    app[CACHE] = {}
    routes = all_routes()
    app[ROUTE_TABLE] = routes
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
    return app
