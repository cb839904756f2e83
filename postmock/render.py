"""Calls on a terminal: Rich tables, one call in full, plain lines when piped, the live view."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .callentry import plain_line
from .callrecord import NO_MATCH, CallRecord, Headers, iso_utc
from .callrecord import duration_text as _duration

STATUS_STYLES: Final = {1: "white", 2: "green", 3: "cyan", 4: "yellow", 5: "red"}
#: Plain lines waiting for a blocked terminal, beyond which the oldest are skipped.
MAX_PENDING_LINES: Final = 10_000
_TABLE_CHROME_LINES: Final = 6  # title, header, rules: what a table needs besides its rows


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


class LiveCallView:
    """The live call table of `postmock serve`; `add()` is O(1) and never touches the terminal.

    On a terminal a `rich.live.Live` table is refreshed a few times a second, only when
    something changed; otherwise one plain line per call is printed, in batches. Rendering
    and writing happen on a worker thread, so a slow terminal never holds up serving.
    """

    def __init__(
        self,
        console: Console,
        size: int = 50,
        *,
        refresh_per_second: float = 4.0,
        title: str = "Calls",
    ) -> None:
        self.console = console
        self.title = title
        self.interval = 1.0 / refresh_per_second
        self._rows: deque[CallRecord] = deque(maxlen=size)
        self._lines: deque[CallRecord] = deque(maxlen=MAX_PENDING_LINES)
        self._live: Live | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._total = 0
        self._shown = -1
        self._skipped = 0
        self._terminal = console.is_terminal  # asked once: rich re-checks the fd every time

    @property
    def is_terminal(self) -> bool:
        """Whether the view draws a live table (else plain lines)."""
        return self._terminal

    def add(self, record: CallRecord) -> None:
        """Note a call; it appears on the next refresh."""
        self._total += 1
        if self.is_terminal:
            self._rows.append(record)
        else:
            if len(self._lines) == self._lines.maxlen:
                self._skipped += 1
            self._lines.append(record)

    async def run(self) -> None:
        """Refresh until cancelled or `stop()`, then draw the last state and end."""
        if self.is_terminal:
            self._live = Live(
                console=self.console,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        try:
            while not self._stopping.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.interval)
                if self._changed() and not self._stopping.is_set():
                    await asyncio.to_thread(self._draw, *self._snapshot())
        finally:
            if self._changed() or self._live is not None:
                self._draw(*self._snapshot())
            if self._live is not None:
                self._live.stop()
                self._live = None

    def start(self) -> None:
        """Run the view as a task of the running loop."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """End the task started by `start()`, after a last refresh."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()
            await task

    def _changed(self) -> bool:
        return self._total != self._shown or bool(self._lines)

    def _snapshot(self) -> tuple[list[CallRecord], list[CallRecord], int, int]:
        """Take what to draw on the loop thread (cheap: at most `size` rows or the new lines)."""
        lines = list(self._lines)
        self._lines.clear()
        skipped, self._skipped = self._skipped, 0
        self._shown = self._total
        return list(self._rows), lines, skipped, self._total

    def _draw(
        self, rows: list[CallRecord], lines: list[CallRecord], skipped: int, total: int
    ) -> None:
        if self._live is not None:
            room = max(self.console.height - _TABLE_CHROME_LINES, 3)
            shown = rows[-room:]
            title = f"{self.title} — last {len(shown)} of {total}" if total else self.title
            table = calls_table(shown, title=title)
            if not shown:
                table.caption = "waiting for calls…"
            self._live.update(table, refresh=True)
            return
        # Plain lines go out in one write per refresh: no Rich layout per call.
        out = [f"… {skipped} calls not shown (output was blocked)"] if skipped else []
        out.extend(plain_line(record) for record in lines)
        if out:
            self.console.file.write("\n".join(out) + "\n")
            self.console.file.flush()
