"""Which calls to show: `CallFilter` (what the store, the API, streams and `logs` apply),
and status classes (`404`, `4xx`)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

from postmock.calllog.record import RESPONSE_TYPES, CallRecord, ResponseType

StatusFilter = int | str  # 404, or a class like "4xx"


def status_range(status: StatusFilter) -> tuple[int, int]:
    """Return the inclusive code range for `404` or `"4xx"`; ValueError otherwise."""
    text = str(status).strip().lower()
    if re.fullmatch(r"[1-5]xx", text):
        low = int(text[0]) * 100
        return low, low + 99
    if re.fullmatch(r"\d{3}", text):
        return int(text), int(text)
    raise ValueError(f"invalid status {status!r}: use a code like 404 or a class like 4xx")


@dataclass(frozen=True)
class CallFilter:
    """Which calls to show; every field set must hold (text fields: case-insensitive contains)."""

    since: float | None = None  # served_at >= since
    until: float | None = None  # served_at <= until
    status: StatusFilter | None = None
    method: str | None = None
    path: str | None = None
    response_name: str | None = None
    response_type: ResponseType | None = None
    search: str | None = None  # anywhere in path, query, example name or bodies
    server: str | None = None  # exactly this server ("<start-up id>@host:port"); None: all
    _status_range: tuple[int, int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.status is not None:
            object.__setattr__(self, "_status_range", status_range(self.status))
        if self.response_type is not None and self.response_type not in RESPONSE_TYPES:
            raise ValueError(
                f"invalid response type {self.response_type!r}: use one of "
                + ", ".join(RESPONSE_TYPES)
            )

    def matches(self, record: CallRecord) -> bool:
        """Tell whether `record` passes this filter."""
        if self.server is not None and record.server != self.server:
            return False
        if self.since is not None and record.served_at < self.since:
            return False
        if self.until is not None and record.served_at > self.until:
            return False
        if self._status_range and not (
            self._status_range[0] <= record.status_code <= self._status_range[1]
        ):
            return False
        if self.method and record.method.upper() != self.method.upper():
            return False
        if self.path and self.path.lower() not in record.path.lower():
            return False
        if (
            self.response_name
            and self.response_name.lower() not in (record.response_name or "").lower()
        ):
            return False
        if self.response_type and record.response_type != self.response_type:
            return False
        if self.search:
            needle = self.search.lower()
            haystack = (
                record.path,
                record.query,
                record.response_name or "",
                record.request_body,
                record.response_body,
            )
            return any(needle in text.lower() for text in haystack)
        return True


# Page cursors of `CallStore.select` (the API's `nextCursor`).
def encode_cursor(record: CallRecord) -> str:
    """Return an opaque page cursor pointing just past `record`."""
    raw = json.dumps([record.served_at, record.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Inverse of `encode_cursor`; ValueError on anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        served_at, call_id = json.loads(raw)
        return float(served_at), str(call_id)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc
