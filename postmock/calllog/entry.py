"""A served call as the hot path hands it over (`Entry`), and what happens to it before it
is kept: secrets masked, bodies capped (`Redactor`), one plain line (`entry_line`).

The server builds one tuple per call and the writer process stores the tuples as they
come (`calllog.store`): nothing here builds a `CallRecord` unless something must change, and
the common call, with no secret and a small body, passes through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final, cast

from postmock.calllog.record import (
    NO_MATCH,
    CallRecord,
    Headers,
    ResponseType,
    body_field,
    clean_text,
    format_duration,
    iso_utc,
    pairs,
)

RawHeaders = tuple[tuple[bytes, bytes], ...]
#: A served call as the server hands it over: a plain tuple, cheap to build and to
#: marshal. Request headers may be aiohttp's raw bytes pairs and bodies bytes;
#: `Redactor.clean` masks and caps; `record_from_entry` makes a record. The field
#: positions are named below, once; `calllog.frames.LAYOUT` numbers this layout.
Entry = tuple[
    str, float, str, str, str, "Headers | RawHeaders", "bytes | str", int, Headers, "bytes | str",
    str, "str | None", float, float, "str | None", str, "str | None",
]  # fmt: skip

#: Field positions of an `Entry`. New fields go at the end (and `calllog.frames.LAYOUT`
#: goes up by one, with an upgrade for stored batches of the older layouts).
ID: Final = 0
SERVED_AT: Final = 1
METHOD: Final = 2
PATH: Final = 3
QUERY: Final = 4
REQUEST_HEADERS: Final = 5
REQUEST_BODY: Final = 6
STATUS: Final = 7
RESPONSE_HEADERS: Final = 8
RESPONSE_BODY: Final = 9
RESPONSE_TYPE: Final = 10
RESPONSE_NAME: Final = 11
DURATION_MS: Final = 12
DELAY_MS: Final = 13
REQUEST_NAME: Final = 14
SERVER: Final = 15
DETAIL: Final = 16
FIELDS: Final = 17


def entry_from_record(record: CallRecord) -> Entry:
    """The hot-path tuple for `record` (for callers that built a CallRecord)."""
    r = record
    return (
        r.id, r.served_at, r.method, r.path, r.query, r.request_headers, r.request_body,
        r.status_code, r.response_headers, r.response_body, r.response_type, r.response_name,
        r.duration_ms, r.delay_ms, r.request_name, r.server, r.detail,
    )  # fmt: skip


def record_from_entry(entry: Entry) -> CallRecord:
    """The CallRecord for an entry: headers and bodies as text (masking is `Redactor`'s)."""
    (cid, served_at, method, path, query, req_h, req_b, status, res_h, res_b, kind, name,
     duration, delay, request_name, server, detail) = entry  # fmt: skip
    req_text, req_enc = body_field(req_b)
    res_text, res_enc = body_field(res_b)
    return CallRecord(
        cid, served_at, method, clean_text(path), clean_text(query), pairs(req_h), req_text,
        status, pairs(res_h), res_text, cast(ResponseType, kind), name, duration, delay,
        request_name, server, detail, 0, req_enc, res_enc,
    )  # fmt: skip


_labels: dict[str, str] = {}


def _quoted(label: str) -> str:
    if len(_labels) > 4096:
        _labels.clear()
    quoted = _labels[label] = json.dumps(label, ensure_ascii=False)
    return quoted


def entry_lines(entries: Iterable[Entry]) -> str:
    """The plain line of each entry, each ending in a newline.

    `time method path status "request" "response" duration id=…`: the request is the
    collection's `Folder › Request` (`-` when none answered), the response the example's
    name, or for a miss or an error why (`no match · nearest: Pets › Get pet · path
    differs`, `body too large`). One loop for a whole batch (the writer prints thousands
    a second): the time up to the second is formatted once per second and each label
    is quoted once.
    """
    out: list[str] = []
    append = out.append
    second, stamp = -1, ""
    for (
        cid,
        served_at,
        method,
        path,
        query,
        _,
        _,
        status,
        _,
        _,
        kind,
        name,
        took,
        delay,
        request_name,
        _,
        detail,
        *_,
    ) in entries:
        millis = int(served_at * 1000)
        if millis // 1000 != second:
            second = millis // 1000
            stamp = iso_utc(served_at)[:-5]  # 2024-05-01T10:00:00 (without .123Z)
        label = response_words(kind, name, detail)
        quoted = _labels.get(label) or _quoted(label)
        request = (_labels.get(request_name) or _quoted(request_name)) if request_name else "-"
        full_path = f"{path}?{query}" if query else path
        append(
            f"{stamp}.{millis % 1000:03d}Z {method} {full_path} {status} {request} {quoted} "
            f"{format_duration(took, delay)} id={cid}\n"
        )
    return "".join(out)


def response_words(kind: str, name: str | None, detail: str | None) -> str:
    """The example's name, or why there is none, in a few words."""
    if kind == "noMatch":
        return f"no match · {detail}" if detail else NO_MATCH
    if kind == "error":
        return detail or "error"
    if kind == "preflight":
        return name or "CORS preflight"
    if kind == "proxied":  # `serve --upstream`: the detail names the upstream
        return f"proxied · {detail}" if detail else "proxied"
    return name or "-"


def entry_json_lines(entries: Iterable[Entry]) -> str:
    """Each entry's record as one JSON line (`serve --call-lines json`), the API's shape."""
    dumps = json.dumps
    return "".join(
        dumps(record_from_entry(entry).to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
        for entry in entries
    )


def entry_line(entry: Entry) -> str:
    """One line per call for logs and pipes (`plain_line` for a record)."""
    return entry_lines((entry,))[:-1]


def plain_line(record: CallRecord) -> str:
    """One line per call for logs and pipes."""
    return entry_line(entry_from_record(record))
