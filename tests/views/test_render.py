"""Rich output of calls: table, one call in full, plain lines, the live view (TTY and piped)."""

from __future__ import annotations

import asyncio
import io
import re

import pytest
from calllog_helpers import record
from rich.console import Console
from rich.text import Text

from postmock.calllog.entry import plain_line
from postmock.calllog.record import NO_MATCH, CallRecord
from postmock.views.banner import BannerInfo
from postmock.views.live import LiveCallView
from postmock.views.render import call_detail, calls_table, status_style

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def console(tty: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    # "auto" is what a real pipe gets: no colours
    out = Console(
        file=buffer, width=100, force_terminal=tty, color_system="standard" if tty else "auto"
    )
    return out, buffer


def sample() -> list[CallRecord]:
    return [
        record(path="/users", query="page=2", response_name="List users", duration_ms=3.25),
        record(method="POST", path="/users", status_code=301, response_name="Moved"),
        record(path="/nope", status_code=404, response_type="noMatch", response_name=None),
        record(path="/boom", status_code=503, response_type="error", response_name=None),
    ]


@pytest.mark.parametrize(
    ("code", "style"),
    [(200, "green"), (204, "green"), (302, "cyan"), (404, "yellow"), (500, "red")],
)
def test_status_colours_by_class(code: int, style: str) -> None:
    assert status_style(code) == style


def test_calls_table_rows_and_colours() -> None:
    table = calls_table(sample(), title="Calls")
    assert [c.header for c in table.columns] == [
        "Time",
        "ID",
        "Method",
        "Path",
        "Status",
        "Request",
        "Response",
        "Duration",
    ]
    status_cells = list(table.columns[4].cells)
    assert [(str(c), c.style) for c in status_cells if isinstance(c, Text)] == [
        ("200", "green"),
        ("301", "cyan"),
        ("404", "yellow"),
        ("503", "red"),
    ]
    out, buffer = console(tty=True)
    out.print(table)
    text = buffer.getvalue()
    assert re.search(r"\x1b\[32m\s*200", text)  # green on a terminal
    assert re.search(r"\x1b\[31m\s*503", text)
    plain = ANSI.sub("", text)
    assert "/users?page=2" in plain
    assert "List users" in plain
    assert NO_MATCH in plain
    assert "3.2 ms" in plain


def test_calls_table_piped_has_no_escape_codes() -> None:
    out, buffer = console(tty=False)
    out.print(calls_table(sample()))
    assert "\x1b[" not in buffer.getvalue()
    assert NO_MATCH in buffer.getvalue()


@pytest.mark.parametrize(
    ("width", "headers"),
    [
        (140, ["Time", "ID", "Method", "Path", "Status", "Request", "Response", "Duration"]),
        (110, ["ID", "Method", "Path", "Status", "Request", "Response", "Duration"]),
        (80, ["ID", "Method", "Path", "Status", "Request", "Response"]),
    ],
)
def test_narrow_consoles_drop_time_then_duration(width: int, headers: list[str]) -> None:
    table = calls_table(sample(), width=width)
    assert [c.header for c in table.columns] == headers
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(table)
    assert max(len(line) for line in buffer.getvalue().splitlines()) <= width


def test_plain_line() -> None:
    rec = record(
        method="PUT",
        path="/a",
        query="b=1",
        status_code=404,
        response_type="noMatch",
        response_name=None,
        served_at=1714557600.5,
        duration_ms=2.0,
        delay_ms=300,
    )
    assert plain_line(rec) == (
        '2024-05-01T10:00:00.500Z PUT /a?b=1 404 - "No matching requests" '
        f"2.0 ms (+300 delay) id={rec.id}"
    )
    named = record(response_name="response", request_name="repos › Get a repository")
    assert ' 200 "repos › Get a repository" "response" ' in plain_line(named)
    miss = record(status_code=404, response_type="noMatch", response_name=None,
                  detail="nearest: Pets › Get pet · path differs")  # fmt: skip
    assert ' 404 - "no match · nearest: Pets › Get pet · path differs" ' in plain_line(miss)
    error = record(status_code=413, response_type="error", response_name=None,
                   detail="body too large")  # fmt: skip
    assert ' 413 - "body too large" ' in plain_line(error)


@pytest.mark.parametrize("tty", [True, False], ids=["tty", "piped"])
def test_call_detail_shows_everything_and_pretty_prints_json(tty: bool) -> None:
    rec = record(
        method="POST",
        path="/users",
        request_headers=[("Content-Type", "application/json"), ("X-Trace", "t-1")],
        request_body='{"name":"Ada","tags":["a"]}',
        status_code=201,
        response_headers=[("Content-Type", "text/plain")],
        response_body="created!",
        response_name="Created",
    )
    out, buffer = console(tty)
    out.print(call_detail(rec))
    text = ANSI.sub("", buffer.getvalue())
    assert ("\x1b[" in buffer.getvalue()) is tty
    for part in ("POST /users", "201", "Created", "Request", "Response", "X-Trace:", "t-1", rec.id):
        assert part in text
    body_lines = [line.strip(" │") for line in text.splitlines()]
    assert "{" in body_lines  # the JSON body is pretty-printed over several lines
    assert '"name": "Ada",' in body_lines
    assert "created!" in text


def test_call_detail_empty_body_and_invalid_json() -> None:
    rec = record(request_body="", response_body='{"broken": ', response_headers=[])
    out, buffer = console(tty=False)
    out.print(call_detail(rec))
    text = buffer.getvalue()
    assert "(empty)" in text
    assert '{"broken":' in text
    assert "(no headers)" in text


@pytest.mark.asyncio
async def test_live_view_piped_prints_one_line_per_call() -> None:
    out, buffer = console(tty=False)
    view = LiveCallView(out, size=2)
    records = sample()
    for rec in records:
        view.add(rec)
    assert buffer.getvalue() == ""  # add() never renders
    view.start()
    await view.stop()
    assert buffer.getvalue().splitlines() == [plain_line(r) for r in records]


@pytest.mark.asyncio
async def test_live_view_terminal_shows_the_newest_rows() -> None:
    out, buffer = console(tty=True)
    view = LiveCallView(out, size=2, title="Calls")
    for i in range(5):
        view.add(record(path=f"/row-{i}"))
    assert buffer.getvalue() == ""
    view.start()
    await view.stop()
    text = ANSI.sub("", buffer.getvalue())
    assert "/row-3" in text and "/row-4" in text
    assert "/row-2" not in text
    assert "last 2 of 5" in text


@pytest.mark.asyncio
async def test_live_view_run_is_cancellable_and_draws_once_more() -> None:
    out, buffer = console(tty=False)
    view = LiveCallView(out)
    view.start()
    view.add(record(path="/late"))
    await view.stop()
    assert "/late" in buffer.getvalue()


@pytest.mark.asyncio
async def test_live_view_keeps_a_header_panel_with_counters() -> None:
    out, buffer = console(tty=True)
    info = BannerInfo(collection="Pet Store", url="http://127.0.0.1:3000", examples=9, requests=5)
    view = LiveCallView(out, size=10, header=lambda: info)
    for rec in sample():  # 4 calls: 1 miss, 1 error
        view.add(rec)
    view.start()
    await view.stop()
    text = ANSI.sub("", buffer.getvalue())
    assert "Pet Store — 9 examples from 5 requests" in text
    assert "listening on http://127.0.0.1:3000" in text
    assert re.search(r"calls 4\s+misses 1\s+errors 1", text)
    assert text.index("listening on") < text.index("/users?page=2")  # above the table


@pytest.mark.asyncio
async def test_live_view_header_follows_a_reload_without_calls() -> None:
    out, buffer = console(tty=True)
    infos = [BannerInfo(collection="Pets", url="http://h:1", examples=9, requests=5)]
    view = LiveCallView(out, header=lambda: infos[-1], refresh_per_second=50)
    view.start()
    await asyncio.sleep(0.1)
    infos.append(BannerInfo(collection="Pets", url="http://h:1", examples=12, requests=6))
    await asyncio.sleep(0.3)  # no call: only the header changed
    text = ANSI.sub("", buffer.getvalue())  # read before stop(), which always draws once more
    await view.stop()
    assert "9 examples from 5 requests" in text
    assert "12 examples from 6 requests" in text
