"""One served call: `CallRecord`, its ids and times.

The hot-path tuple, masking and plain lines are in `entry` and `redact`; filters in `filter`."""

from __future__ import annotations

import base64
import itertools
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, cast

# "preflight": a CORS preflight postmock answered itself (no OPTIONS example matched);
# "proxied": an unmatched call answered by the upstream (`serve --upstream`).
ResponseType = Literal["example", "noMatch", "error", "preflight", "proxied"]
RESPONSE_TYPES: tuple[ResponseType, ...] = ("example", "noMatch", "error", "preflight", "proxied")
Headers = tuple[tuple[str, str], ...]
NO_MATCH = "No matching requests"

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
    # One 16-digit hex number (12 for the ms, 4 for the sequence): one format, not two.
    return f"{millis << 16 | next(_sequence) & 0xFFFF:016x}{_process_tag}"


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


def pairs(headers: Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]) -> Headers:
    """Header pairs as str pairs."""
    # Tuples of str pairs are kept as they are (this runs per call). The server hands over
    # request headers as aiohttp's raw bytes pairs, decoded here as aiohttp decodes them.
    if isinstance(headers, tuple):
        if not headers or not isinstance(headers[0][0], bytes):
            return cast(Headers, headers)
        raw = cast(tuple[tuple[bytes, bytes], ...], headers)
        return tuple(
            [
                (k.decode("utf-8", "backslashreplace"), v.decode("utf-8", "backslashreplace"))
                for k, v in raw
            ]
        )
    return tuple((_text(k), _text(v)) for k, v in headers)


def _text(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def body_field(data: bytes | str) -> tuple[str, str | None]:
    """A body for a record: its text, or base64 text and `"base64"` when it is not UTF-8."""
    if isinstance(data, str):
        return data, None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def clean_text(text: str) -> str:
    """`text` without lone surrogates (escaped as `\\udcff`), so it always encodes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


@dataclass(slots=True)
class CallRecord:
    """One call served by the mock, as kept in the call log; treat it as immutable.

    Not `frozen`: a frozen dataclass sets each of its fields through
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
    request_name: str | None = None  # the example's request, "Folder › Request"
    server: str = ""  # which server answered: "<start-up id>@host:port"
    detail: str | None = None  # why, in a few words: a miss's nearest example, an error
    seq: int = 0  # the call's number in its store (0: not stored yet)
    #: "base64" when the body was not UTF-8 and is kept as base64 text
    request_body_encoding: str | None = None
    response_body_encoding: str | None = None

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
        request_name: str | None = None,
        server: str = "",
        detail: str | None = None,
    ) -> CallRecord:
        """Build a record with a fresh id; bodies may be bytes, headers any pair iterable."""
        when = time.time() if served_at is None else served_at
        return cls(
            id=new_call_id(when),
            served_at=when,
            method=method.upper(),
            path=path,
            query=query,
            request_headers=pairs(request_headers),
            request_body=body_text(request_body),
            status_code=status_code,
            response_headers=pairs(response_headers),
            response_body=body_text(response_body),
            response_type=response_type,
            response_name=response_name,
            duration_ms=duration_ms,
            delay_ms=delay_ms,
            request_name=request_name,
            server=server,
            detail=detail,
        )

    @property
    def full_path(self) -> str:
        """The path with its query string, as requested."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def to_json(self) -> dict[str, Any]:
        """Return the record in Postman's call-log shape."""
        return {
            "id": self.id,
            "requestName": self.request_name,
            "responseName": self.response_name,
            "servedAt": iso_utc(self.served_at),
            "request": {
                "method": self.method,
                "path": self.path,
                "query": self.query,
                "headers": _header_dict(self.request_headers),
                "body": self.request_body,
                **({"bodyEncoding": enc} if (enc := self.request_body_encoding) else {}),
            },
            "response": {
                "type": self.response_type,
                "statusCode": self.status_code,
                "headers": _header_dict(self.response_headers),
                "body": self.response_body,
                **({"bodyEncoding": enc} if (enc := self.response_body_encoding) else {}),
            },
            "durationMs": round(self.duration_ms, 3),
            "delayMs": self.delay_ms,
            "detail": self.detail,
            "server": self.server,
            **({"seq": self.seq} if self.seq else {}),
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
                request_headers=_headerpairs(request.get("headers")),
                request_body=str(request.get("body") or ""),
                status_code=int(response["statusCode"]),
                response_headers=_headerpairs(response.get("headers")),
                response_body=str(response.get("body") or ""),
                response_type=cast(ResponseType, kind),
                response_name=data.get("responseName"),
                duration_ms=float(data.get("durationMs") or 0.0),
                delay_ms=float(data.get("delayMs") or 0.0),
                request_name=data.get("requestName"),
                server=str(data.get("server") or ""),
                detail=data.get("detail"),
                seq=int(data.get("seq") or 0),
                request_body_encoding=request.get("bodyEncoding"),
                response_body_encoding=response.get("bodyEncoding"),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a postmock call record: {exc!r}") from None


def _header_dict(headers: Headers) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers:
        result[name] = f"{result[name]}, {value}" if name in result else value
    return result


def _headerpairs(headers: Any) -> Headers:
    if not headers:
        return ()
    if isinstance(headers, Mapping):
        return tuple((str(k), str(v)) for k, v in headers.items())
    return tuple((str(k), str(v)) for k, v in headers)


def format_duration(duration_ms: float, delay_ms: float) -> str:
    """`1.2 ms`, with the delay when there was one."""
    text = f"{duration_ms:.1f} ms"
    return f"{text} (+{delay_ms:g} delay)" if delay_ms else text


def duration_text(record: CallRecord) -> str:
    """`format_duration` of a record."""
    return format_duration(record.duration_ms, record.delay_ms)
