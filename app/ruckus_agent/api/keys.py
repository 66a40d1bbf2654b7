"""Typed application keys."""

from __future__ import annotations

from aiohttp import web

from ruckus_agent.core.agent import Agent
from ruckus_agent.core.config import Settings

AGENT = web.AppKey("agent", Agent)
SETTINGS = web.AppKey("settings", Settings)
TOKEN = web.AppKey("token", str)
ROUTE_TABLE = web.AppKey("route_table", list)
CACHE = web.AppKey("cache", dict)  # mutable per-app caches (e.g. the rendered /metrics text)
