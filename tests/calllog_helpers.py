"""A small real aiohttp app that records its calls through CallLog, and a threaded runner."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from postmock.calllog.log import CallLog
from postmock.calllog.record import CallRecord
from postmock.server.api import add_api_routes


def record(**fields: Any) -> CallRecord:
    """A CallRecord with sensible defaults."""
    values: dict[str, Any] = {"method": "GET", "path": "/users"}
    values.update(fields)
    return CallRecord.create(**values)


async def echo(request: web.Request) -> web.Response:
    """Answer like a mock would: ?status= and ?name= choose the outcome; /missing = no match."""
    started = time.perf_counter()
    log: CallLog = request.app[LOG]
    body = await request.read()
    status = int(request.query.get("status", "200"))
    missing = request.path.startswith("/missing")
    payload = json.dumps({"path": request.path, "echo": body.decode()})
    resp = web.Response(status=status, text=payload, content_type="application/json")
    resp.headers["Set-Cookie"] = "session=s3cret"
    log.add(
        CallRecord.create(
            method=request.method,
            path=request.rel_url.raw_path,
            query=request.rel_url.raw_query_string,
            request_headers=tuple(request.headers.items()),
            request_body=body,
            status_code=status,
            response_headers=tuple(resp.headers.items()),
            response_body=payload,
            response_type="noMatch" if missing else "example",
            response_name=None if missing else request.query.get("name", "OK example"),
            duration_ms=(time.perf_counter() - started) * 1000,
        )
    )
    return resp


LOG = web.AppKey("test_log", CallLog)


def make_app(log: CallLog, api_keys: Sequence[str] = (), *, api: bool = True) -> web.Application:
    """The API routes first (unless `api` is false), then a catch-all that records every call."""
    app = web.Application()
    app[LOG] = log
    if api:
        add_api_routes(app, log, api_keys)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


class ServerThread:
    """Serve `make_app` on a free port from a thread with its own loop (for sync CLI tests)."""

    def __init__(self, db: Path, api_keys: Sequence[str] = (), *, api: bool = True) -> None:
        self.db = db
        self.api_keys = api_keys
        self.api = api
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._error: BaseException | None = None

    def _main(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        log = CallLog(self.db)
        await log.start()
        runner = web.AppRunner(make_app(log, self.api_keys, api=self.api), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        await self._stopped.wait()
        await runner.cleanup()
        await log.close()

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        stopped = self._stopped
        if stopped is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(stopped.set)
        self._thread.join(30)
        assert not self._thread.is_alive(), "server thread did not stop"

    def call(self, path: str, *, method: str = "GET", body: bytes | None = None) -> int:
        """Make one real HTTP call to the mock; return its status."""
        request = urllib.request.Request(self.url + path, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return int(exc.code)

    def health(self, api_key: str | None = None) -> dict[str, Any]:
        request = urllib.request.Request(self.url + "/__postmock/health")
        if api_key:
            request.add_header("x-api-key", api_key)
        with urllib.request.urlopen(request, timeout=10) as resp:
            data: dict[str, Any] = json.loads(resp.read())
            return data


def wait_until(condition: Any, what: str, timeout: float = 20.0) -> None:
    """Poll `condition()` until true; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
