"""The mock server over real sockets (pytest-aiohttp's aiohttp_client)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from postmock.config import ServeConfig
from postmock.server.app import RUNTIME, create_app
from postmock.server.runtime import MockRunner
from postmock.server.state import load_state

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]

JSON = [{"key": "Content-Type", "value": "application/json"}]


def req(
    method: str, raw: str, body: str | None = None, headers: list[Any] | None = None
) -> dict[str, Any]:
    r: dict[str, Any] = {"method": method, "url": raw, "header": headers or []}
    if body is not None:
        r["body"] = {"mode": "raw", "raw": body, "options": {"raw": {"language": "json"}}}
    return r


def ex(
    name: str,
    request: dict[str, Any],
    code: int,
    body: str | None,
    headers: list[Any] | None = None,
    status: str = "",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "originalRequest": request,
        "code": code,
        "status": status,
        "header": JSON if headers is None else headers,
        "body": body,
        **extra,
    }


def collection() -> dict[str, Any]:
    users = req("GET", "{{baseUrl}}/users")
    user = req("GET", "{{baseUrl}}/users/:userId")
    create = req("POST", "{{baseUrl}}/users", '{"name": "Ada"}', JSON)
    return {
        "info": {
            "name": "Server test",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [
            {"key": "baseUrl", "value": "https://api.example.com/v1"},
            {"key": "greeting", "value": "hi"},
        ],
        "item": [
            {
                "name": "List users",
                "request": users,
                "response": [
                    ex(
                        "Users",
                        users,
                        200,
                        '[{"id": 1}]',
                        status="OK",
                        headers=JSON
                        + [
                            {"key": "Content-Length", "value": "999"},
                            {"key": "Content-Encoding", "value": "gzip"},
                            {"key": "Transfer-Encoding", "value": "chunked"},
                            {"key": "X-Total", "value": "1"},
                            {"key": "Set-Cookie", "value": "a=1"},
                            {"key": "Set-Cookie", "value": "b=2"},
                        ],
                    ),
                    ex(
                        "Users error",
                        users,
                        500,
                        '{"error": "boom"}',
                        status="Internal Server Error",
                    ),
                ],
            },
            {
                "name": "Get user",
                "request": user,
                "response": [
                    ex(
                        "One user",
                        user,
                        200,
                        '{"id": "{{userId}}", "greet": "{{greeting}}", '
                        "\"q\": \"{{$queryParams 'x' 'none'}}\", "
                        '"seg": "{{$pathSegments \'1\'}}", '
                        "\"agent\": \"{{$headers 'X-Agent' '?'}}\", "
                        '"uuid": "{{$guid}}", "n": {{$randomInt}}}',
                    ),
                    ex("No user", user, 404, '{"error": "not found"}'),
                ],
            },
            {
                "name": "Create user",
                "request": create,
                "response": [
                    ex(
                        "Created",
                        create,
                        201,
                        "{\"name\": \"{{$body 'name' 'anon'}}\"}",
                        status="Created",
                        headers=JSON + [{"key": "Location", "value": "/v1/users/42"}],
                    ),
                ],
            },
            {
                "name": "Delete user",
                "request": req("DELETE", "{{baseUrl}}/users/:userId"),
                "response": [
                    ex(
                        "Deleted",
                        req("DELETE", "{{baseUrl}}/users/:userId"),
                        204,
                        "should not be sent",
                    ),
                ],
            },
            {
                "name": "Not modified",
                "request": req("GET", "{{baseUrl}}/cached"),
                "response": [
                    ex("Cached", req("GET", "{{baseUrl}}/cached"), 304, "nope"),
                ],
            },
            {
                "name": "Plain",
                "request": req("GET", "{{baseUrl}}/health"),
                "response": [
                    {
                        "name": "Healthy",
                        "originalRequest": req("GET", "{{baseUrl}}/health"),
                        "code": 200,
                        "_postman_previewlanguage": "text",
                        "header": [],
                        "body": "ok",
                    },
                ],
            },
            {
                "name": "No type",
                "request": req("GET", "{{baseUrl}}/page"),
                "response": [
                    {
                        "name": "Page",
                        "code": 200,
                        "header": None,
                        "body": "<p>hi</p>",
                        "id": "page-id-1",
                    },
                ],
            },
            {
                "name": "Options",
                "request": req("OPTIONS", "{{baseUrl}}/special"),
                "response": [
                    ex(
                        "Special options",
                        req("OPTIONS", "{{baseUrl}}/special"),
                        200,
                        '{"allow": "GET"}',
                    ),
                ],
            },
        ],
    }


@pytest.fixture
def collection_file(tmp_path: Path) -> Path:
    path = tmp_path / "c.postman_collection.json"
    path.write_text(json.dumps(collection()))
    return path


class MockTestServer(TestServer):
    """A test server with postmock's own runner (JSON errors for malformed HTTP)."""

    async def _make_runner(self, **kwargs: Any) -> MockRunner:
        return MockRunner(self.app, **kwargs)


@pytest.fixture
def make_client(aiohttp_client: Any, collection_file: Path) -> MakeClient:
    async def make(**options: Any) -> Client:
        config = ServeConfig(
            collection=collection_file, log_db=None, reload=False, quiet=True, **options
        )
        client: Client = await aiohttp_client(
            MockTestServer(create_app(config, load_state(config)))
        )
        return client

    return make


async def test_static_example_with_transfer_headers_dropped(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get("/v1/users")
    assert resp.status == 200
    assert resp.reason == "OK"
    assert await resp.json() == [{"id": 1}]
    assert resp.headers["X-Total"] == "1"
    assert resp.headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert "Content-Encoding" not in resp.headers
    assert resp.headers["Content-Length"] == str(len('[{"id": 1}]'))
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_path_variable_captures_and_helpers(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get("/v1/users/carol?x=7", headers={"X-Agent": "tests"})
    assert resp.status == 200
    data = json.loads(await resp.text())
    assert data["id"] == "carol"
    assert data["greet"] == "hi"
    assert data["q"] == "7"
    assert data["seg"] == "users"
    assert data["agent"] == "tests"
    assert re.fullmatch(r"[0-9a-f-]{36}", data["uuid"])
    assert 0 <= data["n"] <= 1000


async def test_helper_fallbacks(make_client: MakeClient) -> None:
    client = await make_client()
    data = json.loads(await (await client.get("/v1/users/1")).text())
    assert data["q"] == "none"
    assert data["agent"] == "?"


async def test_seed_makes_dynamic_values_repeatable(make_client: MakeClient) -> None:
    first = await make_client(seed=7)
    second = await make_client(seed=7)
    a = json.loads(await (await first.get("/v1/users/1")).text())
    b = json.loads(await (await second.get("/v1/users/1")).text())
    assert a["n"] == b["n"]
    assert a["uuid"] == b["uuid"]


async def test_request_body_helper(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.post("/v1/users", json={"name": "Grace"})
    assert resp.status == 201
    assert await resp.json() == {"name": "Grace"}
    assert resp.headers["Location"] == "/v1/users/42"
    resp = await client.post(
        "/v1/users", data=b"not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 201
    assert await resp.json() == {"name": "anon"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("DELETE", "/v1/users/1", 204), ("GET", "/v1/cached", 304), ("HEAD", "/v1/users", 200)],
    ids=["204", "304", "head"],
)
async def test_no_body(make_client: MakeClient, method: str, path: str, status: int) -> None:
    client = await make_client()
    resp = await client.request(method, path)
    assert resp.status == status
    assert await resp.read() == b""


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/health", "text/plain; charset=utf-8"),
        ("/v1/page", "text/html; charset=utf-8"),
        ("/v1/users", "application/json"),
    ],
    ids=["preview-language", "postman-default", "example-header"],
)
async def test_content_type(make_client: MakeClient, path: str, content_type: str) -> None:
    client = await make_client()
    resp = await client.get(path)
    assert resp.headers["Content-Type"] == content_type


@pytest.mark.parametrize(
    ("headers", "status", "name"),
    [
        ({"x-mock-response-code": "500"}, 500, "boom"),
        ({"x-mock-response-name": "Users error"}, 500, "boom"),
        ({"x-mock-response-name": "Nope"}, 404, None),
        ({"x-mock-response-id": "page-id-1"}, 200, None),
    ],
    ids=["code", "name", "unknown-name", "id"],
)
async def test_control_headers(
    make_client: MakeClient, headers: dict[str, str], status: int, name: str | None
) -> None:
    client = await make_client()
    resp = await client.get("/v1/users", headers=headers)
    assert resp.status == status
    if name:
        assert name in await resp.text()


async def test_no_match_is_postman_404_with_explanation(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get("/v1/nothing/here/at/all")
    assert resp.status == 404
    body = await resp.json()
    error = body["error"]
    assert error["name"] == "mockRequestNotFoundError"
    assert error["message"] == "Double check your method and the request path and try again."
    assert error["header"] == "No matching requests"
    assert isinstance(error["nearest"], list)


async def test_delay_header_and_config(make_client: MakeClient) -> None:
    client = await make_client()
    t0 = time.perf_counter()
    resp = await client.get("/v1/health", headers={"x-mock-response-delay": "150"})
    assert resp.status == 200
    assert time.perf_counter() - t0 >= 0.15
    bad = await client.get("/v1/health", headers={"x-mock-response-delay": "soon"})
    assert bad.status == 400
    assert (await bad.json())["error"]["name"] == "invalidRequestError"
    slow = await make_client(delay_ms=100)
    t0 = time.perf_counter()
    await slow.get("/v1/health")
    assert time.perf_counter() - t0 >= 0.1


async def test_delay_does_not_block_other_requests(make_client: MakeClient) -> None:
    client = await make_client()
    slow = asyncio.create_task(client.get("/v1/health", headers={"x-mock-response-delay": "3000"}))
    await asyncio.sleep(0.05)
    fast = await client.get("/v1/users")
    # The fast call was answered while the delayed one still waits: a delay that blocked
    # the loop (time.sleep) would answer the slow call first.
    assert fast.status == 200
    assert not slow.done()
    assert (await slow).status == 200


async def test_private_mock(make_client: MakeClient) -> None:
    client = await make_client(api_keys=("k1", "k2"))
    denied = await client.get("/v1/users")
    assert denied.status == 401
    assert (await denied.json())["error"]["name"] == "unauthorizedError"
    wrong = await client.get("/v1/users", headers={"x-api-key": "k3"})
    assert wrong.status == 401
    assert (await client.get("/v1/users", headers={"x-api-key": "k2"})).status == 200
    preflight = await client.options(
        "/v1/users", headers={"Origin": "http://app", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status == 204


async def test_cors(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.options(
        "/v1/users",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-api-key, content-type",
        },
    )
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert resp.headers["Access-Control-Allow-Methods"] == "PUT"
    assert resp.headers["Access-Control-Allow-Headers"] == "x-api-key, content-type"
    assert "Access-Control-Max-Age" in resp.headers
    own = await client.options(
        "/v1/special", headers={"Origin": "http://x", "Access-Control-Request-Method": "GET"}
    )
    assert own.status == 200
    assert await own.json() == {"allow": "GET"}
    error = await client.get("/v1/nothing/at/all/here", headers={"Origin": "http://x"})
    assert error.headers["Access-Control-Allow-Origin"] == "http://x"
    exposed = await client.get("/v1/users", headers={"Origin": "http://x"})
    assert "X-Total" in exposed.headers["Access-Control-Expose-Headers"]


async def test_no_cors(make_client: MakeClient) -> None:
    client = await make_client(cors=False)
    resp = await client.get("/v1/users")
    assert "Access-Control-Allow-Origin" not in resp.headers
    preflight = await client.options(
        "/v1/users", headers={"Origin": "http://x", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status == 404


async def test_server_response(make_client: MakeClient) -> None:
    client = await make_client(server_response="Users error")
    for path in ("/v1/users", "/v1/anything"):
        resp = await client.post(path)
        assert resp.status == 500
        assert await resp.json() == {"error": "boom"}


async def test_body_too_large(make_client: MakeClient) -> None:
    client = await make_client(max_body_size=100)
    resp = await client.post("/v1/users", data=b"x" * 101)
    assert resp.status == 413
    assert (await resp.json())["error"]["name"] == "requestEntityTooLargeError"

    async def chunks() -> Any:
        for _ in range(5):
            yield b"y" * 50

    chunked = await client.post("/v1/users", data=chunks())
    assert chunked.status == 413


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("GET", "/v1/users/%zz%", b"", {}),
        ("GET", "/v1/users?x=%E0%A4%A", b"", {}),
        ("POST", "/v1/users", b"\xff\xfe\x00bad", {"Content-Type": "application/json"}),
        ("POST", "/v1/users", b"{not json", {"Content-Type": "application/json"}),
        ("GET", "/v1/users/%00", b"", {}),
        ("GET", "/v1/users/" + "a" * 5000, b"", {}),
        ("GET", "/v1/users", b"", {"x-mock-response-code": "abc"}),
        ("GET", "/v1/users", b"", {"x-mock-response-code": "99999999999999999999"}),
    ],
    ids=[
        "bad-percent-path",
        "bad-percent-query",
        "non-utf8",
        "invalid-json",
        "nul",
        "long-path",
        "code-not-int",
        "code-huge",
    ],
)
async def test_bad_requests_never_500(
    make_client: MakeClient, method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    client = await make_client()
    resp = await client.request(
        method, path, data=body, headers=headers, skip_auto_headers=["Content-Type"]
    )
    assert resp.status < 500
    if resp.status >= 400:
        assert "error" in await resp.json()


async def test_huge_headers_get_json_error(make_client: MakeClient) -> None:
    client = await make_client()
    server = client.server
    host, port = server.host, server.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /v1/users HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert re.match(rb"HTTP/1\.[01] 4\d\d ", head)
    assert b"application/json" in head
    assert json.loads(payload)["error"]["name"] == "badRequestError"


async def test_a_bug_is_a_logged_json_500_not_a_crash(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client()
    runtime = client.app[RUNTIME]
    seen: list[Any] = []
    runtime.listeners.append(seen.append)

    def broken(*args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime.state.cache, "match", broken)
    resp = await client.get("/v1/users")
    assert resp.status == 500
    assert (await resp.json())["error"]["name"] == "internalError"
    assert [r.status_code for r in seen] == [500]
    assert "boom" in caplog.text


async def test_delay_applies_to_errors_too(make_client: MakeClient) -> None:
    client = await make_client(api_keys=("k",))
    for headers, status in (
        ({"x-mock-response-delay": "150"}, 401),
        ({"x-mock-response-delay": "150", "x-api-key": "k"}, 404),
    ):
        t0 = time.perf_counter()
        resp = await client.get("/v1/nothing/at/all/here", headers=headers)
        assert resp.status == status
        assert time.perf_counter() - t0 >= 0.15


@pytest.mark.parametrize("chosen", ["page-id-1", "12345-page-id-1"], ids=["id", "uid"])
async def test_server_response_by_id(make_client: MakeClient, chosen: str) -> None:
    client = await make_client(server_response=chosen)
    resp = await client.get("/v1/anything")
    assert resp.status == 200
    assert await resp.text() == "<p>hi</p>"


async def test_records_say_which_request_which_server_and_why(make_client: MakeClient) -> None:
    client = await make_client()
    runtime = client.app[RUNTIME]
    runtime.server = "abc@127.0.0.1:3000"
    seen: list[Any] = []
    runtime.listeners.append(seen.append)
    await client.get("/v1/users")
    await client.delete("/v1/health")
    await client.get("/v1/users", headers={"x-mock-response-delay": "soon"})
    await client.get("/v1/users", headers={"x-mock-response-code": "abc"})
    await client.get("/v1/users", headers={"x-mock-response-code": "418"})
    hit, miss, bad, bad_code, no_such_code = seen
    assert (hit.request_name, hit.detail) == ("List users", None)
    assert miss.request_name is None
    assert miss.detail == "nearest: Plain · method differs"  # the request, not its example
    assert bad.detail == "bad x-mock-response-delay"
    assert bad_code.detail == "bad x-mock-response-code"
    assert no_such_code.detail == "nearest: List users · code differs"
    assert {r.server for r in seen} == {"abc@127.0.0.1:3000"}
