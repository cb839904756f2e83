"""The aiohttp app that answers like a Postman mock: API key, CORS, match, delay, respond, log."""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from postmock.calllog.entry import Entry, record_from_entry
from postmock.calllog.log import CallLog
from postmock.calllog.record import CallRecord, ResponseType, new_call_id
from postmock.calllog.redact import Redactor
from postmock.config import MAX_DELAY_MS, ServeConfig
from postmock.matching import Match, Miss
from postmock.server.responses import NOT_FOUND, ResponsePlan, json_error
from postmock.server.state import MockState
from postmock.server.upstream import Upstream, UpstreamError
from postmock.templating.dynamic import DynamicValues
from postmock.templating.templates import RenderContext, RequestData

CallListener = Callable[[CallRecord], None]
#: Counts one answered call: method, status, response type, milliseconds (server/metrics.py)
CallObserver = Callable[[str, int, str, float], None]
log = logging.getLogger("postmock")
PREFLIGHT_MAX_AGE = "86400"
PRIVATE_MESSAGE = "This mock server is private: send a valid API key in the x-api-key header."


class BadControlHeader(ValueError):
    """An x-mock-* header whose value cannot be used."""

    def __init__(self, header: str, message: str) -> None:
        super().__init__(message)
        self.detail = f"bad {header}"


@dataclass
class Runtime:
    """Per-app mutable state: the current compiled mock (swapped on reload), where calls go.

    `calls` gets every call as a cheap tuple; `listeners` (the live table, tests) get a
    CallRecord each, built only when there are any.
    """

    config: ServeConfig
    state: MockState
    dynamic: DynamicValues
    calls: CallLog | None = None
    listeners: list[CallListener] = field(default_factory=list)
    api_keys: tuple[bytes, ...] = ()
    #: which server answers, in every call record: "<start-up id>@host:port" (set on bind)
    server: str = ""
    #: mock calls being answered now (a delayed call counts until it is answered)
    in_flight: int = 0
    #: `--upstream`: where unmatched calls go (postmock.proxy), else None
    upstream: Upstream | None = None
    observe: CallObserver | None = None
    #: masks and caps what listeners see, as the store does
    redactor: Redactor = field(default_factory=Redactor)

    def emit(self, record: CallRecord) -> None:
        for listener in self.listeners:
            listener(record)


RUNTIME = web.AppKey("runtime", Runtime)


def create_app(
    config: ServeConfig,
    state: MockState,
    *,
    calls: CallLog | None = None,
    listeners: Sequence[CallListener] = (),
    extra_routes: Callable[[web.Application], None] | None = None,
    upstream: Upstream | None = None,
) -> web.Application:
    """Build the mock app; `extra_routes` registers routes that win over the catch-all."""
    from postmock.server.hosts import HostPolicy, host_guard

    policy = HostPolicy(config.host, config.allowed_hosts)
    app = web.Application(client_max_size=config.max_body_size, middlewares=[host_guard(policy)])
    app[RUNTIME] = Runtime(
        config=config,
        state=state,
        dynamic=DynamicValues(config.seed),
        calls=calls,
        listeners=list(listeners),
        api_keys=tuple(k.encode() for k in config.api_keys),
        upstream=upstream,
        redactor=Redactor(config.redact, config.log_body_cap, bodies=config.redact_bodies),
    )
    if extra_routes is not None:
        extra_routes(app)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def handle(request: web.Request) -> web.StreamResponse:
    """The app's catch-all route: answer one call and log it; never raises."""
    return await answer_call(request.app[RUNTIME], request)


async def answer_call(rt: Runtime, request: web.BaseRequest) -> web.StreamResponse:
    """Answer one call and hand its record to the call log and listeners; never raises."""
    started = time.perf_counter()
    rt.in_flight += 1
    try:
        try:
            answer = await _answer(rt, request)
        except (asyncio.CancelledError, ConnectionError):
            raise  # the client went away: nothing was served
        except Exception as exc:
            # A bug in postmock: still one JSON answer, and still one record in the log.
            log.exception("error answering %s %s", request.method, request.rel_url)
            failed, payload = json_error(500, "internalError", f"postmock failed: {exc!r}")
            answer = Answer(failed, "error", b"", payload, detail="postmock failed (a bug)")
        if answer.delay_ms and not answer.delayed:
            await asyncio.sleep(answer.delay_ms / 1000)
    finally:
        rt.in_flight -= 1
    resp, plan = answer.response, answer.plan
    took_ms = (time.perf_counter() - started) * 1000
    if rt.observe is not None:
        rt.observe(request.method, resp.status, answer.kind, took_ms)
    if rt.calls is None and not rt.listeners:
        return resp
    now = time.time()
    rel_url = request.rel_url
    entry: Entry = (
        new_call_id(now),
        now,
        request.method,
        rel_url.raw_path,
        rel_url.raw_query_string,
        request.raw_headers,  # bytes pairs: cheap to marshal; decoded where a record is made
        answer.request_body,
        resp.status,
        answer.headers if answer.headers is not None else _plain_headers(resp),
        answer.response_body,
        answer.kind,
        plan.example.name if plan is not None else None,
        took_ms,
        answer.delay_ms,
        plan.request_name if plan is not None else None,
        rt.server,
        answer.detail,
    )
    if rt.calls is not None:
        rt.calls.add_entry(entry)
    if rt.listeners:  # the live table shows calls masked, like the store (calllog.mask)
        rt.emit(record_from_entry(rt.redactor.clean(entry)))
    return resp


@dataclass(slots=True)
class Answer:
    """A response with what the call log needs to know about it; treat it as immutable.

    Not `frozen`: one is made per call, and a frozen dataclass sets each field through
    `object.__setattr__` (the same finding as for `CallRecord`).
    """

    response: web.StreamResponse
    kind: ResponseType
    request_body: bytes = b""
    response_body: bytes = b""
    plan: ResponsePlan | None = None
    delay_ms: int = 0
    # The response headers as plain str pairs, when already at hand (the call log wants
    # them; aiohttp's `istr` names are slow to pickle).
    headers: tuple[tuple[str, str], ...] | None = None
    #: why, in a few words, for the call log: a miss's nearest example, an error's reason
    detail: str | None = None
    #: the delay was waited already (a proxied call waits before it is forwarded)
    delayed: bool = False


async def _answer(rt: Runtime, request: web.BaseRequest) -> Answer:
    config, state = rt.config, rt.state
    cors_origin = request.headers.get("Origin", "*") if config.cors else None
    preflight = (
        config.cors
        and request.method == "OPTIONS"
        and "Access-Control-Request-Method" in request.headers
    )
    try:
        # The network delay applies to every answer, errors included: a slow network
        # is slow for a 404 too.
        delay_ms = _delay(request.headers, config.delay_ms)
        _check_code(request.headers)
    except BadControlHeader as exc:
        return _error(cors_origin, 400, "invalidRequestError", str(exc), detail=exc.detail)
    if rt.api_keys and not preflight and not key_ok(rt.api_keys, request.headers):
        return _error(
            cors_origin, 401, "unauthorizedError", PRIVATE_MESSAGE, delay_ms=delay_ms,
            detail="no valid x-api-key",
        )  # fmt: skip
    body = b""
    if request.body_exists:  # most mock calls have none: no coroutine to read nothing
        try:
            body = await _read_body(request, config.max_body_size, config.request_timeout)
        except asyncio.TimeoutError:  # TimeoutError's alias from 3.11 on; not on 3.10
            message = f"The request body did not arrive within {config.request_timeout:g} s."
            answer = _error(
                cors_origin, 408, "requestTimeoutError", message, delay_ms=delay_ms,
                detail="body too slow",
            )  # fmt: skip
            answer.response.force_close()
            return answer
        except web.HTTPRequestEntityTooLarge:
            message = f"The request body is larger than the {config.max_body_size}-byte limit."
            return _error(
                cors_origin, 413, "requestEntityTooLargeError", message, delay_ms=delay_ms,
                detail="body too large",
            )  # fmt: skip

    if state.server_response is not None:
        match: Match | Miss = Match(state.server_response.example, 0, "serverResponse", {})
    else:
        match = state.cache.match(request.method, request.raw_path, request.headers, body)
    if isinstance(match, Miss):
        if preflight:
            return Answer(_preflight(request, cors_origin or "*"), "preflight", body)
        if rt.upstream is not None and match.reason == "noMatch":
            # (a call naming an example or id that does not exist asked the mock: it
            # gets the mock's answer, not the API's)
            return await _proxied(rt, rt.upstream, request, body, cors_origin, delay_ms)
        message = NOT_FOUND["message"] if match.reason == "noMatch" else match.message
        extra = {"header": NOT_FOUND["header"], **_explain(match)}
        detail = _miss_detail(match, state)
        return _error(
            cors_origin, 404, NOT_FOUND["name"], message, body, delay_ms, detail, **extra,
        )  # fmt: skip

    plan = state.plans[match.example.index]
    ctx = None
    if not plan.is_static:
        ctx = RenderContext(
            captures=match.captures,
            request=RequestData(
                method=request.method,
                path=request.rel_url.raw_path,
                query_string=request.rel_url.raw_query_string,
                headers=request.headers,
                body=body,
            ),
            dynamic=rt.dynamic,
        )
    # HEAD gets the body too: aiohttp sends only its Content-Length, as for GET.
    payload = plan.render_body(ctx) if plan.has_body else b""
    headers = (*plan.render_headers(ctx), *_cors_headers(cors_origin, plan))
    resp = web.Response(
        status=plan.status,
        reason=plan.reason,
        body=payload if plan.has_body else None,
        headers=CIMultiDict(headers),
    )
    return Answer(resp, "example", body, payload, plan, delay_ms, headers)


async def _proxied(
    rt: Runtime,
    upstream: Upstream,
    request: web.BaseRequest,
    body: bytes,
    cors_origin: str | None,
    delay_ms: int,
) -> Answer:
    """An unmatched call answered by the upstream (streamed), or a 502/504 envelope."""
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)  # the answer streams: the delay comes first
    keep = 0  # the call log's share of the body: its cap, plus one byte to say it was cut
    if rt.calls is not None or rt.listeners:
        keep = rt.config.log_body_cap + 1 if rt.config.log_body_cap >= 0 else -1
    try:
        done = await upstream.forward(
            request, body, keep=keep, extra_headers=tuple(_cors_headers(cors_origin, None))
        )
    except UpstreamError as exc:
        answer = _error(
            cors_origin, exc.status, exc.name, exc.message, body, delay_ms,
            f"upstream {upstream.display_url}: {exc.name}", upstream=upstream.display_url,
        )  # fmt: skip
        answer.delayed = True
        return answer
    detail = f"upstream {done.upstream} answered {done.status}, {done.size} bytes"
    if done.broken:
        detail += f"; {done.broken}"
    return Answer(
        done.response, "proxied", body, done.body, None, delay_ms, done.headers, detail, True
    )


def _error(
    cors_origin: str | None,
    status: int,
    name: str,
    message: str,
    body: bytes = b"",
    delay_ms: int = 0,
    detail: str | None = None,
    **extra: object,
) -> Answer:
    """An error the mock itself produces, as the JSON envelope, with CORS headers."""
    resp, payload = json_error(status, name, message, **extra)
    _add_cors(resp, cors_origin, None)
    kind: ResponseType = "noMatch" if status == 404 else "error"
    return Answer(resp, kind, body, payload, None, delay_ms, detail=detail)


def key_ok(keys: tuple[bytes, ...], headers: Mapping[str, str]) -> bool:
    """The one API-key check, for mock calls and `/__postmock/` alike: constant time.

    Header values are str decoded by aiohttp as UTF-8 with surrogate escapes, so any
    bytes a client sends encode back (a non-UTF-8 key is simply wrong, never an error).
    """
    given = headers.get("x-api-key", "").encode("utf-8", "surrogateescape")
    ok = False
    for key in keys:  # compare with every key so timing says nothing about which matched
        ok |= hmac.compare_digest(given, key)
    return ok


async def _read_body(request: web.BaseRequest, limit: int, timeout: float) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    # A slowloris body: TimeoutError -> 408, the connection closed.
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(timeout):  # no task per call, unlike wait_for
            return await request.read()
    return await asyncio.wait_for(request.read(), timeout)  # pragma: no cover (3.10)


def _delay(headers: CIMultiDictProxy[str], default_ms: int) -> int:
    raw = headers.get("x-mock-response-delay")
    if raw is None:
        return default_ms
    value = raw.strip()
    if not value.isdigit() or not 0 <= int(value) <= MAX_DELAY_MS:
        raise BadControlHeader(
            "x-mock-response-delay",
            f"x-mock-response-delay must be a whole number of milliseconds from 0 to "
            f"{MAX_DELAY_MS}, got {raw!r}",
        )
    return int(value)


def _check_code(headers: CIMultiDictProxy[str]) -> None:
    """x-mock-response-code must be a status code (100-599), not `4xx`, `404.0` or empty."""
    raw = headers.get("x-mock-response-code")
    if raw is None:
        return
    value = raw.strip()
    if not (value.isascii() and value.isdigit() and 100 <= int(value) <= 599):
        raise BadControlHeader(
            "x-mock-response-code",
            f"x-mock-response-code must be a status code from 100 to 599, got {raw!r}",
        )


def _cors_headers(origin: str | None, plan: ResponsePlan | None) -> list[tuple[str, str]]:
    if origin is None or (plan is not None and plan.sets_allow_origin):
        return []
    headers = [("Access-Control-Allow-Origin", origin)]
    if origin != "*":
        # Echoing the origin (not "*") lets browsers send credentials to the mock.
        headers += [("Access-Control-Allow-Credentials", "true"), ("Vary", "Origin")]
    if plan is not None and plan.expose_headers:
        headers.append(("Access-Control-Expose-Headers", plan.expose_headers))
    return headers


def _add_cors(resp: web.StreamResponse, origin: str | None, plan: ResponsePlan | None) -> None:
    for name, value in _cors_headers(origin, plan):
        resp.headers.add(name, value)


def _plain_headers(resp: web.StreamResponse) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), value) for name, value in resp.headers.items())


def _preflight(request: web.BaseRequest, origin: str) -> web.Response:
    method = request.headers.get("Access-Control-Request-Method", "")
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": method or "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }
    asked = request.headers.get("Access-Control-Request-Headers")
    if asked:
        headers["Access-Control-Allow-Headers"] = asked
    if origin != "*":
        headers["Access-Control-Allow-Credentials"] = "true"
        headers["Vary"] = "Origin"
    return web.Response(status=204, headers=headers)


def _miss_detail(miss: Miss, state: MockState) -> str:
    """A miss in a few words: the nearest request (`Folder › Request`) and where it lost."""
    if miss.reason != "noMatch":
        return miss.message  # no example with that x-mock-response-name / -id
    if not miss.nearest:
        # the engine misses without candidates on an unusable code header, or far away
        bad_code = miss.message.startswith("x-mock-response-code")
        return "bad x-mock-response-code" if bad_code else "no example near"
    near = miss.nearest[0].example
    plan = state.plans.get(near.index)
    label = (plan.request_name if plan is not None else "") or near.item_name or near.name
    return f"nearest: {label} · {miss.nearest[0].stage} differs"


def _explain(miss: Miss) -> dict[str, object]:
    """The engine's explanation, as extra keys of the 404 body."""
    return {
        "nearest": [
            {
                "name": r.example.name,
                "request": f"{r.example.request.method} {r.example.request.url.raw}",
                "location": r.example.location,
                "rejectedBy": r.stage,
                "reason": r.detail,
            }
            for r in miss.nearest
        ]
    }
