"""The live call table of `postmock serve`."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from rich.console import Console, Group, RenderableType
from rich.live import Live

from postmock.calllog.entry import plain_line
from postmock.calllog.record import CallRecord
from postmock.views.banner import BannerInfo, Counters, header_panel
from postmock.views.render import calls_table

MAX_PENDING_LINES: Final = 10_000
_TABLE_CHROME_LINES: Final = 6  # title, header, rules: what a table needs besides its rows
_HEADER_LINES: Final = 5  # the header panel: three lines and its border


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
        header: Callable[[], BannerInfo] | None = None,
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
        #: what the header panel says, asked at each refresh (a reload changes it); None: none
        self.header = header
        self.counters = Counters()
        self._shown_info: BannerInfo | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the view draws a live table (else plain lines)."""
        return self._terminal

    def add(self, record: CallRecord) -> None:
        """Note a call; it appears on the next refresh."""
        self._total += 1
        self.counters.add(record)
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

    def _info(self) -> BannerInfo | None:
        return self.header() if self.header is not None and self.is_terminal else None

    def _changed(self) -> bool:
        # A reload changes the header (examples, requests) without a call.
        changed_header = self._info() != self._shown_info
        return self._total != self._shown or bool(self._lines) or changed_header

    def _snapshot(
        self,
    ) -> tuple[list[CallRecord], list[CallRecord], int, int, Counters, BannerInfo | None]:
        """Take what to draw on the loop thread (cheap: at most `size` rows or the new lines)."""
        lines = list(self._lines)
        self._lines.clear()
        skipped, self._skipped = self._skipped, 0
        self._shown = self._total
        self._shown_info = info = self._info()
        return list(self._rows), lines, skipped, self._total, replace(self.counters), info

    def _draw(
        self,
        rows: list[CallRecord],
        lines: list[CallRecord],
        skipped: int,
        total: int,
        counters: Counters,
        info: BannerInfo | None,
    ) -> None:
        if self._live is not None:
            chrome = _TABLE_CHROME_LINES + (_HEADER_LINES if info is not None else 0)
            room = max(self.console.height - chrome, 3)
            shown = rows[-room:]
            title = f"{self.title} — last {len(shown)} of {total}" if total else self.title
            table = calls_table(shown, title=title, width=self.console.width)
            if not shown:
                table.caption = "waiting for calls…"
            view: RenderableType = table
            if info is not None:
                view = Group(header_panel(info, counters), table)
            self._live.update(view, refresh=True)
            return
        # Plain lines go out in one write per refresh: no Rich layout per call.
        out = [f"… {skipped} calls not shown (output was blocked)"] if skipped else []
        out.extend(plain_line(record) for record in lines)
        if out:
            self.console.file.write("\n".join(out) + "\n")
            self.console.file.flush()
