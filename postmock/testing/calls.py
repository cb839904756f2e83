"""The calls one embedded mock answered, kept in memory; queries and assertions over them.

A `CallRecorder` is a listener of the app (`server.app.Runtime.listeners`): it gets each
call's record before the response is sent, so a test that got its response always finds
the call here (read-your-writes, no sleeps). The server's thread appends, the test's
thread reads: one lock, held for an append or a copy.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from postmock.calllog.filter import status_range
from postmock.calllog.record import CallRecord
from postmock.config import EMBEDDED_NEAREST_SHOWN


@dataclass(frozen=True)
class CallQuery:
    """What a test asks about: every field given must hold."""

    method: str | None = None
    path: str | None = None  # exact path, path?query, or a pattern with `*`
    status: int | str | None = None  # 404 or a class such as "4xx"
    example: str | None = None  # the example's name (Postman's `responseName`)

    def __post_init__(self) -> None:
        if self.status is not None:
            status_range(self.status)  # ValueError now, not on the first call compared

    def given(self) -> dict[str, object]:
        """The criteria set, by name (for messages)."""
        fields = {"example": self.example, "method": self.method, "path": self.path}
        return {k: v for k, v in {**fields, "status": self.status}.items() if v is not None}

    def misses(self, record: CallRecord) -> list[str]:
        """The names of the criteria `record` fails (empty: it matches)."""
        out = []
        if self.example is not None and record.response_name != self.example:
            out.append("example")
        if self.method is not None and record.method.upper() != self.method.upper():
            out.append("method")
        if self.path is not None and not _path_matches(self.path, record):
            out.append("path")
        if self.status is not None:
            low, high = status_range(self.status)
            if not low <= record.status_code <= high:
                out.append("status")
        return out

    def matches(self, record: CallRecord) -> bool:
        return not self.misses(record)


def _path_matches(pattern: str, record: CallRecord) -> bool:
    if "*" in pattern:
        regex = ".*".join(re.escape(part) for part in pattern.split("*"))
        target = record.full_path if "?" in pattern else record.path
        return re.fullmatch(regex, target) is not None
    return pattern in (record.path, record.full_path)


class CallRecorder:
    """Every call of one server, oldest first; safe to add from one thread and read from another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []

    def add(self, record: CallRecord) -> None:
        """The app's listener: keep one call (runs on the server's loop, before the answer)."""
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records = []

    def records(self, query: CallQuery | None = None) -> list[CallRecord]:
        """The calls `query` matches (all without one), oldest first."""
        with self._lock:
            records = list(self._records)
        return records if query is None else [r for r in records if query.matches(r)]

    def count(self, query: CallQuery | None = None) -> int:
        return len(self.records(query))

    def check_called(self, query: CallQuery, times: int | None) -> None:
        """AssertionError unless `query` matches `times` calls (at least one when None)."""
        records = self.records()
        hits = [r for r in records if query.matches(r)]
        if (times is None and hits) or len(hits) == times:
            return
        wanted = "at least once" if times is None else f"exactly {_times(times)}"
        criteria = ", ".join(f"{k}={v!r}" for k, v in query.given().items()) or "any call"
        lines = [f"expected a call with {criteria} {wanted}; it came {_times(len(hits))}."]
        lines += nearest_lines(query, records)
        raise AssertionError("\n".join(lines))

    def check_not_called(self, query: CallQuery) -> None:
        self.check_called(query, 0)

    def check_no_unmatched(self) -> None:
        """AssertionError listing every call no example matched, with the engine's why."""
        unmatched = [r for r in self.records() if r.response_type == "noMatch"]
        if not unmatched:
            return
        lines = [f"{len(unmatched)} call(s) matched no example of the collection:"]
        for record in unmatched:
            lines.append(f"  {describe(record)}")
            lines += [f"      {why}" for why in explanation(record)]
        raise AssertionError("\n".join(lines))


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def describe(record: CallRecord) -> str:
    """One call in one line: method, path, status, example, request."""
    example = f" example {record.response_name!r}" if record.response_name else ""
    request = f" ({record.request_name})" if record.request_name else ""
    kind = "" if record.response_type == "example" else f" [{record.response_type}]"
    return f"{record.method} {record.full_path} → {record.status_code}{example}{request}{kind}"


def nearest_lines(query: CallQuery, records: Sequence[CallRecord]) -> list[str]:
    """The calls closest to `query` (fewest criteria missed, newest first), one line each."""
    if not records:
        return ["No calls reached this mock at all."]
    ranked = sorted(enumerate(records), key=lambda pair: (len(query.misses(pair[1])), -pair[0]))[
        :EMBEDDED_NEAREST_SHOWN
    ]
    shown = len(ranked)
    lines = [f"Closest calls ({shown} of {len(records)}, closest first):"]
    for _, record in ranked:
        missed = query.misses(record)
        differs = f"  [{', '.join(missed)} differ{'s' if len(missed) == 1 else ''}]"
        lines.append(f"  {describe(record)}{differs if missed else '  [matches]'}")
    return lines


def explanation(record: CallRecord) -> list[str]:
    """The 404's nearest examples and why each lost, from the body the server answered."""
    try:
        nearest: Any = json.loads(record.response_body)["error"]["nearest"]
    except (ValueError, KeyError, TypeError):
        nearest = None
    if not isinstance(nearest, list) or not nearest:
        return [record.detail or "no example comes near"]
    out = []
    for near in nearest:
        if not isinstance(near, dict):
            continue
        name = near.get("name") or "(unnamed example)"
        out.append(
            f"nearest {name!r} ({near.get('request')}, {near.get('location')}): "
            f"lost on {near.get('rejectedBy')} — {near.get('reason')}"
        )
    return out
