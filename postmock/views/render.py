"""Calls on a terminal: Rich tables, one call in full, plain lines when piped, the live view."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from postmock.calllog.record import NO_MATCH, CallRecord, Headers, iso_utc
from postmock.calllog.record import duration_text as _duration

STATUS_STYLES: Final = {1: "white", 2: "green", 3: "cyan", 4: "yellow", 5: "red"}
#: Plain lines waiting for a blocked terminal, beyond which the oldest are skipped.


def status_style(code: int) -> str:
    """Colour for a status code: 2xx green, 3xx cyan, 4xx yellow, 5xx red."""
    return STATUS_STYLES.get(code // 100, "magenta")


def clock(epoch: float) -> str:
    """Local wall-clock time with milliseconds, as the table shows it."""
    return datetime.fromtimestamp(epoch).strftime("%H:%M:%S.%f")[:-3]


def response_label(record: CallRecord) -> Text:
    """The example name, or why there is none."""
    if record.response_name:
        return Text(record.response_name)
    if record.response_type == "noMatch":
        return Text(NO_MATCH, style="italic yellow")
    return Text(f"({record.response_type})", style="dim")


def calls_table(records: Iterable[CallRecord], *, title: str | None = None) -> Table:
    """A table of calls, one row each, in the order given."""
    table = Table(title=title, box=box.SIMPLE_HEAD, expand=False, title_justify="left")
    table.add_column("Time", style="dim", no_wrap=True)
    table.add_column("Method", style="bold", no_wrap=True)
    table.add_column("Path", overflow="fold")
    table.add_column("Status", justify="right", no_wrap=True)
    table.add_column("Response", overflow="fold")
    table.add_column("Duration", justify="right", style="dim", no_wrap=True)
    for record in records:
        table.add_row(
            clock(record.served_at),
            record.method,
            Text(record.full_path),
            Text(str(record.status_code), style=status_style(record.status_code)),
            response_label(record),
            _duration(record),
        )
    return table


def _content_type(headers: Headers) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.lower()
    return ""


def body_renderable(body: str, content_type: str = "") -> RenderableType:
    """A body, pretty-printed and highlighted when it is JSON, XML or HTML."""
    if not body:
        return Text("(empty)", style="dim")
    from rich.syntax import Syntax  # pygments: only `logs --show` needs it, not `serve`

    stripped = body.lstrip()
    if "json" in content_type or stripped[:1] in ("{", "["):
        try:
            pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            pass
        else:
            return Syntax(
                pretty, "json", theme="ansi_dark", background_color="default", word_wrap=True
            )
    for kind in ("xml", "html"):
        if kind in content_type:
            return Syntax(body, kind, theme="ansi_dark", background_color="default", word_wrap=True)
    return Text(body)


def _headers_table(headers: Headers) -> RenderableType:
    if not headers:
        return Text("(no headers)", style="dim")
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in headers:
        table.add_row(f"{name}:", value)
    return table


def call_detail(record: CallRecord) -> RenderableType:
    """One call in full: request and response headers and bodies."""
    summary = Text.assemble(
        (f"{record.method} ", "bold"),
        record.full_path,
        "  →  ",
        (str(record.status_code), f"bold {status_style(record.status_code)}"),
        "  ",
        response_label(record),
    )
    facts = Text(
        f"id {record.id} · served {iso_utc(record.served_at)} · {_duration(record)} · "
        f"type {record.response_type}",
        style="dim",
    )
    request = _message_panel("Request", record.request_headers, record.request_body)
    response = _message_panel("Response", record.response_headers, record.response_body)
    return Group(summary, facts, request, response)


def _message_panel(title: str, headers: Headers, body: str) -> Panel:
    """Headers, then the body highlighted by its content type."""
    highlighted = body_renderable(body, _content_type(headers))
    content = Group(_headers_table(headers), Text(""), highlighted)
    return Panel(content, title=title, title_align="left", box=box.ROUNDED)
