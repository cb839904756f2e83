"""`postmock logs` on real store files and a real running server."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from calllog_helpers import ServerThread, record, wait_until
from click.testing import CliRunner
from rich.console import Console

from postmock.calllog.entry import entry_from_record, plain_line
from postmock.calllog.filter import CallFilter
from postmock.calllog.ids import short_id
from postmock.calllog.record import NO_MATCH, CallRecord
from postmock.calllog.store import CallStore
from postmock.cli import cli
from postmock.views.logs import LogsOptions, run_logs


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, list[CallRecord]]:
    path = tmp_path / "calls.db"
    records = [
        record(path="/users", response_name="Users", served_at=1000.0),
        record(method="POST", path="/users", status_code=201, response_name="Created",
               served_at=1001.0, request_body='{"name": "Ada"}'),
        record(path="/missing", status_code=404, response_type="noMatch", response_name=None,
               served_at=1002.0),
        record(path="/orders", status_code=500, response_type="error", response_name=None,
               served_at=1003.0, response_body="needle"),
    ]  # fmt: skip
    store = CallStore.open(path)
    store.write([entry_from_record(rec) for rec in records])
    store.close()
    return path, records


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["logs", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_db_piped_prints_plain_lines_oldest_first(store: tuple[Path, list[CallRecord]]) -> None:
    path, records = store
    code, out, err = invoke("--db", str(path))
    assert (code, err) == (0, "")
    assert out.splitlines() == [plain_line(r) for r in records]


def test_db_json_is_ndjson_in_the_api_shape(store: tuple[Path, list[CallRecord]]) -> None:
    path, records = store
    code, out, _ = invoke("--db", str(path), "--json", "--limit", "2")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line.pop("seq") for line in lines] == [3, 4]  # call numbers in the store
    assert lines == [r.to_json() for r in records[2:]]


@pytest.mark.parametrize(
    ("args", "paths"),
    [
        (["--status", "4xx"], ["/missing"]),
        (["--status", "201"], ["/users"]),
        (["--method", "post"], ["/users"]),
        (["--path", "ORD"], ["/orders"]),
        (["--search", "needle"], ["/orders"]),
        (["--since", "1970-01-01T00:16:42Z"], ["/missing", "/orders"]),
        (["--since", "1002.5"], ["/orders"]),
        (["--limit", "1"], ["/orders"]),
    ],
)
def test_db_filters(
    store: tuple[Path, list[CallRecord]], args: list[str], paths: list[str]
) -> None:
    path, _ = store
    code, out, _ = invoke("--db", str(path), "--json", *args)
    assert code == 0
    assert [json.loads(line)["request"]["path"] for line in out.splitlines()] == paths


def test_bad_option_values_are_usage_errors(store: tuple[Path, list[CallRecord]]) -> None:
    path, _ = store
    assert invoke("--db", str(path), "--status", "teapot")[0] == 2
    assert invoke("--db", str(path), "--since", "last tuesday")[0] == 2


def test_show_one_call_in_full(store: tuple[Path, list[CallRecord]]) -> None:
    path, records = store
    code, out, _ = invoke("--db", str(path), "--show", records[1].id)
    assert code == 0
    assert "POST /users" in out
    assert '"name": "Ada"' in out
    code, out, _ = invoke("--db", str(path), "--show", records[1].id, "--json")
    assert json.loads(out) == {**records[1].to_json(), "seq": 2}
    code, _, err = invoke("--db", str(path), "--show", "nope")
    assert code == 1
    assert "no call with id 'nope'" in err


def test_tty_gets_a_rich_table(store: tuple[Path, list[CallRecord]]) -> None:
    path, records = store
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=True)
    run_logs(LogsOptions(db=path), console)
    text = buffer.getvalue()
    assert "\x1b[" in text
    assert "Last 4 calls" in text
    assert NO_MATCH in text
    assert all(short_id(r.id) in text for r in records)  # the ids `--show` takes


def test_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "collection.json"
    path.write_text('{"info": {}}' * 100)
    code, out, err = invoke("--db", str(path))
    assert (code, out) == (1, "")
    assert err.strip() == f"Error: {path}: not a postmock call log (file is not a database)"
    code, _, err = invoke("--db", str(tmp_path / "absent.db"))
    assert code == 1
    assert "no call log here" in err


def test_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    url = f"http://127.0.0.1:{port}"
    code, out, err = invoke("--url", url)
    assert (code, out) == (1, "")
    assert err.strip() == (
        f"Error: cannot reach postmock at {url}: connection refused — is `postmock serve` running?"
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(tmp_path / "served.db").start()
    yield running
    running.stop()


def test_url_lists_calls_across_pages(server: ServerThread) -> None:
    for i in range(130):
        assert server.call(f"/items/{i}") == 200
    server.call("/missing/x?status=404")
    code, out, _ = invoke("--url", server.url, "--json", "--limit", "120")
    assert code == 0
    paths = [json.loads(line)["request"]["path"] for line in out.splitlines()]
    assert paths == [f"/items/{i}" for i in range(11, 130)] + ["/missing/x"]
    code, out, _ = invoke("--url", server.url, "--status", "404")
    assert [line.split()[2] for line in out.splitlines()] == ["/missing/x?status=404"]


def test_url_show(server: ServerThread) -> None:
    server.call("/one", method="POST", body=b'{"a": [1, 2]}')
    code, out, _ = invoke("--url", server.url, "--json")
    call_id = json.loads(out)["id"]
    code, out, _ = invoke("--url", server.url, "--show", call_id)
    assert code == 0
    assert "POST /one" in out and '"a": [' in out
    code, _, err = invoke("--url", server.url, "--show", "missing-id")
    assert code == 1 and "no call with id 'missing-id'" in err
    code, out, _ = invoke("--url", server.url, "--show", short_id(call_id))
    assert code == 0 and "POST /one" in out
    server.call("/two")
    code, _, err = invoke("--url", server.url, "--show", call_id[-8:])  # every call has it
    assert code == 1 and "is ambiguous" in err
    assert len(err.strip().splitlines()) == 1, err


def test_url_needs_the_api_key(tmp_path: Path) -> None:
    private = ServerThread(tmp_path / "private.db", api_keys=["s3cret"]).start()
    try:
        private.call("/x")
        code, _, err = invoke("--url", private.url)
        assert code == 1
        assert "wants an API key" in err
        code, out, _ = invoke("--url", private.url, "--api-key", "s3cret", "--json")
        assert code == 0 and json.loads(out)["request"]["path"] == "/x"
    finally:
        private.stop()


def test_server_without_the_api(tmp_path: Path) -> None:
    plain = ServerThread(tmp_path / "plain.db", api=False).start()
    try:
        code, _, err = invoke("--url", plain.url)
        assert code == 1
        assert err.strip() == f"Error: {plain.url} is not a postmock server"
    finally:
        plain.stop()


def test_follow_url_shows_history_then_new_calls_until_server_stops(
    server: ServerThread,
) -> None:
    server.call("/old")
    buffer = io.StringIO()
    options = LogsOptions(url=server.url, follow=True, json=True)
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            run_logs(options, Console(file=buffer, force_terminal=False))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=follow)
    thread.start()
    wait_until(lambda: server.health()["subscribers"] == 1, "the follower to subscribe")
    server.call("/new/1")
    server.call("/new/2", method="DELETE")
    wait_until(lambda: buffer.getvalue().count("\n") == 3, "three calls to be shown")
    server.stop()  # the stream ends: follow returns
    thread.join(30)
    assert not thread.is_alive() and errors == []
    shown = [json.loads(line)["request"] for line in buffer.getvalue().splitlines()]
    assert [(r["method"], r["path"]) for r in shown] == [
        ("GET", "/old"),
        ("GET", "/new/1"),
        ("DELETE", "/new/2"),
    ]


def test_follow_db_polls_the_file(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    store = CallStore.open(path)
    store.write(
        [
            entry_from_record(record(path="/old")),
            entry_from_record(record(path="/old-but-filtered", status_code=500)),
        ]
    )
    buffer = io.StringIO()
    stop = threading.Event()
    options = LogsOptions(db=path, follow=True, filter=CallFilter(status="2xx"), poll_interval=0.01)
    thread = threading.Thread(
        target=run_logs, args=(options, Console(file=buffer, force_terminal=False), stop)
    )
    thread.start()
    try:
        wait_until(lambda: "/old" in buffer.getvalue(), "the history")
        news = [record(path="/new"), record(path="/new-but-filtered", status_code=404),
                record(path="/newer")]  # fmt: skip
        store.write([entry_from_record(r) for r in news])
        wait_until(lambda: "/newer" in buffer.getvalue(), "the new calls")
    finally:
        stop.set()
        thread.join(30)
        store.close()
    assert [line.split()[2] for line in buffer.getvalue().splitlines()] == [
        "/old",
        "/new",
        "/newer",
    ]


def test_follow_db_on_a_terminal_is_a_live_table(store: tuple[Path, list[CallRecord]]) -> None:
    path, _ = store
    buffer = io.StringIO()
    stop = threading.Event()
    console = Console(file=buffer, width=100, force_terminal=True)
    options = LogsOptions(db=path, follow=True, limit=2, poll_interval=0.01)
    thread = threading.Thread(target=run_logs, args=(options, console, stop))
    thread.start()
    try:
        wait_until(lambda: "/orders" in buffer.getvalue(), "the live table")
    finally:
        stop.set()
        thread.join(30)
    text = buffer.getvalue()
    assert "following (Ctrl-C to stop)" in text
    assert "\x1b[" in text
    assert "/missing" in text and NO_MATCH in text
    assert "/users" not in text  # only the newest `limit` calls
