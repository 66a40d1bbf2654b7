"""The API core: health, info, status, OpenAPI, errors, body limit and auth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from helpers.api import TOKEN, assert_error, make_agent
from ruckus_agent.api import create_app


async def test_health_is_503_starting_until_the_agent_is_ready(
    tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    agent = make_agent(tmp_path)
    client = await aiohttp_client(create_app(agent))
    resp = await client.get("/health")
    assert resp.status == 503
    assert (await resp.json())["status"] == "starting"
    resp = await client.get("/api/v1/info")
    assert resp.status == 503
    await agent.start()
    resp = await client.get("/health")
    body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "healthy"
    assert body["agent_id"] == agent.agent_id
    assert body["version"] == agent.version
    await agent.stop()


async def test_info_has_the_seed_shape(client: TestClient) -> None:
    resp = await client.get("/api/v1/info")
    assert resp.status == 200
    info = await resp.json()
    assert {
        "agent_id",
        "agent_name",
        "agent_type",
        "version",
        "system_info",
        "capabilities",
        "last_updated",
    } <= set(info)
    system_info = info["system_info"]
    assert {"system", "cpu", "memory", "gpus", "frameworks", "models", "metrics"} <= set(system_info)
    assert system_info["gpus"] == []
    assert system_info["gpu_detection_summary"] == "no GPUs (test)"
    assert info["agent_type"] == "white_box"
    assert info["capabilities"]["max_concurrent_jobs"] == 1
    assert "cpu" in info["capabilities"]["precisions_by_device"]


async def test_status(client: TestClient) -> None:
    resp = await client.get("/api/v1/status")
    body = await resp.json()
    assert resp.status == 200
    assert body["state"] == "idle"
    assert body["running_jobs"] == [] and body["queued_jobs"] == []


async def test_openapi_document_lists_routes_and_schemas(client: TestClient) -> None:
    resp = await client.get("/api/v1/openapi.json")
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    assert {"/health", "/api/v1/info", "/api/v1/status"} <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    assert {"AgentInfo", "Health", "ErrorResponse", "SystemInfo"} <= set(schemas)
    ref = doc["paths"]["/api/v1/info"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"
    ]
    assert ref == "#/components/schemas/AgentInfo"


async def test_openapi_document_is_valid(client: TestClient) -> None:
    import openapi_spec_validator

    doc = await (await client.get("/api/v1/openapi.json")).json()
    openapi_spec_validator.validate(doc)


async def test_unknown_route_is_json_404(client: TestClient) -> None:
    resp = await client.get("/api/v1/nope")
    await assert_error(resp, 404, "not_found")


async def test_wrong_method_is_json_405(client: TestClient, auth: dict[str, str]) -> None:
    resp = await client.put("/api/v1/info", headers=auth, json={})
    await assert_error(resp, 405, "method_not_allowed")


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "PATCH"])
async def test_mutations_need_the_token_even_on_unknown_paths(client: TestClient, method: str) -> None:
    for path in ("/api/v1/jobs", "/api/v1/jobs/x", "/api/v1/whatever"):
        resp = await client.request(method, path, json={})
        await assert_error(resp, 401, "unauthorized")
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer wrong", "Basic " + TOKEN, TOKEN, "Bearer", "Bearer " + TOKEN + "x", "bearer  "]
)
async def test_wrong_tokens_are_refused(client: TestClient, header: str) -> None:
    resp = await client.post("/api/v1/jobs", json={}, headers={"Authorization": header})
    await assert_error(resp, 401, "unauthorized")


async def test_reads_are_open_by_default_and_closed_with_auth_reads(
    tmp_path: Path, aiohttp_client: Callable[..., Any], auth: dict[str, str]
) -> None:
    agent = make_agent(tmp_path, auth_reads=True)
    await agent.start()
    client = await aiohttp_client(create_app(agent))
    await assert_error(await client.get("/api/v1/info"), 401, "unauthorized")
    await assert_error(await client.get("/api/v1/status"), 401, "unauthorized")
    assert (await client.get("/health")).status == 200  # health is always open
    assert (await client.get("/api/v1/info", headers=auth)).status == 200
    await agent.stop()


async def test_oversize_declared_body_is_413(client: TestClient, auth: dict[str, str]) -> None:
    resp = await client.post(
        "/api/v1/jobs", data=b"x" * (1024 * 1024 + 1), headers={**auth, "Content-Type": "application/json"}
    )
    await assert_error(resp, 413, "payload_too_large")


async def test_oversize_chunked_body_is_413(client: TestClient, auth: dict[str, str]) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"y" * 65536

    resp = await client.post(
        "/api/v1/jobs", data=chunks(), headers={**auth, "Content-Type": "application/json"}
    )
    assert resp.status in (404, 405, 413)  # no job route yet reads the body; never a 500
    assert resp.status < 500


async def test_json_bodies_get_400_415_422_never_500(
    tmp_path: Path, aiohttp_client: Callable[..., Any], auth: dict[str, str]
) -> None:
    """The body reader every POST route uses, behind the real middlewares."""
    from aiohttp import web
    from pydantic import BaseModel

    from ruckus_agent.api.routing import read_model

    class Body(BaseModel):
        runs: int
        name: str

    async def echo(request: web.Request) -> web.Response:
        body = await read_model(request, Body)
        return web.json_response(body.model_dump())

    agent = make_agent(tmp_path)
    await agent.start()
    app = create_app(agent)
    app.router.add_post("/api/v1/echo", echo)
    client = await aiohttp_client(app)
    headers = {**auth, "Content-Type": "application/json"}
    await assert_error(
        await client.post("/api/v1/echo", data=b"{not json", headers=headers), 400, "bad_request"
    )
    await assert_error(
        await client.post("/api/v1/echo", data=b"\xff\xfe", headers=headers), 400, "bad_request"
    )
    await assert_error(
        await client.post("/api/v1/echo", data=b"runs=1", headers={**auth, "Content-Type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    err = await assert_error(
        await client.post("/api/v1/echo", json={"runs": "many", "name": 3}, headers=auth),
        422,
        "validation_error",
    )
    assert {tuple(d["loc"]) for d in err["details"]} == {("runs",), ("name",)}  # type: ignore[union-attr]
    await assert_error(await client.post("/api/v1/echo", json=[1, 2], headers=auth), 422, "validation_error")
    ok = await client.post("/api/v1/echo", json={"runs": 2, "name": "x"}, headers=auth)
    assert ok.status == 200 and await ok.json() == {"runs": 2, "name": "x"}
    await agent.stop()
