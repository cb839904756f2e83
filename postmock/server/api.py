"""The `/__postmock/` API of a running mock: call logs (paged, by id, streamed) and health."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, cast

from aiohttp import web

from postmock import __version__
from postmock.calllog.filter import CallFilter
from postmock.calllog.ids import AmbiguousCallId
from postmock.calllog.log import CallLog, Subscription
from postmock.calllog.record import RESPONSE_TYPES, CallRecord, ResponseType, parse_time
from postmock.calllog.store import CallStore, Direction
from postmock.config import AMBIGUOUS_CALL_ID, API_PREFIX, CALL_NOT_FOUND, MAX_PAGE
from postmock.errors import PostmockError
from postmock.server.access import allowed
from postmock.server.app import RUNTIME
from postmock.server.responses import json_error

#: Seconds between keep-alive lines on an idle stream (also how soon a gone client is noticed).
STREAM_HEARTBEAT: Final = 15.0
NDJSON: Final = "application/x-ndjson"
SSE: Final = "text/event-stream"

CALL_LOG = web.AppKey("postmock_call_log", CallLog)
API_KEYS = web.AppKey("postmock_api_keys", tuple[bytes, ...])
STREAMS = web.AppKey("postmock_streams", set[Subscription])
SHARED_STORE = web.AppKey("postmock_shared_store", bool)
STOPPING = web.AppKey("postmock_stopping", asyncio.Event)
STORE_POLL_SECONDS = 0.25


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
    app[STREAMS] = set()
    app[SHARED_STORE] = shared
    app[STOPPING] = asyncio.Event()
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


def parse_filter(params: Mapping[str, str]) -> CallFilter:
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


async def health(request: web.Request) -> web.Response:
    """`GET /__postmock/health`: liveness, calls in flight, the log's counters (null: no log)."""
    if (denied := _denied(request)) is not None:
        return denied
    log = request.app.get(CALL_LOG)
    stats = log.stats() if log is not None else None
    runtime = request.app.get(RUNTIME)
    return _json(
        {
            "status": "ok",
            "version": __version__,
            "inFlight": runtime.in_flight if runtime is not None else 0,
            "calls": None
            if stats is None
            else {
                "written": stats.written,
                "pending": stats.pending,
                "dropped": stats.dropped,
                "lastError": stats.last_error,
            },
            "subscribers": stats.subscribers if stats is not None else 0,
        }
    )


async def list_calls(request: web.Request) -> web.Response:
    """`GET /__postmock/calls`: one page of calls with Postman's filters."""
    if (denied := _denied(request)) is not None:
        return denied
    try:
        flt = parse_filter(request.query)
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


def _sse(record: CallRecord) -> bytes:
    data = json.dumps(record.to_json(), ensure_ascii=False)
    return f"id: {record.id}\nevent: call\ndata: {data}\n\n".encode()


def _ndjson(record: CallRecord) -> bytes:
    return (json.dumps(record.to_json(), ensure_ascii=False) + "\n").encode()


async def stream_calls(request: web.Request) -> web.StreamResponse:
    """`GET /__postmock/calls/stream`: every new call as it happens (NDJSON, or SSE on request).

    The subscription exists once the response headers are sent, so a client can read the
    history with `/calls` after that without missing a call (dedupe by id).
    """
    if (denied := _denied(request)) is not None:
        return denied
    try:
        flt = parse_filter(request.query)
    except BadParam as exc:
        return _error(400, "invalidParamsError", str(exc))
    sse = SSE in request.headers.get("Accept", "")
    encode, heartbeat = (_sse, b": keep-alive\n\n") if sse else (_ndjson, b"\n")
    if request.app[SHARED_STORE]:
        return await _stream_store(request, flt, sse, encode, heartbeat)
    streams = request.app[STREAMS]
    sub = request.app[CALL_LOG].subscribe(flt=flt)
    streams.add(sub)
    resp = web.StreamResponse(
        headers={"Content-Type": SSE if sse else NDJSON, "Cache-Control": "no-cache"}
    )
    try:
        await resp.prepare(request)
        while True:
            try:
                record = await sub.get(STREAM_HEARTBEAT)
            except StopAsyncIteration:
                break
            await resp.write(heartbeat if record is None else encode(record))
    except ConnectionError:
        pass  # the follower hung up
    finally:
        sub.close()
        streams.discard(sub)
    return resp


async def _stream_store(
    request: web.Request,
    flt: CallFilter,
    sse: bool,
    encode: Callable[[CallRecord], bytes],
    heartbeat: bytes,
) -> web.StreamResponse:
    """The stream for `--workers`: new rows of the shared store file, whoever wrote them."""
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(1)  # one thread: the sqlite connection stays on it
    stopping = request.app[STOPPING]
    resp = web.StreamResponse(
        headers={"Content-Type": SSE if sse else NDJSON, "Cache-Control": "no-cache"}
    )
    path = request.app[CALL_LOG].path
    assert path is not None  # the API is only there when the log has a store
    store = await loop.run_in_executor(reader, CallStore.open_readonly, path)
    try:
        seq = await loop.run_in_executor(reader, store.last_seq)
        await resp.prepare(request)
        quiet = 0.0
        while not stopping.is_set():
            records, seq = await loop.run_in_executor(reader, store.after, seq, flt)
            for record in records:
                await resp.write(encode(record))
            quiet = 0.0 if records else quiet + STORE_POLL_SECONDS
            if quiet >= STREAM_HEARTBEAT:
                await resp.write(heartbeat)
                quiet = 0.0
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), STORE_POLL_SECONDS)
    except ConnectionError:
        pass  # the follower hung up
    finally:
        await loop.run_in_executor(reader, store.close)
        reader.shutdown(wait=False)
    return resp


async def _end_streams(app: web.Application) -> None:
    app[STOPPING].set()
    streams: set[Subscription] = app[STREAMS]
    for sub in list(streams):
        sub.close()


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
