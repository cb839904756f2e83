"""What `serve` tells a person and a script: the start-up banner and routes, warnings, the
ready signals (`--ready-file`, `--print-url`), and the two-step Ctrl-C.

Ctrl-C once: the server stops taking calls and waits for the calls in flight (a call
with a 10 s delay is answered), saying so. Ctrl-C again: it stops waiting, keeps every
call already answered (the call log is still flushed) and exits without a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import IO, Final

from rich.console import Console
from rich.text import Text

from postmock.config import ServeConfig
from postmock.errors import StartupError
from postmock.server import tls
from postmock.server.page import page_line
from postmock.server.state import MockState
from postmock.server.upstream import display_url
from postmock.views.banner import BannerInfo, routes, routes_lines, routes_renderable

MAX_WARNINGS_SHOWN: Final = 10


def banner_info(config: ServeConfig, state: MockState, url: str) -> BannerInfo:
    """What the banner and the header panel say about this server."""
    return BannerInfo(
        collection=state.collection.name,
        url=url,
        examples=state.example_count,
        requests=len(state.collection.items),
        api_keys=len(config.api_keys),
        workers=config.workers,
        upstream=display_url(config.upstream) if config.upstream else "",
    )


def banner(config: ServeConfig, state: MockState, url: str) -> str:
    """The start-up lines (Rich markup): what is served, where."""
    info = banner_info(config, state, url)
    return (
        f"postmock serving [bold]{_escape(info.summary())}[/]\n"
        f"  listening on [bold cyan]{url}[/]  (Ctrl-C to stop)"
    )


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def announce(
    console: Console, config: ServeConfig, state: MockState, url: str, *, live_header: bool
) -> None:
    """Print the banner (unless the live table's header panel shows it), routes, warnings."""
    if not live_header:
        console.print(banner(config, state, url), highlight=False)
    extra = page_line(config, url) + tls.banner_line(config)  # the page, the CA to trust
    if extra:
        console.print(extra.lstrip("\n"), highlight=False, soft_wrap=True)  # paths stay whole
    served = routes(state.collection, state.index)
    if console.is_terminal:
        console.print(routes_renderable(served), highlight=False)
    else:
        for line in routes_lines(served):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    print_warnings(console, state)


def print_warnings(console: Console, state: MockState) -> None:
    """The load warnings, the first `MAX_WARNINGS_SHOWN` of them."""
    for w in state.warnings[:MAX_WARNINGS_SHOWN]:
        console.print(
            Text.assemble(("warning ", "yellow"), str(w)), highlight=False, soft_wrap=True
        )
    rest = len(state.warnings) - MAX_WARNINGS_SHOWN
    if rest > 0:
        console.print(f"[yellow]… and {rest} more warnings; `postmock validate` lists them all[/]")


def signal_ready(config: ServeConfig, url: str, stdout: IO[str] | None = None) -> None:
    """Tell a script the server answers: the URL in `--ready-file`, or alone on stdout."""
    if config.ready_file is not None:
        path = config.ready_file
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(url + "\n", encoding="utf-8")
            os.replace(temporary, path)  # a script never reads half a URL
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StartupError(f"cannot write the ready file: {reason}", file=path) from None
    if config.print_url:
        out = stdout or sys.stdout
        out.write(url + "\n")
        out.flush()


def clear_ready(config: ServeConfig) -> None:
    """Remove `--ready-file` on stop: it is there exactly while the server answers."""
    if config.ready_file is not None:
        with contextlib.suppress(OSError):
            Path(config.ready_file).unlink()


async def stop_serving(
    cleanup: Awaitable[None],
    in_flight: int,
    quit_now: asyncio.Event,
    console: Console | None,
) -> bool:
    """Run `cleanup` (which waits for the calls in flight) unless `quit_now` is set first.

    Returns True when it was cut short. Says what it waits for when calls are in flight.
    """
    if in_flight and console is not None:
        calls = "call" if in_flight == 1 else "calls"
        console.print(
            f"[yellow]waiting for {in_flight} {calls} in flight[/] — Ctrl-C again to quit now",
            highlight=False,
        )
    work = asyncio.ensure_future(cleanup)
    interrupt = asyncio.ensure_future(quit_now.wait())
    try:
        await asyncio.wait({work, interrupt}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        interrupt.cancel()
    if work.done():
        work.result()
        return False
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await work
    if console is not None:
        quit_message(console)
    return True


def quit_message(console: Console) -> None:
    """Say that a second Ctrl-C cut the wait short (below the terminal's echoed `^C`)."""
    if console.is_terminal:
        console.print()
    console.print("[yellow]quit without waiting[/]; the calls answered so far are kept")


__all__ = [
    "announce",
    "banner",
    "banner_info",
    "clear_ready",
    "print_warnings",
    "quit_message",
    "signal_ready",
    "stop_serving",
]
