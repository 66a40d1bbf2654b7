"""A route table shared by the router and the OpenAPI generator, plus request/response helpers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from ruckus_agent.api.errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    response: type[BaseModel] | None = None
    response_status: int = 200
    request: type[BaseModel] | None = None
    query: dict[str, str] = field(default_factory=dict)  # name -> description
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    tag: str = "agent"


def model_response(model: BaseModel, status: int = 200) -> web.Response:
    return web.Response(status=status, body=model.model_dump_json().encode(), content_type="application/json")


def json_body(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data, default=str).encode(), content_type="application/json"
    )


async def read_model(request: web.Request, model: type[M]) -> M:
    """Parse and validate a JSON body: 415 if not JSON, 400 if malformed, 422 if invalid."""
    if request.content_type != "application/json":
        raise ApiError(415, f"expected Content-Type: application/json, got {request.content_type or 'none'}")
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"malformed JSON: {exc}") from None
    return model.model_validate(data)


def int_query(request: web.Request, name: str, default: int, *, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"query parameter {name!r} must be an integer", details={"value": raw}) from None
    if not lo <= value <= hi:
        raise ApiError(
            422, f"query parameter {name!r} must be between {lo} and {hi}", details={"value": value}
        )
    return value
