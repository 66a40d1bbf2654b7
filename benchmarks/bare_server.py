"""The peer: a bare aiohttp server that serves fixed bytes at /health and /api/v1/info (no middlewares)."""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web

HEALTH = b'{"status":"healthy"}'


def main() -> None:
    port = int(sys.argv[1])
    info = Path(sys.argv[2]).read_bytes() if len(sys.argv) > 2 else HEALTH

    async def health(_: web.Request) -> web.Response:
        return web.Response(body=HEALTH, content_type="application/json")

    async def info_handler(_: web.Request) -> web.Response:
        return web.Response(body=info, content_type="application/json")

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/api/v1/info", info_handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
