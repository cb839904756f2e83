"""The call log: records, masking, batched writes that lose nothing, queries."""

from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from calllog_helpers import make_app, record

from postmock.calllog.filter import CallFilter
from postmock.calllog.log import CallLog
from postmock.calllog.record import CallRecord, iso_utc, parse_time
from postmock.calllog.redact import MASK
from postmock.calllog.store import CallStore, decode_cursor
from postmock.errors import LogStoreError

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]


def stored(path: Path) -> list[CallRecord]:
    """Every record in a store file, oldest first."""
    store = CallStore.open_readonly(path)
    try:
        records, cursor = store.select(CallFilter(), limit=1_000_000, direction="asc")
        assert cursor is None
        return records
    finally:
        store.close()


# -- records -------------------------------------------------------------------------------


def test_to_json_has_postman_field_names_and_round_trips() -> None:
    rec = record(
        method="post",
        path="/users",
        query="a=1",
        request_headers=[("Content-Type", "application/json")],
        request_body=b'{"name": "Ada"}',
        status_code=201,
        response_body='{"id": 1}',
        response_name="Created",
        duration_ms=1.5,
        delay_ms=300,
        served_at=1714557600.123,
    )
    data = rec.to_json()
    assert data == {
        "id": rec.id,
        "requestName": None,
        "responseName": "Created",
        "servedAt": "2024-05-01T10:00:00.123Z",
        "request": {
            "method": "POST",
            "path": "/users",
            "query": "a=1",
            "headers": {"Content-Type": "application/json"},
            "body": '{"name": "Ada"}',
        },
        "response": {"type": "example", "statusCode": 201, "headers": {}, "body": '{"id": 1}'},
        "durationMs": 1.5,
        "delayMs": 300,
        "detail": None,
        "server": "",
    }
    back = CallRecord.from_json(json.loads(json.dumps(data)))
    assert back.to_json() == data
    assert back.served_at == pytest.approx(rec.served_at, abs=0.001)


def test_from_json_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="not a postmock call record"):
        CallRecord.from_json({"id": "x"})


def test_ids_sort_by_time_and_are_unique() -> None:
    ids = [record(served_at=1000.0 + i / 1000).id for i in range(200)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1714557600", 1714557600.0),
        ("1714557600123", 1714557600.123),
        ("2024-05-01T10:00:00Z", 1714557600.0),
        ("2024-05-01T10:00:00.500+00:00", 1714557600.5),
        ("2024-05-01T12:00:00+02:00", 1714557600.0),
        ("2024-05-01T10:00:00", 1714557600.0),
    ],
    ids=["epoch-s", "epoch-ms", "iso-z", "iso-ms-offset", "iso-other-zone", "iso-naive-utc"],
)
def test_parse_time(text: str, expected: float) -> None:
    assert parse_time(text) == pytest.approx(expected)


def test_parse_time_relative_only_when_asked() -> None:
    assert parse_time("15m", relative=True, now=1000.0) == 100.0
    assert parse_time("2h", relative=True, now=10_000.0) == 2800.0
    with pytest.raises(ValueError, match="invalid time '15m'"):
        parse_time("15m")
    with pytest.raises(ValueError, match="or a duration"):
        parse_time("yesterday", relative=True)


def test_iso_utc_has_milliseconds_and_z() -> None:
    assert iso_utc(0.0) == "1970-01-01T00:00:00.000Z"


# -- masking and caps ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_secrets_are_masked_before_the_store(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.db", redact=["X-Session"])
    await log.start()
    log.add(
        record(
            request_headers=[
                ("Authorization", "Bearer abc.def"),
                ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
                ("x-api-key", "PMAK-123"),
                ("Cookie", "sid=1; theme=dark"),
                ("X-Session", "secret-session"),
                ("Accept", "application/json"),
            ],
            response_headers=[("Set-Cookie", "sid=2; Path=/"), ("X-API-KEY", "key")],
        )
    )
    await log.close()
    expected_request = (
        ("Authorization", "Bearer " + MASK),
        ("Proxy-Authorization", "Basic " + MASK),
        ("x-api-key", MASK),
        ("Cookie", MASK),
        ("X-Session", MASK),
        ("Accept", "application/json"),
    )
    expected_response = (("Set-Cookie", MASK), ("X-API-KEY", MASK))
    (rec,) = stored(tmp_path / "calls.db")
    assert rec.request_headers == expected_request
    assert rec.response_headers == expected_response
    raw = (tmp_path / "calls.db").read_bytes()
    for secret in (b"abc.def", b"PMAK-123", b"sid=1", b"secret-session", b"dXNlcjpwYXNz"):
        assert secret not in raw


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("page=2&limit=10", "page=2&limit=10"),
        ("api_key=PMAK-1&page=2", "api_key=****&page=2"),
        ("Access_Token=abc&x=1", "Access_Token=****&x=1"),
        ("session=s3cr3t", "session=****"),
        ("token=&flag", "token=&flag"),
        ("", ""),
    ],
    ids=["nothing-secret", "api-key", "case-insensitive", "redacted-name", "empty-value", "empty"],
)
async def test_secret_query_values_are_masked(tmp_path: Path, query: str, expected: str) -> None:
    log = CallLog(tmp_path / "calls.db", redact=["Session"])
    await log.start()
    log.add(record(query=query))
    await log.close()
    (rec,) = stored(tmp_path / "calls.db")
    assert rec.query == expected


@pytest.mark.asyncio
async def test_bodies_are_capped_and_marked(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.db", body_cap=10)
    await log.start()
    log.add(record(request_body="x" * 25, response_body="short"))
    await log.close()
    (rec,) = stored(tmp_path / "calls.db")
    assert rec.request_body.startswith("x" * 10)
    assert "x" * 11 not in rec.request_body
    assert "truncated, 25 bytes in total" in rec.request_body
    assert rec.response_body == "short"


# -- nothing lost --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_concurrent_http_calls_are_all_stored(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    log = CallLog(tmp_path / "calls.db")
    await log.start()
    client = await aiohttp_client(make_app(log))
    n = 300

    async def call(i: int) -> int:
        async with client.post(f"/items/{i}", data=f"body {i}") as resp:
            await resp.read()
            return resp.status

    statuses = await asyncio.gather(*(call(i) for i in range(n)))
    assert statuses == [200] * n
    await client.close()
    await log.close()
    records = stored(tmp_path / "calls.db")
    assert len(records) == n
    assert {r.path for r in records} == {f"/items/{i}" for i in range(n)}
    assert {r.request_body for r in records} == {f"body {i}" for i in range(n)}
    assert log.stats().dropped == 0


async def test_close_flushes_and_reopen_appends(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "calls.db"
    first = CallLog(path)
    await first.start()
    for i in range(2000):
        first.add(record(path=f"/a/{i}"))
    await first.close()
    assert len(stored(path)) == 2000
    second = CallLog(path)
    await second.start()
    second.add(record(path="/b"))
    await second.close()
    records = stored(path)
    assert len(records) == 2001
    assert records[-1].path == "/b"


async def test_add_after_close_never_raises_and_is_counted(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.db")
    await log.start()
    await log.close()
    log.add(record())
    assert log.stats().dropped == 1
    assert stored(tmp_path / "calls.db") == []


@pytest.mark.asyncio
async def test_a_killed_writer_is_restarted_and_nothing_is_lost(tmp_path: Path) -> None:
    messages = io.StringIO()
    log = CallLog(tmp_path / "calls.db", messages=messages)
    await log.start()
    log.add(record(path="/kept"))
    await log.flush()
    assert log.stats().written == 1
    first = log.writer_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    for i in range(3):
        log.add(record(path=f"/after/{i}"))  # never raises
        await asyncio.sleep(0.05)  # a frame goes out and meets the closed pipe
    await asyncio.wait_for(log.flush(), 10)
    stats = log.stats()
    assert (stats.written, stats.dropped, stats.pending) == (4, 0, 0)
    assert log.writer_pid not in (None, first)
    assert "writer process died (signal 9" in messages.getvalue()
    assert "writer restarted" in messages.getvalue()
    assert stats.health["status"] == "ok" and stats.health["writerRestarts"] == 1
    await log.close()
    assert [r.path for r in stored(tmp_path / "calls.db")] == ["/kept"] + [
        f"/after/{i}" for i in range(3)
    ]


def _write_many(path: str, tag: str, count: int) -> None:
    asyncio.run(_write_many_async(path, tag, count))


async def _write_many_async(path: str, tag: str, count: int) -> None:
    log = CallLog(path)
    await log.start()
    for i in range(count):
        log.add(record(path=f"/{tag}/{i}"))
        if i % 50 == 0:
            await log.flush()  # commit while the other process is also committing
    await log.close()


def test_two_processes_writing_one_file_all_land(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    m = 300
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_many, args=(str(path), tag, m)) for tag in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    paths = {r.path for r in stored(path)}
    assert len(paths) == 2 * m
    assert paths == {f"/{tag}/{i}" for tag in "ab" for i in range(m)}


_SIGTERM_SERVER = textwrap.dedent(
    """
    import sys
    from aiohttp import web
    from calllog_helpers import make_app
    from postmock.calllog.log import CallLog

    log = CallLog(sys.argv[1])

    async def start(app):
        await log.start()

    async def stop(app):
        await log.close()

    app = make_app(log)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None)
    """
)


@pytest.mark.slow
def test_sigterm_after_concurrent_calls_keeps_every_call(tmp_path: Path) -> None:
    import socket
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from calllog_helpers import wait_until

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "calls.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", _SIGTERM_SERVER, str(db), str(port)], env=env)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            urllib.request.urlopen(url + "/__postmock/health", timeout=5).close()
            return True
        except OSError:
            return False

    try:
        wait_until(up, "the server to start")
        n = 200

        def call(i: int) -> int:
            with urllib.request.urlopen(f"{url}/n/{i}", timeout=10) as resp:
                return int(resp.status)

        with ThreadPoolExecutor(16) as pool:
            assert list(pool.map(call, range(n))) == [200] * n
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sorted(r.path for r in stored(db)) == sorted(f"/n/{i}" for i in range(n))


async def test_retention_keeps_the_newest(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.db", max_records=10)
    await log.start()
    for i in range(25):
        log.add(record(path=f"/{i}", served_at=1000.0 + i))
        if i % 7 == 0:
            await log.flush()
    await log.close()
    assert [r.path for r in stored(tmp_path / "calls.db")] == [f"/{i}" for i in range(15, 25)]


# -- queries -------------------------------------------------------------------------------

QUERY_RECORDS = [
    dict(path="/users", status_code=200, response_name="Users", served_at=100.0),
    dict(method="POST", path="/Users/7", status_code=201, response_name="Created", served_at=200.0),
    dict(path="/orders", status_code=404, response_type="noMatch", response_name=None,
         served_at=300.0, request_body="needle in request"),
    dict(method="DELETE", path="/orders/1", status_code=500, response_type="error",
         response_name=None, served_at=400.0, response_body='{"err": "NEEDLE"}'),
]  # fmt: skip


@pytest.fixture
async def query_log(tmp_path: Path) -> AsyncIterator[CallLog]:
    log = CallLog(tmp_path / "calls.db")
    await log.start()
    for fields in QUERY_RECORDS:
        log.add(record(**fields))
    await log.flush()
    yield log
    await log.close()


@pytest.mark.parametrize(
    ("filters", "paths"),
    [
        ({}, ["/orders/1", "/orders", "/Users/7", "/users"]),
        ({"status": 404}, ["/orders"]),
        ({"status": "2xx"}, ["/Users/7", "/users"]),
        ({"method": "post"}, ["/Users/7"]),
        ({"path": "USERS"}, ["/Users/7", "/users"]),
        ({"response_name": "creat"}, ["/Users/7"]),
        ({"response_type": "noMatch"}, ["/orders"]),
        ({"response_type": "error"}, ["/orders/1"]),
        ({"search": "needle"}, ["/orders/1", "/orders"]),
        ({"since": 200.0}, ["/orders/1", "/orders", "/Users/7"]),
        ({"until": 200.0}, ["/Users/7", "/users"]),
        ({"since": 150.0, "until": 350.0, "path": "orders"}, ["/orders"]),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else "",
)
@pytest.mark.asyncio
async def test_query_filters(query_log: CallLog, filters: dict[str, Any], paths: list[str]) -> None:
    flt = CallFilter(**filters)
    records, cursor = await query_log.select(flt)
    assert [r.path for r in records] == paths
    assert cursor is None
    # The filter alone, on every call, picks the same ones (it is what `select` applies).
    everything, _ = await query_log.select(CallFilter())
    assert [r.path for r in everything if flt.matches(r)] == paths


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.asyncio
async def test_paging_visits_every_record_once(tmp_path: Path, direction: str) -> None:
    log = CallLog(tmp_path / "calls.db")
    await log.start()
    for i in range(23):
        log.add(record(path=f"/{i}", served_at=1000.0 + (i // 3)))  # ties on servedAt
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page, cursor = await log.select(
            CallFilter(),
            limit=5,
            cursor=cursor,
            direction=direction,  # type: ignore[arg-type]
        )
        seen += [r.path for r in page]
        pages += 1
        if cursor is None:
            break
        decode_cursor(cursor)
    await log.close()
    assert pages == 5
    expected = [f"/{i}" for i in range(23)]
    assert seen == (expected if direction == "asc" else expected[::-1])


@pytest.mark.asyncio
async def test_get_by_id(query_log: CallLog) -> None:
    records, _ = await query_log.select(CallFilter(), limit=1)
    assert await query_log.get(records[0].id) == records[0]
    assert await query_log.get("nope") is None


async def test_bad_query_values_raise_value_error(query_log: CallLog) -> None:
    store = CallStore.open_readonly(query_log.path)
    try:
        with pytest.raises(ValueError, match="invalid status"):
            store.select(CallFilter(status="abc"))
        with pytest.raises(ValueError, match="invalid cursor"):
            store.select(CallFilter(), cursor="%%%")
        with pytest.raises(ValueError, match="invalid direction"):
            store.select(CallFilter(), direction="up")  # type: ignore[arg-type]
    finally:
        store.close()


# -- opening files -------------------------------------------------------------------------


def test_open_readonly_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LogStoreError, match="no call log here"):
        CallStore.open_readonly(tmp_path / "nope.db")


def test_open_readonly_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite at all, not even close" * 10)
    with pytest.raises(LogStoreError, match="not a postmock call log") as info:
        CallStore.open_readonly(path)
    assert str(path) in str(info.value)


async def test_other_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE calls (x)")
    conn.commit()
    conn.close()
    with pytest.raises(LogStoreError, match="not a postmock call log"):
        CallStore.open_readonly(path)
    with pytest.raises(LogStoreError, match="not a postmock call log"):
        await CallLog(path).start()
