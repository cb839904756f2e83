"""The store's batches ("frames"): retention across them, reads that stop early, old files."""

from __future__ import annotations

import io
import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postmock.calllog.entry import Entry, entry_from_record
from postmock.calllog.filter import CallFilter
from postmock.calllog.frames import FrameReader, encode_frame
from postmock.calllog.record import CallRecord
from postmock.calllog.redact import Redactor
from postmock.calllog.store import CallStore
from postmock.calllog.writer import Sink
from postmock.errors import LogStoreError


def entry(n: int, served_at: float | None = None, **fields: object) -> Entry:
    values: dict[str, object] = {
        "id": f"call-{n:05d}",
        "served_at": 1_700_000_000.0 + n if served_at is None else served_at,
        "method": "GET",
        "path": f"/{n}",
    }
    values.update(fields)
    return entry_from_record(CallRecord(**values))  # type: ignore[arg-type]


def paths(records: list[CallRecord]) -> list[str]:
    return [r.path for r in records]


@pytest.fixture
def store(tmp_path: Path) -> CallStore:
    return CallStore.open(tmp_path / "calls.db")


def test_retention_cuts_inside_a_batch_and_drops_whole_older_ones(store: CallStore) -> None:
    for start in range(0, 25, 5):  # five batches of five calls
        store.write([entry(n) for n in range(start, start + 5)], max_records=7)
    kept, _ = store.select(CallFilter(), limit=100, direction="asc")
    assert paths(kept) == [f"/{n}" for n in range(18, 25)]
    assert store.count() == 7
    store.write([entry(n) for n in range(25, 37)], max_records=7)  # one batch over the limit
    kept, _ = store.select(CallFilter(), limit=100, direction="asc")
    assert paths(kept) == [f"/{n}" for n in range(30, 37)]
    assert store.count() == 7


def test_raw_request_headers_and_byte_bodies_read_back_as_text(store: CallStore) -> None:
    raw: Entry = (
        "id-1", 1_700_000_000.0, "POST", "/u", "", ((b"Accept", b"text/plain"),), b"caf\xc3\xa9",
        201, (("X-A", "1"),), b"\xff ok", "example", "Made", 1.0, 0.0, None, "", None,
    )  # fmt: skip
    store.write([raw])
    got = store.get("id-1")
    assert got is not None
    assert got.request_headers == (("Accept", "text/plain"),)
    assert (got.request_body, got.response_body) == ("café", "/yBvaw==")  # not UTF-8: base64
    assert (got.request_body_encoding, got.response_body_encoding) == (None, "base64")


def test_get_finds_ids_in_and_out_of_their_millisecond(store: CallStore) -> None:
    calls = [entry(n) for n in range(5)]
    late = CallRecord.create(method="GET", path="/late", served_at=1_700_000_100.0)
    store.write([*calls, entry_from_record(late)])
    assert store.get("call-00003") is not None  # not a time-sortable id: full look
    found = store.get(late.id)
    assert found is not None and found.path == "/late"
    assert store.get("0" * 24) is None


def test_calls_after_a_number_in_stored_order_and_gaps_counted(store: CallStore) -> None:
    store.write([entry(1), entry(2)])
    top, _cut = store.top()
    store.write([entry(4), entry(3)])
    store.write([entry(5)])
    records, last, skipped = store.calls_after(top, CallFilter())
    assert paths(records) == ["/4", "/3", "/5"]
    assert [r.seq for r in records] == [3, 4, 5]
    assert (last, skipped) == (store.top()[0], 0)
    assert store.calls_after(last, CallFilter()) == ([], last, 0)
    assert paths(store.newest(CallFilter(), 2, 4)) == ["/4", "/3"]
    store.write([entry(6), entry(7)], max_records=2)  # retention: calls 1-5 are gone
    records, last, skipped = store.calls_after(1, CallFilter())
    assert (paths(records), last, skipped) == (["/6", "/7"], 7, 4)


def test_call_numbers_keep_growing_after_every_row_is_deleted(store: CallStore) -> None:
    store.write([entry(1), entry(2)])
    store._conn.execute("DELETE FROM frames")  # what a clear does
    store.write([entry(3)])
    (record,) = store.calls_after(0, CallFilter())[0]
    assert record.seq == 3


def test_an_unreadable_batch_is_a_clear_error(store: CallStore, tmp_path: Path) -> None:
    store.write([entry(1)])
    conn = sqlite3.connect(tmp_path / "calls.db")
    conn.execute("UPDATE frames SET calls = x'4d00ff'")
    conn.commit()
    conn.close()
    with pytest.raises(LogStoreError, match="unreadable"):
        store.select(CallFilter())


def _version_1_file(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE calls (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,
            served_at REAL NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
            query TEXT NOT NULL, request_headers TEXT NOT NULL, request_body TEXT NOT NULL,
            status_code INTEGER NOT NULL, response_headers TEXT NOT NULL,
            response_body TEXT NOT NULL, response_type TEXT NOT NULL, response_name TEXT,
            duration_ms REAL NOT NULL, delay_ms REAL NOT NULL);
        CREATE INDEX calls_served_at ON calls (served_at, id);
        PRAGMA application_id = 1347240780;
        PRAGMA user_version = 1;
        """
    )
    for n in range(rows):
        conn.execute(
            "INSERT INTO calls (id, served_at, method, path, query, request_headers, "
            "request_body, status_code, response_headers, response_body, response_type, "
            "response_name, duration_ms, delay_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (f"old-{n}", 1_600_000_000.0 + n, "GET", f"/old/{n}", "a=1",
             json.dumps([["Accept", "*/*"]]), "", 200, json.dumps([["X-N", str(n)]]), "{}",
             "example", "Old", 0.5, 0.0),
        )  # fmt: skip
    conn.commit()
    conn.close()


def test_a_version_1_file_is_upgraded_with_its_calls(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    _version_1_file(path, 1500)
    with pytest.raises(LogStoreError, match="older postmock"):
        CallStore.open_readonly(path)
    store = CallStore.open(path)
    assert store.count() == 1500
    newest, _ = store.select(CallFilter(), limit=1)
    assert newest[0].to_json()["request"]["headers"] == {"Accept": "*/*"}
    assert newest[0].response_headers == (("X-N", "1499"),)
    store.close()
    reader = CallStore.open_readonly(path)
    assert reader.get("old-7") is not None
    reader.close()


def test_redacted_entries_keep_no_secret_on_disk(store: CallStore, tmp_path: Path) -> None:
    clean = Redactor(["X-Session"], body_cap=-1).clean
    secret: Entry = (
        "id-s", 1_700_000_000.0, "GET", "/s", "api%5Fkey=hunter2", ((b"x-session", b"hunter2"),),
        b"", 200, (("Set-Cookie", "sid=hunter2"),), b"", "example", None, 1.0, 0.0, None, "", None,
    )  # fmt: skip
    store.write([clean(secret)])
    got = store.get("id-s")
    assert got is not None
    assert (got.query, got.request_headers, got.response_headers) == (
        "api%5Fkey=****",
        (("x-session", "****"),),
        (("Set-Cookie", "****"),),
    )
    store.close()  # checkpoints the WAL into the file
    assert b"hunter2" not in (tmp_path / "calls.db").read_bytes()


# Frames overlap in time (a delayed call is stored after quicker, later ones; workers write
# in turns): paging must still give every call once, in servedAt order.
batches = st.lists(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=6),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(batches=batches, limit=st.integers(1, 7), desc=st.booleans())
def test_paging_matches_a_full_sort(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[int]], limit: int, desc: bool
) -> None:
    store = CallStore.open(tmp_path_factory.mktemp("paging") / "calls.db")
    n = 0
    expected = []
    for times in batches:
        frame = []
        for t in times:
            frame.append(entry(n, served_at=1_700_000_000.0 + t / 4))
            expected.append((1_700_000_000.0 + t / 4, f"call-{n:05d}"))
            n += 1
        store.write(frame)
    expected.sort(reverse=desc)
    seen: list[tuple[float, str]] = []
    cursor = None
    while True:
        page, cursor = store.select(
            CallFilter(), limit=limit, cursor=cursor, direction="desc" if desc else "asc"
        )
        assert len(page) <= limit
        seen += [(r.served_at, r.id) for r in page]
        if cursor is None:
            break
    store.close()
    assert seen == expected


def test_the_writer_stores_clean_frames_as_sent_and_masks_the_others(tmp_path: Path) -> None:
    clean_calls = [entry(n) for n in range(3)]
    secret = entry(3, request_headers=(("Authorization", "Bearer hunter2"),))
    read_end, write_end = os.pipe()
    for number, items in ((1, [*clean_calls]), (2, [secret])):
        os.write(write_end, encode_frame(items, number))
    os.close(write_end)
    frames = FrameReader(read_end).read()
    os.close(read_end)
    status = io.StringIO()
    sink = Sink(str(tmp_path / "calls.db"), max_records=100, redact=(), origin="o1",
                lines=None, status=status)  # fmt: skip
    sink.handle(frames)
    assert json.loads(status.getvalue()) == {"acked": 2}
    assert sink.store is not None
    blobs = [row[0] for row in sink.store._conn.execute("SELECT calls FROM frames ORDER BY seq")]
    assert blobs[0] == frames[0][1]  # stored as it came through the pipe
    # Replayed after a restart: a new writer of the same origin skips what is stored.
    again = Sink(str(tmp_path / "calls.db"), max_records=100, redact=(), origin="o1",
                 lines=None, status=io.StringIO())  # fmt: skip
    again.handle(frames)
    assert again.store.count() == 4
    again.close()
    assert b"hunter2" not in blobs[1]
    records, _ = sink.store.select(CallFilter(), direction="asc")
    assert paths(records) == ["/0", "/1", "/2", "/3"]
    assert records[3].request_headers == (("Authorization", "Bearer ****"),)
    sink.close()


def test_every_batch_carries_its_layout_and_older_layouts_read_back(tmp_path: Path) -> None:
    import marshal

    from postmock.calllog.frames import LAYOUT, LAYOUT_PREFIX

    path = tmp_path / "calls.db"
    store = CallStore.open(path)
    store.write([entry(1, request_name="Users › List users", server="s@h:1", detail="d")])
    # A batch as postmock 0.1 wrote it: `M`, then marshal of 14-field entries.
    old = entry(2)[:14]
    store.write([old], blob=b"M" + marshal.dumps([old], 4))
    (blob,) = store._conn.execute("SELECT calls FROM frames ORDER BY seq LIMIT 1").fetchone()
    assert blob[:2] == LAYOUT_PREFIX == b"L" + bytes([LAYOUT])
    new, upgraded = store.select(CallFilter(), direction="asc")[0]
    assert (new.request_name, new.server, new.detail) == ("Users › List users", "s@h:1", "d")
    assert (upgraded.path, upgraded.request_name, upgraded.server) == ("/2", None, "")
    store.close()


def test_a_batch_from_a_newer_postmock_is_a_one_line_error(tmp_path: Path) -> None:
    import marshal

    from postmock.calllog.frames import LAYOUT

    path = tmp_path / "calls.db"
    store = CallStore.open(path)
    future = (*entry(1), "a field from the future")
    store.write([entry(1)], blob=b"L" + bytes([LAYOUT + 1]) + marshal.dumps([future], 4))
    with pytest.raises(LogStoreError, match="newer postmock") as info:
        store.select(CallFilter())
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    store.close()
