"""Everything that touches aiohttp's internals, in one place.

aiohttp is pinned below 4 in pyproject.toml for these. Each touch says why it is needed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from postmock.config import API_PREFIX
from postmock.server.app import RUNTIME, Runtime, answer_call

_TIMEOUT_BODY = json.dumps(
    {
        "error": {
            "name": "requestTimeoutError",
            "message": "The request head did not arrive in time; the connection is closed.",
        }
    }
).encode()
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


class _JSONErrorHandler(RequestHandler):
    """Malformed HTTP (bad request line, huge headers) gets the JSON error envelope too.

    Slow clients: aiohttp's keep-alive timer (the runner's `keepalive_timeout`, set to
    `--request-timeout`) runs from the connection's start and from each response's end,
    and closes a connection still waiting for a complete request head. A slowloris client
    that sent part of a head gets a 408 JSON answer first; an idle one is just closed.
    """

    _partial_head = False

    def data_received(self, data: bytes) -> None:
        idle, count = self._waiter is not None, self._request_count
        super().data_received(data)
        if self._request_count != count:
            self._partial_head = False
        elif idle:
            self._partial_head = True

    def _process_keepalive(self) -> None:
        waiting = self._waiter is not None and not self._waiter.done()
        if (
            self._partial_head
            and waiting
            and self.transport is not None
            and self._loop.time() >= self._next_keepalive_close_time
        ):
            self._partial_head = False
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        super()._process_keepalive()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        if request.writer.output_size > 0:
            raise ConnectionError("response already sent")
        text = (message or "Bad request").splitlines()[0][:200]
        body = {"error": {"name": "badRequestError", "message": text}}
        resp = web.Response(status=status, text=json.dumps(body), content_type="application/json")
        resp.force_close()
        return resp


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _JSONErrorHandler(self, loop=self._loop, **self._kwargs)


class MockRunner(web.AppRunner):
    """An AppRunner whose connections answer protocol errors in JSON, and mock calls
    without going through the router (see `server.fast_dispatch`)."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server
        server.request_handler = fast_dispatch(self.app[RUNTIME], server.request_handler)
        return server


def fast_dispatch(
    runtime: Runtime, app_handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
) -> Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]:
    """A server-level handler that answers mock calls without the app's router.

    The router only ever sends a mock call to `handle`; going there directly skips route
    resolution, match info and the middleware machinery (~10% of a call's CPU). The API
    under /__postmock/ and calls that expect `100 Continue` still go through the app.
    """

    async def dispatch(request: web.BaseRequest) -> web.StreamResponse:
        if request.raw_path.startswith(API_PREFIX) or "Expect" in request.headers:
            return await app_handler(request)
        return await answer_call(runtime, request)

    return dispatch
