"""Middlewares: JSON errors (never a 500 for client input), body limit, bearer-token auth before routing."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from ruckus_agent.api.errors import ApiError, json_error
from ruckus_agent.api.keys import SETTINGS, TOKEN
from ruckus_agent.jobs.errors import JobError

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OPEN_PATHS = frozenset({"/health"})


def pydantic_details(exc: ValidationError) -> list[dict[str, object]]:
    """pydantic's field errors, JSON-safe (no input echo of huge bodies)."""
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg"), "type": err.get("type")}
        for err in exc.errors(include_url=False)
    ]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.message, code=exc.code, details=exc.details, headers=exc.headers)
    except JobError as exc:
        headers = {"Retry-After": "5"} if exc.status in (429, 503) else None
        return json_error(exc.status, exc.message, code=exc.code, details=exc.details, headers=headers)
    except ValidationError as exc:
        return json_error(422, "request failed validation", details=pydantic_details(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        if exc.status == 413:
            message = f"request body too large (limit {request.app[SETTINGS].max_body_bytes} bytes)"
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return json_error(exc.status, message or exc.reason, headers=headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal error; see the agent log")


def _bearer_ok(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), request.app[TOKEN].encode())


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Mutating requests always need the token; reads only when auth_reads is set. Checked before routing,
    so an unknown path does not tell an unauthenticated client whether it exists."""
    path = request.path
    if path not in OPEN_PATHS:
        needs = request.method in MUTATING or request.app[SETTINGS].auth_reads
        if needs and not _bearer_ok(request):
            return json_error(
                401,
                "missing or invalid bearer token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": 'Bearer realm="ruckus-agent"'},
            )
    return await handler(request)


@web.middleware
async def body_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a declared oversize body before reading it (aiohttp's client_max_size catches chunked ones)."""
    length = request.content_length
    limit = request.app[SETTINGS].max_body_bytes
    if length is not None and length > limit:
        return json_error(413, f"request body too large ({length} > {limit} bytes)")
    return await handler(request)
