"""OpenAPI 3.1 document generated from the route table and the pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ruckus_agent.api.errors import STATUS_CODES
from ruckus_agent.api.middlewares import MUTATING, OPEN_PATHS
from ruckus_agent.api.routing import Route
from ruckus_agent.models.common import ErrorResponse

REF = "#/components/schemas/{model}"


def build_openapi(routes: list[Route], *, version: str) -> dict[str, Any]:
    models: list[type[BaseModel]] = [ErrorResponse]
    for route in routes:
        for m in (route.response, route.request):
            if m is not None and m not in models:
                models.append(m)
    keys, defs = models_json_schema(
        [(m, "serialization") for m in models]
        + [(m, "validation") for m in models if _is_request(m, routes)],
        ref_template=REF,
    )
    ref_of = {m: keys[(m, "serialization")]["$ref"] for m in models}
    req_ref_of = {m: keys[(m, "validation")]["$ref"] for m in models if _is_request(m, routes)}
    error_ref = ref_of[ErrorResponse]

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag], "operationId": _op_id(route)}
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", route.path)
        ]
        params += [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": desc,
                "schema": {"type": "string"},
            }
            for name, desc in route.query.items()
        ]
        if params:
            op["parameters"] = params
        if route.request is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": req_ref_of[route.request]}}},
            }
        ok: dict[str, Any] = {"description": "OK"}
        if route.response is not None:
            ok["content"] = {route.content_type: {"schema": {"$ref": ref_of[route.response]}}}
        elif route.content_type != "application/json":
            ok["content"] = {route.content_type: {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {str(route.response_status): ok}
        for status in route.errors:
            responses[str(status)] = {
                "description": STATUS_CODES.get(status, "error"),
                "content": {"application/json": {"schema": {"$ref": error_ref}}},
            }
        op["responses"] = responses
        if route.path not in OPEN_PATHS and route.method in MUTATING:
            op["security"] = [{"bearer": []}]
        paths.setdefault(route.path, {})[route.method.lower()] = op

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "RUCKUS Agent API",
            "version": version,
            "description": "Mutating routes need `Authorization: Bearer <token>`; reads too when "
            "RUCKUS_AGENT_AUTH_READS=true. Errors are {error: {code, message, details}}.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _is_request(model: type[BaseModel], routes: list[Route]) -> bool:
    return any(r.request is model for r in routes)


def _op_id(route: Route) -> str:
    slug = re.sub(r"[^a-zA-Z0-9]+", "_", route.path.strip("/")).strip("_")
    return f"{route.method.lower()}_{slug or 'root'}"
