"""Start and stop the Agent and its API server on a running asyncio loop.

Headless mode and the GUI (on qasync's loop) host exactly this. The HTTP server comes up first so /health
answers 503 "starting" while the agent opens storage and detects the machine.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

from aiohttp import web

from ruckus_agent.api import create_app
from ruckus_agent.core.agent import Agent
from ruckus_agent.core.config import Settings
from ruckus_agent.core.storage import AgentStorage

log = logging.getLogger(__name__)


class RuntimeStartError(Exception):
    """The runtime could not start (port in use, storage unreachable, ...). One-line message."""


class Runtime:
    """`await start()` / `await stop()`; `url` says where the API listens."""

    def __init__(
        self, settings: Settings, storage: AgentStorage | None = None, agent: Agent | None = None
    ) -> None:
        self.settings = settings
        self.agent = agent if agent is not None else Agent(settings, storage=storage)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self._started = False

    @property
    def url(self) -> str:
        host = self.settings.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"http://{shown}:{self.port}"

    async def start(self) -> None:
        app = create_app(self.agent)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        try:
            sock = _bind(self.settings.host, self.settings.port)
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            if exc.errno == errno.EADDRINUSE:
                raise RuntimeStartError(
                    f"port {self.settings.port} on {self.settings.host} is already in use; "
                    "stop the other process or pick another with --port / RUCKUS_AGENT_PORT"
                ) from None
            raise RuntimeStartError(
                f"cannot listen on {self.settings.host}:{self.settings.port}: {exc}"
            ) from None
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._started = True
        try:
            await self.agent.start()
        except Exception as exc:
            await self.stop()
            raise RuntimeStartError(f"agent failed to start: {exc}") from exc

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.agent.stop()
        self._started = False

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket (no SO_REUSEPORT, so a second agent on the same port is refused)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, socktype, proto, _canon, addr = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def wait_forever(stop: asyncio.Event) -> None:
    await stop.wait()
