"""A server that cannot be knocked over: hostile bodies, slow clients, foreign Hosts, bad
control headers, broken reloads, a shared port. Real sockets, raw bytes where it matters."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from postmock.config import ServeConfig
from postmock.server.lifecycle import reload, serve

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"
PETSTORE = SAMPLE / "petstore.postman_collection.json"
PET_ENV = SAMPLE / "petstore.postman_environment.json"


class Served:
    """A running serve() on a free port, with a raw-socket helper."""

    def __init__(self, port: int, out: io.StringIO) -> None:
        self.port, self.out = port, out

    async def exchange(self, data: bytes, *, wait: float = 5.0) -> tuple[int, dict[str, Any]]:
        """Send raw bytes; read one response; return (status, JSON body)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(data)
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), wait)  # until the server closes
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        return status, json.loads(body) if body.strip().startswith(b"{") else {}


async def _start(**options: Any) -> tuple[Served, asyncio.Event, asyncio.Task[None]]:
    out = io.StringIO()
    config = ServeConfig(
        collection=options.pop("collection", PETSTORE),
        environment=options.pop("environment", PET_ENV),
        port=0,
        quiet=True,
        reload=False,
        **{"log_db": None, **options},
    )
    urls: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(serve(config, Console(file=out), ready=urls.append, stop=stop))
    while not urls:
        assert not task.done(), task.exception()
        await asyncio.sleep(0.01)
    return Served(int(urls[0].rsplit(":", 1)[1]), out), stop, task


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    server, stop, task = await _start(log_db=tmp_path / "calls.db", request_timeout=0.5)
    yield server
    stop.set()
    await asyncio.wait_for(task, 10)


def post(path: str, body: bytes, *, host: bytes = b"localhost", extra: bytes = b"") -> bytes:
    return (
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + host + b"\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n" + extra
        + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip


def get(path: str, *, host: bytes = b"localhost", extra: bytes = b"") -> bytes:
    return (
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + extra
        + b"Connection: close\r\n\r\n"
    )  # fmt: skip


# -- hostile bodies ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [500, 990, 5000, 100_000])
@pytest.mark.parametrize("shape", ["list", "object"])  # object: `{{$body 'name'}}` reads it
async def test_deeply_nested_json_body_is_answered_not_500(
    served: Served, depth: int, shape: str
) -> None:
    nested = b"[" * depth + b"]" * depth
    if shape == "object":
        nested = b'{"name": ' + nested + b', "species": "cat"}'
    status, body = await served.exchange(post("/v1/pets", nested))
    assert status < 500, body
    # and with body matching on, which compares parsed bodies
    status, body = await served.exchange(
        post("/v1/pets", nested, extra=b"x-mock-match-request-body: true\r\n")
    )
    assert status < 500, body


# -- slow clients -------------------------------------------------------------------------


async def test_slowloris_head_gets_408_and_is_closed(served: Served) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    started = time.monotonic()
    writer.write(b"GET /v1/pets/7 HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)  # returns when the server closes
    elapsed = time.monotonic() - started
    writer.close()
    assert raw.startswith(b"HTTP/1.1 408"), raw
    assert json.loads(raw.partition(b"\r\n\r\n")[2])["error"]["name"] == "requestTimeoutError"
    assert 0.4 <= elapsed < 3


async def test_idle_connection_is_closed(served: Served) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    raw = await asyncio.wait_for(reader.read(), 5)  # sent nothing: closed without a word
    writer.close()
    assert raw == b""


async def test_idle_keep_alive_connection_is_closed_after_an_answer(served: Served) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(b"GET /v1/pets/7 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200")
    rest = await asyncio.wait_for(reader.read(), 5)  # the body, then the close
    writer.close()
    assert b"HTTP/1.1 408" not in rest


async def test_slow_body_gets_408(served: Served) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(
        b"POST /v1/pets HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert raw.startswith(b"HTTP/1.1 408"), raw
    assert json.loads(raw.partition(b"\r\n\r\n")[2])["error"]["name"] == "requestTimeoutError"


async def test_many_slow_connections_do_not_lock_others_out(served: Served) -> None:
    slow = [await asyncio.open_connection("127.0.0.1", served.port) for _ in range(50)]
    for _, writer in slow:
        writer.write(b"GET / HTTP/1.1\r\n")
    status, _ = await served.exchange(get("/v1/pets/7"))
    assert status == 200
    closed = await asyncio.gather(*(asyncio.wait_for(r.read(), 5) for r, _ in slow))
    assert all(c.startswith(b"HTTP/1.1 408") for c in closed)
    for _, writer in slow:
        writer.close()


# -- DNS rebinding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        (b"evil.example:3000", 403),
        (b"evil.example", 403),
        (b"localhost.evil.example", 403),
        (b"localhost:3000", 200),
        (b"app.localhost", 200),
        (b"127.0.0.1:3000", 200),
        (b"[::1]:3000", 200),
        (b"10.1.2.3", 200),
        (b"mock.test", 200),  # --allowed-host
        (b"a.corp.test", 200),  # --allowed-host *.corp.test
        (b"corp.test.evil", 403),
    ],
)
async def test_api_answers_only_local_or_allowed_hosts(
    tmp_path: Path, host: bytes, status: int
) -> None:
    server, stop, task = await _start(
        allowed_hosts=("mock.test", "*.corp.test"), log_db=tmp_path / "calls.db"
    )
    try:
        got, body = await server.exchange(get("/__postmock/health", host=host))
        assert got == status, body
        if status == 403:
            assert body["error"]["name"] == "forbiddenHostError"
        # mock routes answer any Host, as Postman's do
        got, _ = await server.exchange(get("/v1/pets/7", host=host))
        assert got == 200
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_call_log_is_not_readable_through_a_rebound_name(served: Served) -> None:
    await served.exchange(get("/v1/pets/7"))
    status, body = await served.exchange(get("/__postmock/calls", host=b"evil.example:3000"))
    assert status == 403
    assert "calls" not in body


# -- control headers ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [b"abc", b"", b"4xx", b"404.0", b"99", b"600", b"\xc2\xb2"])
async def test_malformed_response_code_header_is_400(served: Served, value: bytes) -> None:
    status, body = await served.exchange(
        get("/v1/pets/7", extra=b"x-mock-response-code: " + value + b"\r\n")
    )
    assert status == 400
    assert "x-mock-response-code" in body["error"]["message"]


async def test_response_code_and_zero_delay_headers_work(served: Served) -> None:
    status, _ = await served.exchange(get("/v1/pets/7", extra=b"x-mock-response-code: 200\r\n"))
    assert status == 200
    started = time.monotonic()
    status, _ = await served.exchange(get("/v1/pets/7", extra=b"x-mock-response-delay: 0\r\n"))
    assert status == 200
    assert time.monotonic() - started < 1


# -- reload -------------------------------------------------------------------------------


def _coll(names: list[str]) -> dict[str, Any]:
    items = [
        {
            "name": n,
            "request": {"method": "GET", "url": f"http://x/{n}"},
            "response": [{"name": n, "code": 200, "body": n}],
        }
        for n in names
    ]
    schema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    return {"info": {"name": "r", "schema": schema}, "item": items}


async def test_schema_invalid_edit_keeps_serving_the_previous_version(tmp_path: Path) -> None:
    from aiohttp import web

    from postmock.server.app import RUNTIME, create_app
    from postmock.server.state import load_state

    coll = tmp_path / "c.json"
    coll.write_text(json.dumps(_coll(["a", "b"])))
    config = ServeConfig(collection=coll, log_db=None, reload=False, quiet=True)
    app: web.Application = create_app(config, load_state(config))
    out = io.StringIO()
    console = Console(file=out, width=300)

    coll.write_text('{"info":{"name":"x"},"item":"nope"}')
    assert await reload(config, app, console) is False
    assert app[RUNTIME].state.example_count == 2
    assert "reload refused" in out.getvalue()
    assert "item" in out.getvalue() and len(out.getvalue().strip().splitlines()) == 1

    coll.write_text(json.dumps(_coll(["a"])))  # an intentional removal still reloads
    assert await reload(config, app, console) is True
    assert app[RUNTIME].state.example_count == 1
