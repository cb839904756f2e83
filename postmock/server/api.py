"""The `/__postmock/` API of a running mock: call logs (paged, by id, streamed) and health."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from aiohttp import web

from postmock import __version__
from postmock.calllog.filter import CallFilter
from postmock.calllog.ids import AmbiguousCallId
from postmock.calllog.log import CallLog
from postmock.calllog.record import RESPONSE_TYPES, CallRecord, ResponseType, parse_time
from postmock.calllog.store import Direction
from postmock.calllog.tail import TailHub
from postmock.config import AMBIGUOUS_CALL_ID, API_PREFIX, CALL_NOT_FOUND, MAX_PAGE
from postmock.errors import PostmockError
from postmock.server.access import allowed
from postmock.server.app import RUNTIME
from postmock.server.responses import json_error

#: Seconds between keep-alive lines on an idle stream (also how soon a gone client is noticed).
STREAM_HEARTBEAT: Final = 15.0
#: Seconds a stopping server gives followers to catch up and read their `end` event.
STREAM_DRAIN: Final = 5.0
NDJSON: Final = "application/x-ndjson"
SSE: Final = "text/event-stream"

CALL_LOG = web.AppKey("postmock_call_log", CallLog)
API_KEYS = web.AppKey("postmock_api_keys", tuple[bytes, ...])
SHARED_STORE = web.AppKey("postmock_shared_store", bool)
STOPPING = web.AppKey("postmock_stopping", asyncio.Event)
HUB = web.AppKey("postmock_tail_hub", dict[str, TailHub])  # one, made by the first follower


class BadParam(ValueError):
    """A query parameter that cannot be used (400)."""


def add_api_routes(
    app: web.Application, log: CallLog, api_keys: Sequence[str] = (), *, shared: bool = False
) -> None:
    """Register the `/__postmock/` routes on `app`.

    Call this *before* adding the mock's catch-all route: aiohttp tries routes in the order
    they were added, so these then win. Every route requires a valid `x-api-key` when
    `api_keys` is non-empty. Calls to these routes are not recorded: only the mock's own
    handler adds records. Open streams are ended on `app.on_shutdown`, so a server stops
    without waiting for followers to hang up.

    `shared`: other processes (`serve --workers`) write the same store, so streams follow
    the store file instead of this process's own calls.
    """
    app[CALL_LOG] = log
    add_health_route(app, api_keys)
    app[SHARED_STORE] = shared
    app[STOPPING] = asyncio.Event()
    app[HUB] = {}
    app.router.add_get(API_PREFIX + "calls", list_calls)
    app.router.add_delete(API_PREFIX + "calls", clear_calls)
    app.router.add_get(API_PREFIX + "calls/stream", stream_calls)  # before {id}
    app.router.add_get(API_PREFIX + "calls/{id}", get_call)
    app.on_shutdown.append(_end_streams)


def add_health_route(app: web.Application, api_keys: Sequence[str] = ()) -> None:
    """Register `/__postmock/health` alone: it answers even with `--no-log`, since scripts
    wait for the mock by polling it. `add_api_routes` calls this; call it before the
    catch-all route.
    """
    app[API_KEYS] = tuple(key.encode() for key in api_keys)
    app.router.add_get(API_PREFIX + "health", health)


def _error(status: int, name: str, message: str) -> web.Response:
    return json_error(status, name, message)[0]


def _store_error(exc: PostmockError) -> web.Response:
    """The call log cannot be read (an unreadable or newer store): 503, saying why."""
    return _error(503, "callLogUnavailableError", str(exc))


def _denied(request: web.Request) -> web.Response | None:
    if allowed(request.app[API_KEYS], request):  # x-api-key, a bearer token or the page's cookie
        return None
    return _error(
        401,
        "unauthorizedError",
        "This postmock API is private: send a valid API key in the x-api-key header.",
    )


def _time_param(params: Mapping[str, str], name: str) -> float | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise BadParam(f"{name}: {exc}") from None


def _server(request: web.Request) -> str | None:
    """Whose calls to show: `?server=all`, `?server=<id>`, or by default this server's."""
    asked = request.query.get("server")
    if asked == "all":
        return None
    if asked:
        return asked
    runtime = request.app.get(RUNTIME)
    return runtime.server or None if runtime is not None else None


def parse_filter(params: Mapping[str, str], server: str | None = None) -> CallFilter:
    """Build a filter from Postman's call-log query parameters; BadParam on bad values."""
    kind = params.get("responseType") or None
    if kind is not None and kind not in RESPONSE_TYPES:
        raise BadParam(f"responseType: use one of {', '.join(RESPONSE_TYPES)}, got {kind!r}")
    try:
        return CallFilter(
            since=_time_param(params, "since"),
            until=_time_param(params, "until"),
            status=params.get("responseStatusCode") or None,
            method=params.get("requestMethod") or None,
            path=params.get("requestPath") or None,
            response_name=params.get("responseName") or None,
            response_type=cast(ResponseType | None, kind),
            search=params.get("search") or None,
            server=server,
        )
    except ValueError as exc:
        raise BadParam(f"responseStatusCode: {exc}") from None


def parse_page(params: Mapping[str, str]) -> tuple[int, str | None, Direction]:
    """Return (limit, cursor, direction) from the query; BadParam on bad values."""
    text = params.get("limit", str(MAX_PAGE))
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise BadParam(f"limit: use a whole number from 1 to {MAX_PAGE}, got {text!r}")
    direction = params.get("direction", "desc").lower()
    if direction not in ("asc", "desc"):
        raise BadParam(f"direction: use asc or desc, got {direction!r}")
    return int(text), params.get("cursor") or None, cast(Direction, direction)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def followers(app: web.Application) -> int:
    """Open live streams of the call log (`logs --follow`, the page)."""
    hubs = app.get(HUB)
    hub = hubs.get("hub") if hubs is not None else None
    return hub.followers if hub is not None else 0


async def health(request: web.Request) -> web.Response:
    """`GET /__postmock/health`: liveness, calls in flight, the log's counters (null: no log)."""
    if (denied := _denied(request)) is not None:
        return denied
    log = request.app.get(CALL_LOG)
    stats = log.stats() if log is not None else None
    health = stats.health if stats is not None else {}
    runtime = request.app.get(RUNTIME)
    return _json(
        {
            "status": health.get("status", "ok"),
            "reason": health.get("reason"),
            "version": __version__,
            "inFlight": runtime.in_flight if runtime is not None else 0,
            "server": runtime.server if runtime is not None else None,
            "calls": None
            if stats is None
            else {
                "written": stats.written,
                "pending": stats.pending,
                "dropped": stats.dropped,
                "droppedBy": health["droppedBy"],
                "writerRestarts": health["writerRestarts"],
                "writerPid": log.writer_pid if log is not None else None,
                "lastError": stats.last_error,
            },
            "subscribers": followers(request.app),
        }
    )


async def list_calls(request: web.Request) -> web.Response:
    """`GET /__postmock/calls`: one page of calls with Postman's filters."""
    if (denied := _denied(request)) is not None:
        return denied
    try:
        flt = parse_filter(request.query, _server(request))
        limit, cursor, direction = parse_page(request.query)
        records, next_cursor = await request.app[CALL_LOG].select(
            flt, limit=limit, cursor=cursor, direction=direction
        )
    except PostmockError as exc:  # first: a store that cannot be read is not a bad request
        return _store_error(exc)
    except (BadParam, ValueError) as exc:
        return _error(400, "invalidParamsError", str(exc))
    return _json({"calls": [r.to_json() for r in records], "meta": {"nextCursor": next_cursor}})


async def clear_calls(request: web.Request) -> web.Response:
    """`DELETE /__postmock/calls`: forget every call so far (between tests); 204."""
    if (denied := _denied(request)) is not None:
        return denied
    try:
        await request.app[CALL_LOG].clear()
    except PostmockError as exc:
        return _store_error(exc)
    return web.Response(status=204)


async def get_call(request: web.Request) -> web.Response:
    """`GET /__postmock/calls/{id}`: one call in full."""
    if (denied := _denied(request)) is not None:
        return denied
    call_id = request.match_info["id"]
    try:
        record = await request.app[CALL_LOG].get(call_id)
    except AmbiguousCallId as exc:
        return _error(409, AMBIGUOUS_CALL_ID, str(exc))
    except PostmockError as exc:
        return _store_error(exc)
    if record is None:
        return _error(404, CALL_NOT_FOUND, f"No call with id {call_id!r} in the log.")
    return _json({"call": record.to_json()})


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise BadParam(f"{name}: use a whole number, got {text!r}")
    return int(text)


async def stream_calls(request: web.Request) -> web.StreamResponse:
    """`GET /__postmock/calls/stream`: every call as it is stored (NDJSON, or SSE on request).

    Gap-free (`calllog.tail`): `?tail=N` starts with the newest N calls, `?after=SEQ` (or
    SSE's `Last-Event-ID`) with the calls after that number; otherwise only new calls.
    Calls the store lost to retention or the buffer bound come as one `skipped` event with
    their count; the stream ends with an `end` event when the server stops.
    """
    if (denied := _denied(request)) is not None:
        return denied
    try:
        flt = parse_filter(request.query, _server(request))
        tail = _int_param(request.query, "tail") or 0
        after = _int_param(request.query, "after")
        if after is None:
            after = _int_param(request.headers, "Last-Event-ID")
    except BadParam as exc:
        return _error(400, "invalidParamsError", str(exc))
    sse = SSE in request.headers.get("Accept", "")
    heartbeat = b": keep-alive\n\n" if sse else b"\n"
    hub = await _hub(request.app)
    resp = web.StreamResponse(
        headers={"Content-Type": SSE if sse else NDJSON, "Cache-Control": "no-cache"}
    )
    try:
        older: list[CallRecord] = []
        if after is None:
            after, older = await hub.begin(flt, tail)
        await resp.prepare(request)
        async for chunk in hub.follow(
            flt, sse=sse, after=after, older=older, heartbeat=STREAM_HEARTBEAT
        ):
            await resp.write(chunk or heartbeat)
    except (ConnectionError, PostmockError):
        pass  # the follower hung up, or the store cannot be read: the stream ends
    return resp


async def _hub(app: web.Application) -> TailHub:
    hub = app[HUB].get("hub")
    if hub is None:
        hub = app[HUB]["hub"] = TailHub(app[CALL_LOG])
        await hub.start()
    return hub


async def _end_streams(app: web.Application) -> None:
    app[STOPPING].set()
    hub = app[HUB].get("hub")
    if hub is not None:
        await hub.stop(STREAM_DRAIN)


__all__ = [
    "API_PREFIX",
    "CALL_NOT_FOUND",
    "CALL_LOG",
    "MAX_PAGE",
    "BadParam",
    "add_api_routes",
    "add_health_route",
    "parse_filter",
    "parse_page",
]
