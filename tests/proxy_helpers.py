"""The proxy tests' parts: a real upstream API on loopback, postmock serving in front of it."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rich.console import Console

from postmock.config import ServeConfig
from postmock.proxy.forward import Forwarder
from postmock.server.lifecycle import serve

COLLECTION = {
    "info": {
        "name": "Half-built API",
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "item": [
        {
            "name": "Get user",
            "request": {"method": "GET", "url": "http://api.test/users/1"},
            "response": [
                {
                    "name": "User 1 (mocked)",
                    "originalRequest": {"method": "GET", "url": "http://api.test/users/1"},
                    "code": 200,
                    "status": "OK",
                    "header": [{"key": "Content-Type", "value": "application/json"}],
                    "body": '{"id": 1, "source": "mock"}',
                }
            ],
        }
    ],
}


class Upstream:
    """A real aiohttp app on a free loopback port that says what it received."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.release = asyncio.Event()  # /stream waits for it after its first chunk
        self.url = ""
        self.runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/slow", self.slow)
        app.router.add_route("GET", "/stream", self.stream)
        app.router.add_route("GET", "/big", self.big)
        app.router.add_route("GET", "/broken", self.broken)
        app.router.add_route("*", "/{tail:.*}", self.echo)
        return app

    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        seen = {
            "method": request.method,
            "path": request.path,
            "query": request.rel_url.raw_query_string,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": body.decode(),
        }
        self.seen.append(seen)
        status = int(request.query.get("status", "200"))
        resp = web.json_response(seen, status=status)
        resp.headers["X-Upstream"] = "real"
        resp.set_cookie("session", "upstream-secret-cookie")
        return resp

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="too late")

    async def stream(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"first chunk;")
        await self.release.wait()
        await resp.write(b"second chunk")
        return resp

    async def broken(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "1000"})
        await resp.prepare(request)
        await resp.write(b"only 20 of 1000 b...")
        assert request.transport is not None
        request.transport.close()
        return resp

    async def big(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for n in range(64):
            await resp.write(bytes([65 + n % 26]) * 128 * 1024)  # 8 MiB in all
        return resp


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    up = Upstream()
    runner = web.AppRunner(up.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    up.url = f"http://127.0.0.1:{port}"
    yield up
    up.release.set()
    await runner.cleanup()


@pytest.fixture
def collection_file(tmp_path: Path) -> Path:
    path = tmp_path / "api.postman_collection.json"
    path.write_text(json.dumps(COLLECTION))
    return path


Started = Callable[..., Awaitable[str]]


@pytest.fixture
async def started() -> AsyncIterator[Started]:
    """Start `serve()` in-process with the proxy; returns its URL. Stopped at the end."""
    stops: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(config: ServeConfig, reload: bool = False) -> str:
        config = replace(config, port=0, reload=reload, quiet=True)
        urls: list[str] = []
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve(
                config,
                Console(file=io.StringIO()),
                ready=urls.append,
                stop=stop,
                announce=False,
                upstream=Forwarder.from_config,
            )
        )
        stops.append((stop, task))
        for _ in range(200):
            if urls or task.done():
                break
            await asyncio.sleep(0.02)
        if task.done():
            task.result()  # raises what stopped it
        return urls[0]

    yield start
    for stop, task in stops:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
