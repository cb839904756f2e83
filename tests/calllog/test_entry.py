"""Entries as the server hands them over: masking and capping (`Redactor`), plain lines."""

from __future__ import annotations

import pytest

from postmock.calllog.entry import (
    Entry,
    entry_from_record,
    entry_line,
    plain_line,
    record_from_entry,
)
from postmock.calllog.record import CallRecord, body_text
from postmock.calllog.redact import MASK, Redactor


def raw_entry(
    query: str = "",
    req_h: tuple[tuple[bytes, bytes], ...] = ((b"Accept", b"*/*"),),
    req_b: bytes = b"",
    res_h: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),),
    res_b: bytes = b"{}",
) -> Entry:
    return (
        "0190a1b2c3d40001deadbeef", 1_714_557_600.5, "GET", "/users", query, req_h, req_b,
        200, res_h, res_b, "example", "OK", 1.25, 0.0, "Users › List users", "s1@127.0.0.1:3000",
        None,
    )  # fmt: skip


def test_nothing_to_hide_gives_back_the_same_tuple() -> None:
    entry = raw_entry(query="limit=10&page=2", req_b=b"x" * 10)
    assert Redactor(["X-Session"], body_cap=10).clean(entry) is entry


def test_raw_request_headers_are_masked_by_name_in_any_case() -> None:
    entry = raw_entry(req_h=((b"AUTHORIZATION", b"Bearer abc.def"), (b"X-Session", b"s1")))
    clean = Redactor(["x-session"]).clean(entry)
    assert clean[5] == (("AUTHORIZATION", f"Bearer {MASK}"), ("X-Session", MASK))


def test_response_headers_are_masked() -> None:
    clean = Redactor().clean(raw_entry(res_h=(("Set-Cookie", "sid=1"), ("X-A", "a"))))
    assert clean[8] == (("Set-Cookie", MASK), ("X-A", "a"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("api_key=k&a=1", f"api_key={MASK}&a=1"),
        ("api%5Fkey=k", f"api%5Fkey={MASK}"),  # an escaped name is still that name
        ("X+Session=k", f"X+Session={MASK}"),  # names *containing* a secret word
        ("Token=k", f"Token={MASK}"),
        ("x-session=k&tokens=2", f"x-session={MASK}&tokens={MASK}"),
        ("mytoken=1&access_token=T", f"mytoken={MASK}&access_token={MASK}"),
        ("x-trace=1&q=2", "x-trace=1&q=2"),
        ("x-trace=1&q=2", "x-trace=1&q=2"),
    ],
)
def test_queries(query: str, expected: str) -> None:
    assert Redactor(["X-Session"]).clean(raw_entry(query=query))[4] == expected


def test_byte_bodies_are_capped_by_bytes() -> None:
    redactor = Redactor(body_cap=4)
    kept = redactor.clean(raw_entry(req_b="éé".encode()))[6]  # 4 bytes
    assert body_text(kept) == "éé"
    cut = redactor.clean(raw_entry(req_b="ééé".encode()))[6]  # a character cut in two
    assert isinstance(cut, str) and cut.startswith("éé\n") and "6 bytes" in cut
    capped = redactor.clean(raw_entry(res_b=b"abcdef"))[9]
    assert isinstance(capped, str) and capped.startswith("abcd\n") and "6 bytes" in capped


def test_entry_line_is_the_records_plain_line() -> None:
    entry = raw_entry(query="a=1")
    record = record_from_entry(entry)
    assert entry_line(entry) == plain_line(record)
    assert entry_line(entry) == (
        '2024-05-01T10:00:00.500Z GET /users?a=1 200 "Users › List users" "OK" 1.2 ms '
        "id=0190a1b2c3d40001deadbeef"
    )
    assert record_from_entry(entry_from_record(record)) == record
    unmatched = CallRecord("i", 0.0, "GET", "/x", status_code=404, response_type="noMatch")
    assert '404 - "No matching requests" 0.0 ms (+' not in plain_line(unmatched)
    assert '404 - "No matching requests" 0.0 ms id=i' in plain_line(unmatched)
