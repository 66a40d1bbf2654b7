"""JSON errors: `{"error": {"code", "message", "details"}}` with the right status."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by handlers; the error middleware turns it into a JSON response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers


def json_error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {
        "error": {"code": code or STATUS_CODES.get(status, "error"), "message": message, "details": details}
    }
    return web.Response(
        status=status,
        body=json.dumps(body, default=str).encode(),
        content_type="application/json",
        headers=headers,
    )
