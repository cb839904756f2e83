"""The /__postmock/ API over a real socket: pages, filters, one call, stream, health, keys."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient
from calllog_helpers import make_app

from postmock.calllog.log import CallLog

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
KEY = "pmak-test-key"


@pytest_asyncio.fixture
async def log(tmp_path: Path) -> AsyncIterator[CallLog]:
    call_log = CallLog(tmp_path / "calls.db")
    await call_log.start()
    yield call_log
    await call_log.close()


@pytest_asyncio.fixture
async def client(log: CallLog, aiohttp_client: MakeClient) -> Client:
    return await aiohttp_client(make_app(log))


async def call(client: Client, method: str, path: str, body: str = "") -> None:
    async with client.request(method, path, data=body) as resp:
        await resp.read()


async def calls(client: Client, query: str = "", **headers: str) -> dict[str, Any]:
    async with client.get("/__postmock/calls" + query, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        data: dict[str, Any] = await resp.json()
        return data


async def seed(client: Client) -> None:
    await call(client, "GET", "/users?name=Users")
    await call(client, "POST", "/Users/7?status=201&name=Created", '{"name": "Ada"}')
    await call(client, "GET", "/missing/thing?status=404", "needle")
    await call(client, "DELETE", "/orders/1?status=500&name=Boom")


@pytest.mark.asyncio
async def test_calls_newest_first_in_postman_shape(client: Client) -> None:
    await seed(client)
    data = await calls(client)
    assert data["meta"] == {"nextCursor": None}
    assert [c["request"]["path"] for c in data["calls"]] == [
        "/orders/1",
        "/missing/thing",
        "/Users/7",
        "/users",
    ]
    created = data["calls"][2]
    assert set(created) == {
        "id",
        "responseName",
        "servedAt",
        "request",
        "response",
        "durationMs",
        "delayMs",
        "requestName",
        "server",
        "detail",
        "seq",
    }
    assert [c["seq"] for c in data["calls"]] == [4, 3, 2, 1]  # call numbers, in store order
    assert created["responseName"] == "Created"
    assert created["request"]["method"] == "POST"
    assert created["request"]["query"] == "status=201&name=Created"
    assert created["request"]["body"] == '{"name": "Ada"}'
    assert created["response"]["statusCode"] == 201
    assert created["response"]["type"] == "example"
    assert json.loads(created["response"]["body"])["path"] == "/Users/7"
    assert created["response"]["headers"]["Set-Cookie"] == "****"
    assert created["servedAt"].endswith("Z")


@pytest.mark.parametrize(
    ("query", "paths"),
    [
        ("?responseStatusCode=404", ["/missing/thing"]),
        ("?responseStatusCode=5xx", ["/orders/1"]),
        ("?requestMethod=post", ["/Users/7"]),
        ("?requestPath=users", ["/Users/7", "/users"]),
        ("?responseName=boo", ["/orders/1"]),
        ("?responseType=noMatch", ["/missing/thing"]),
        ("?search=needle", ["/missing/thing"]),
        ("?direction=asc&requestPath=users", ["/users", "/Users/7"]),
        ("?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z&limit=1", ["/orders/1"]),
        ("?since=32503680000", []),
        ("?until=946684800", []),
    ],
)
@pytest.mark.asyncio
async def test_filters(client: Client, query: str, paths: list[str]) -> None:
    await seed(client)
    data = await calls(client, query)
    assert [c["request"]["path"] for c in data["calls"]] == paths


@pytest.mark.asyncio
async def test_paging_with_cursor(client: Client) -> None:
    for i in range(7):
        await call(client, "GET", f"/p/{i}")
    seen: list[str] = []
    query = "?limit=3"
    while True:
        data = await calls(client, query)
        seen += [c["request"]["path"] for c in data["calls"]]
        cursor = data["meta"]["nextCursor"]
        if cursor is None:
            break
        query = f"?limit=3&cursor={cursor}"
    assert seen == [f"/p/{i}" for i in reversed(range(7))]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?limit=101", "limit"),
        ("?limit=0", "limit"),
        ("?limit=ten", "limit"),
        ("?since=yesterday", "since"),
        ("?until=2024-13-45", "until"),
        ("?responseStatusCode=abc", "responseStatusCode"),
        ("?responseType=weird", "responseType"),
        ("?direction=up", "direction"),
        ("?cursor=%25%25%25", "cursor"),
    ],
)
@pytest.mark.asyncio
async def test_bad_params_are_400_in_the_error_envelope(
    client: Client, query: str, message: str
) -> None:
    async with client.get("/__postmock/calls" + query) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert body["error"]["name"] == "invalidParamsError"
    assert message in body["error"]["message"]


@pytest.mark.asyncio
async def test_one_call_by_id(client: Client) -> None:
    await seed(client)
    listed = (await calls(client, "?limit=1"))["calls"][0]
    async with client.get(f"/__postmock/calls/{listed['id']}") as resp:
        assert resp.status == 200
        assert (await resp.json())["call"] == listed
    async with client.get("/__postmock/calls/unknown") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["name"] == "callNotFoundError"


@pytest.mark.asyncio
async def test_health(client: Client) -> None:
    await call(client, "GET", "/x")
    async with client.get("/__postmock/health") as resp:
        assert resp.status == 200
        data = await resp.json()
    assert data["status"] == "ok"
    assert data["calls"]["dropped"] == 0


@pytest.mark.asyncio
async def test_api_calls_are_not_logged(client: Client, log: CallLog) -> None:
    await call(client, "GET", "/real")
    for path in ("/__postmock/calls", "/__postmock/health", "/__postmock/calls/nope"):
        await call(client, "GET", path)
    assert await log.count() == 1


API_PATHS = ["/__postmock/calls", "/__postmock/calls/x", "/__postmock/calls/stream"]


@pytest.mark.parametrize("path", [*API_PATHS, "/__postmock/health"])
@pytest.mark.asyncio
async def test_api_key_required_when_configured(
    log: CallLog, aiohttp_client: MakeClient, path: str
) -> None:
    client = await aiohttp_client(make_app(log, api_keys=["other", KEY]))
    for headers in ({}, {"x-api-key": "wrong"}):
        async with client.get(path, headers=headers) as resp:
            assert resp.status == 401
            body = await resp.json()
            assert body["error"]["name"] == "unauthorizedError"
    if path.endswith("stream"):
        return
    async with client.get(path, headers={"x-api-key": KEY}) as resp:
        body = await resp.json()
    if path.endswith("/x"):
        assert (resp.status, body["error"]["name"]) == (404, "callNotFoundError")
    else:
        assert resp.status == 200
        assert "error" not in body


async def read_lines(resp: Any, count: int) -> list[bytes]:
    lines: list[bytes] = []
    while len(lines) < count:
        line = await asyncio.wait_for(resp.content.readline(), 20)
        assert line, "stream ended early"
        lines.append(line)
    return lines


@pytest.mark.asyncio
async def test_stream_ndjson_gets_calls_made_after_it_started(client: Client) -> None:
    await call(client, "GET", "/before")
    async with client.get("/__postmock/calls/stream?requestPath=after") as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("application/x-ndjson")
        await call(client, "GET", "/after/1")
        await call(client, "GET", "/skipped")
        await call(client, "POST", "/after/2")
        lines = await read_lines(stream, 2)
    records = [json.loads(line) for line in lines]
    assert [(r["request"]["method"], r["request"]["path"]) for r in records] == [
        ("GET", "/after/1"),
        ("POST", "/after/2"),
    ]


@pytest.mark.asyncio
async def test_stream_sse(client: Client) -> None:
    headers = {"Accept": "text/event-stream"}
    async with client.get("/__postmock/calls/stream", headers=headers) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        await call(client, "GET", "/sse")
        lines = await read_lines(stream, 4)
    assert lines[0].startswith(b"id: ")
    assert lines[1] == b"event: call\n"
    assert lines[2].startswith(b"data: ")
    assert json.loads(lines[2][6:])["request"]["path"] == "/sse"
    assert lines[3] == b"\n"
    assert int(lines[0][4:]) == json.loads(lines[2][6:])["seq"]  # the call number: resumable


@pytest.mark.asyncio
async def test_stream_rejects_bad_filters(client: Client) -> None:
    async with client.get("/__postmock/calls/stream?responseStatusCode=x") as resp:
        assert resp.status == 400
