"""One served call: `CallRecord`, its hot-path tuple, ids, masking before storage, lines.

Filters over calls are in `callfilter`."""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal, cast
from urllib.parse import unquote_plus

import orjson

# "preflight": a CORS preflight postmock answered itself (no OPTIONS example matched).
ResponseType = Literal["example", "noMatch", "error", "preflight"]
RESPONSE_TYPES: tuple[ResponseType, ...] = ("example", "noMatch", "error", "preflight")
Headers = tuple[tuple[str, str], ...]
#: A served call as the server hands it over on the hot path: a plain tuple, cheap to build
#: and to pickle. Fields in order: id, served_at, method, path, query, request_headers,
#: request_body, status_code, response_headers, response_body, response_type,
#: response_name, duration_ms, delay_ms. Bodies may still be bytes; nothing is masked yet.
#: `record_from_entry` turns it into a CallRecord; `CallRecord.sanitized` masks and caps.
RawHeaders = tuple[tuple[bytes, bytes], ...]
Entry = tuple[
    str, float, str, str, str, "Headers | RawHeaders", "bytes | str", int, Headers, "bytes | str",
    str, "str | None", float, float,
]  # fmt: skip
NO_MATCH = "No matching requests"

#: Header names whose values never reach the log (compared case-insensitively).
SECRET_HEADERS: frozenset[str] = frozenset(
    {"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"}
)
#: Query parameters whose values never reach the log (plus the names given to --redact).
SECRET_QUERY_PARAMS: frozenset[str] = frozenset(
    {"api_key", "apikey", "access_token", "token", "password", "client_secret"}
)
MASK = "****"
#: Headers whose first word is an auth scheme worth keeping ("Bearer ****").
_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})
TRUNCATION_MARK = "\n…[postmock: body truncated, {total} characters in total]"

_sequence = itertools.count()
_process_tag = secrets.token_hex(4)


def _new_process() -> None:
    # A forked worker must not share its parent's tag: ids from both land in one store.
    global _sequence, _process_tag
    _sequence = itertools.count()
    _process_tag = secrets.token_hex(4)


os.register_at_fork(after_in_child=_new_process)


def new_call_id(served_at: float | None = None) -> str:
    """Return a unique id that sorts by time: 12 hex ms + 4 hex sequence + 8 hex process tag.

    The tag is random per process, so ids from several processes of one server never clash;
    drawing it once (not per call) keeps the system's random source off the hot path.
    """
    millis = int((time.time() if served_at is None else served_at) * 1000)
    return f"{millis:012x}{next(_sequence) & 0xFFFF:04x}{_process_tag}"


def body_text(data: bytes | str) -> str:
    """Decode a body for the log (UTF-8, undecodable bytes replaced)."""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


_iso_second: tuple[int, str] = (-1, "")


def iso_utc(epoch: float) -> str:
    """Format epoch seconds as ISO-8601 UTC with milliseconds and a `Z`."""
    # Calls come many per second: the date and time up to the second are made once each.
    global _iso_second
    millis = int(epoch * 1000)
    second, ms = divmod(millis, 1000)
    if _iso_second[0] != second:
        moment = datetime.fromtimestamp(second, timezone.utc)
        _iso_second = (second, moment.strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_iso_second[1]}.{ms:03d}Z"


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_time(text: str, *, relative: bool = False, now: float | None = None) -> float:
    """Parse epoch seconds (or ms), ISO-8601 (naive = UTC) or, if `relative`, `15m` ago.

    Raises ValueError with a message fit for a user.
    """
    value = text.strip()
    match = _RELATIVE.match(value) if relative else None
    if match:
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        return (time.time() if now is None else now) - seconds
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        return number / 1000 if number > 1e11 else number  # > year 5138 in s: it is ms
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        hint = ", or a duration like 15m" if relative else ""
        raise ValueError(
            f"invalid time {text!r}: use ISO-8601 (2024-05-01T10:00:00Z) or epoch seconds{hint}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _pairs(headers: Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]) -> Headers:
    # Tuples of str pairs are kept as they are (this runs per call). The server hands over
    # request headers as aiohttp's raw bytes pairs, decoded here as aiohttp decodes them.
    if isinstance(headers, tuple):
        if not headers or not isinstance(headers[0][0], bytes):
            return cast(Headers, headers)
        raw = cast(RawHeaders, headers)
        return tuple(
            [
                (k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape"))
                for k, v in raw
            ]
        )
    return tuple((_text(k), _text(v)) for k, v in headers)


def _text(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


def masked_query(query: str, secret_names: frozenset[str]) -> str:
    """`query` with the values of secret parameters masked (the same str when none is)."""
    if not query:
        return query
    parts = query.split("&")
    changed = False
    for n, part in enumerate(parts):
        key, sep, value = part.partition("=")
        name = unquote_plus(key).lower()
        if sep and value and (name in secret_names or name in SECRET_QUERY_PARAMS):
            parts[n] = f"{key}={MASK}"
            changed = True
    return "&".join(parts) if changed else query


def _masked(headers: Headers, secret_names: frozenset[str]) -> Headers:
    """`headers` with secret values masked; the same tuple when there is nothing to mask."""
    if not any(name.lower() in secret_names for name, _ in headers):
        return headers
    return tuple((k, mask_header(k, v, secret_names)) for k, v in headers)


def mask_header(name: str, value: str, secret_names: frozenset[str]) -> str:
    """Return `value` masked when `name` is secret; keep an auth scheme word."""
    lowered = name.lower()
    if lowered not in secret_names or not value:
        return value
    scheme, sep, _rest = value.strip().partition(" ")
    if sep and lowered in _SCHEME_HEADERS:
        return f"{scheme} {MASK}"
    return MASK


def cap_body(body: str, cap: int) -> str:
    """Cut `body` to `cap` characters and say so."""
    if cap < 0 or len(body) <= cap:
        return body
    return body[:cap] + TRUNCATION_MARK.format(total=len(body))


@dataclass(slots=True)
class CallRecord:
    """One call served by the mock, as kept in the call log; treat it as immutable.

    Not `frozen`: a frozen dataclass sets each of its 14 fields through
    `object.__setattr__`, which tripled the cost of building one, once per call.
    """

    id: str
    served_at: float  # epoch seconds
    method: str
    path: str
    query: str = ""  # raw query string, without "?"
    request_headers: Headers = ()
    request_body: str = ""
    status_code: int = 200
    response_headers: Headers = ()
    response_body: str = ""
    response_type: ResponseType = "example"
    response_name: str | None = None  # the example used; None when nothing matched
    duration_ms: float = 0.0
    delay_ms: float = 0.0

    @classmethod
    def create(
        cls,
        *,
        method: str,
        path: str,
        query: str = "",
        request_headers: Iterable[tuple[str, str]] = (),
        request_body: bytes | str = "",
        status_code: int = 200,
        response_headers: Iterable[tuple[str, str]] = (),
        response_body: bytes | str = "",
        response_type: ResponseType = "example",
        response_name: str | None = None,
        duration_ms: float = 0.0,
        delay_ms: float = 0.0,
        served_at: float | None = None,
    ) -> CallRecord:
        """Build a record with a fresh id; bodies may be bytes, headers any pair iterable."""
        when = time.time() if served_at is None else served_at
        return cls(
            id=new_call_id(when),
            served_at=when,
            method=method.upper(),
            path=path,
            query=query,
            request_headers=_pairs(request_headers),
            request_body=body_text(request_body),
            status_code=status_code,
            response_headers=_pairs(response_headers),
            response_body=body_text(response_body),
            response_type=response_type,
            response_name=response_name,
            duration_ms=duration_ms,
            delay_ms=delay_ms,
        )

    @property
    def full_path(self) -> str:
        """The path with its query string, as requested."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def sanitized(self, secret_names: frozenset[str], body_cap: int) -> CallRecord:
        """Return this record with secrets masked and bodies capped (self if nothing to do)."""
        req = _masked(self.request_headers, secret_names)
        res = _masked(self.response_headers, secret_names)
        query = masked_query(self.query, secret_names)
        req_body = cap_body(self.request_body, body_cap)
        res_body = cap_body(self.response_body, body_cap)
        if (
            req is self.request_headers
            and res is self.response_headers
            and query is self.query
            and req_body is self.request_body
            and res_body is self.response_body
        ):
            return self  # the common case, checked by identity: this runs per call
        return replace(
            self,
            request_headers=req,
            query=query,
            response_headers=res,
            request_body=req_body,
            response_body=res_body,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the record in Postman's call-log shape."""
        return {
            "id": self.id,
            "responseName": self.response_name,
            "servedAt": iso_utc(self.served_at),
            "request": {
                "method": self.method,
                "path": self.path,
                "query": self.query,
                "headers": _header_dict(self.request_headers),
                "body": self.request_body,
            },
            "response": {
                "type": self.response_type,
                "statusCode": self.status_code,
                "headers": _header_dict(self.response_headers),
                "body": self.response_body,
            },
            "durationMs": round(self.duration_ms, 3),
            "delayMs": self.delay_ms,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallRecord:
        """Read a record back from `to_json()` output; ValueError when the shape is wrong."""
        try:
            request = data["request"]
            response = data["response"]
            kind = str(response.get("type") or "example")  # kept as is, even if unknown
            served = data["servedAt"]
            return cls(
                id=str(data["id"]),
                served_at=parse_time(served) if isinstance(served, str) else float(served),
                method=str(request["method"]),
                path=str(request["path"]),
                query=str(request.get("query") or ""),
                request_headers=_header_pairs(request.get("headers")),
                request_body=str(request.get("body") or ""),
                status_code=int(response["statusCode"]),
                response_headers=_header_pairs(response.get("headers")),
                response_body=str(response.get("body") or ""),
                response_type=cast(ResponseType, kind),
                response_name=data.get("responseName"),
                duration_ms=float(data.get("durationMs") or 0.0),
                delay_ms=float(data.get("delayMs") or 0.0),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a postmock call record: {exc!r}") from None


def _header_dict(headers: Headers) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers:
        result[name] = f"{result[name]}, {value}" if name in result else value
    return result


def _header_pairs(headers: Any) -> Headers:
    if not headers:
        return ()
    if isinstance(headers, Mapping):
        return tuple((str(k), str(v)) for k, v in headers.items())
    return tuple((str(k), str(v)) for k, v in headers)


def headers_to_text(headers: Headers) -> str:
    """Serialise header pairs for storage (JSON list of pairs, order and repeats kept)."""
    try:
        # orjson: ~10x faster than json here, and this runs for every stored call.
        return orjson.dumps(headers).decode()
    except TypeError:  # undecodable bytes kept as surrogates: orjson refuses them
        return json.dumps([list(pair) for pair in headers])


def headers_from_text(text: str) -> Headers:
    """Inverse of `headers_to_text`."""
    return _header_pairs(json.loads(text) if text else ())


def entry_from_record(record: CallRecord) -> Entry:
    """The hot-path tuple for `record` (for callers that built a CallRecord)."""
    r = record
    return (
        r.id, r.served_at, r.method, r.path, r.query, r.request_headers, r.request_body,
        r.status_code, r.response_headers, r.response_body, r.response_type, r.response_name,
        r.duration_ms, r.delay_ms,
    )  # fmt: skip


def record_from_entry(entry: Entry) -> CallRecord:
    """The CallRecord for a hot-path tuple: headers and bodies as text, nothing masked yet
    (`CallRecord.sanitized` does that)."""
    (cid, served_at, method, path, query, req_h, req_b, status, res_h, res_b, kind, name,
     duration, delay) = entry  # fmt: skip
    return CallRecord(
        cid, served_at, method, path, query, _pairs(req_h), body_text(req_b), status,
        _pairs(res_h), body_text(res_b), cast(ResponseType, kind), name, duration, delay,
    )  # fmt: skip


def duration_text(record: CallRecord) -> str:
    """`1.2 ms`, with the delay when there was one."""
    text = f"{record.duration_ms:.1f} ms"
    return f"{text} (+{record.delay_ms:g} delay)" if record.delay_ms else text


def plain_line(record: CallRecord) -> str:
    """One line per call for logs and pipes."""
    label = record.response_name or (NO_MATCH if record.response_type == "noMatch" else "-")
    return (
        f"{iso_utc(record.served_at)} {record.method} {record.full_path} "
        f"{record.status_code} {json.dumps(label, ensure_ascii=False)} "
        f"{duration_text(record)} id={record.id}"
    )
