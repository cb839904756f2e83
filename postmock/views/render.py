"""Calls on a terminal: Rich tables, one call in full, plain lines when piped, the live view."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from postmock.calllog.record import NO_MATCH, CallRecord, Headers, iso_utc
from postmock.calllog.record import duration_text as _duration
from postmock.views.cells import (
    MIN_COLUMN,
    id_cell,
    path_cell,
    request_cell,
    response_cell,
    share,
    status_cell,
    status_style,
)


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


#: Below these console widths the table leaves out the time, and then the duration.
NO_TIME_BELOW: Final = 120
NO_DURATION_BELOW: Final = 100
#: How the width left over is shared between path, request and response.
_WEIGHTS: Final = [4, 4, 3]


def calls_table(
    records: Iterable[CallRecord], *, title: str | None = None, width: int | None = None
) -> Table:
    """A table of calls, one line each, in the order given.

    Each row says which request and example answered (or the nearest one and why it
    missed, or the error's reason) and shows the short id `logs --show` takes. Given the
    console `width`, long paths and names lose their middle (`views.cells.MiddleCut`) so
    that every call stays one line, and a narrow console drops the time, then the duration.
    """
    rows = [
        (
            clock(r.served_at),
            id_cell(r),
            r.method,
            path_cell(r),
            status_cell(r),
            request_cell(r),
            response_cell(r),
            _duration(r),
        )
        for r in records
    ]
    keep = [0, 1, 2, 3, 4, 5, 6, 7]
    if width is not None and width < NO_TIME_BELOW:
        keep.remove(0)
    if width is not None and width < NO_DURATION_BELOW:
        keep.remove(7)
    heads = ["Time", "ID", "Method", "Path", "Status", "Request", "Response", "Duration"]
    natural = [max([len(heads[i])] + [cell_len(str(row[i])) for row in rows]) for i in range(8)]
    flex_widths: list[int | None] = [None, None, None]
    if width is not None:
        fixed = sum(natural[i] for i in keep if i not in (3, 5, 6))
        room = width - fixed - 2 * (len(keep) - 1)  # the rule's blank and one pad
        flex_widths = list(share([natural[3], natural[5], natural[6]], _WEIGHTS, room, MIN_COLUMN))
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        expand=False,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    columns = {
        0: dict(header="Time", style="dim", no_wrap=True),
        1: dict(header="ID", no_wrap=True),
        2: dict(header="Method", style="bold", no_wrap=True),
        3: dict(header="Path", width=flex_widths[0], no_wrap=True),
        4: dict(header="Status", justify="right", no_wrap=True),
        5: dict(header="Request", width=flex_widths[1], no_wrap=True),
        6: dict(header="Response", width=flex_widths[2], no_wrap=True),
        7: dict(header="Duration", justify="right", style="dim", no_wrap=True),
    }
    for i in keep:
        table.add_column(**columns[i])  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*(row[i] for i in keep))
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
        except (ValueError, RecursionError):  # too deep to pretty-print: shown as it came
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
    if record.request_name:
        summary.append(f"  ({record.request_name})", style="dim")
    if record.detail:
        facts.append(f"\n{record.detail}", style="yellow")
    request = _message_panel("Request", record.request_headers, record.request_body)
    response = _message_panel("Response", record.response_headers, record.response_body)
    return Group(summary, facts, request, response)


def _message_panel(title: str, headers: Headers, body: str) -> Panel:
    """Headers, then the body highlighted by its content type."""
    highlighted = body_renderable(body, _content_type(headers))
    content = Group(_headers_table(headers), Text(""), highlighted)
    return Panel(content, title=title, title_align="left", box=box.ROUNDED)
