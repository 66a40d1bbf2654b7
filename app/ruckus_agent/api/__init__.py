"""The REST API: an aiohttp app factory over one Agent."""

from __future__ import annotations

from ruckus_agent.api.app import create_app

__all__ = ["create_app"]
