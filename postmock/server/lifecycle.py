"""Run the mock: load, bind, serve until a signal, reload on edits, flush the call log on stop."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import io
import secrets
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from aiohttp import web
from rich.console import Console
from rich.markup import escape

from postmock.calllog.log import CallLog
from postmock.config import ServeConfig
from postmock.errors import PostmockError, StartupError
from postmock.server import terminal, tls
from postmock.server.api import add_api_routes, add_health_route
from postmock.server.app import RUNTIME, CallListener, create_app
from postmock.server.metrics import add_metrics_route, note_reload
from postmock.server.page import add_page_routes
from postmock.server.runtime import MockRunner
from postmock.server.state import MockState, broken_edit, load_state
from postmock.server.upstream import UpstreamFactory
from postmock.server.warm import warm
from postmock.views.live import LiveCallView

AFTER_START_S = 0.5  # background start-up work waits this long after the port is open
LINGER_S = 10.0  # aiohttp's default lingering time


async def serve(
    config: ServeConfig,
    console: Console,
    *,
    ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
    announce: bool = True,
    freeze_gc: bool = False,
    upstream: UpstreamFactory | None = None,
    embedded: Embedding | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or `stop` is set); raises PostmockError when it cannot start.

    `upstream` builds where unmatched calls go (`--upstream`, postmock.proxy).
    `embedded`: inside another program's loop (`start`, `postmock.testing`): its listeners
    get every call, no signal handlers, no background warm-up; told the app once it listens.
    `sock`: a listening socket to serve on (a `--workers` supervisor binds it once).
    """
    state = load_state(config)
    forwarder = upstream(config) if upstream is not None and config.upstream else None
    config = tls.resolve(config)  # --tls: the local CA and certificate, made once
    ssl_context = tls.context_for(config)
    if freeze_gc:  # only a process of our own: an embedding program keeps its own GC
        gc.freeze()  # see _settle; no full collection here, start-up time matters more
    # Piped output: one plain line per call, written by the call-log writer process (see
    # calllog); on a terminal, the live table here.
    lines = _plain_lines_file(console) if not config.quiet else None
    log = None
    if config.log_db is not None or lines is not None:
        log = CallLog(
            config.log_db,
            max_records=config.log_max,
            body_cap=config.log_body_cap,
            redact=config.redact,
            lines=lines,
            json_lines=config.call_lines == "json",
            buffer_limit=config.log_buffer,
            redact_bodies=config.redact_bodies,
        )
        await log.start()
    view = None if config.quiet or lines is not None else LiveCallView(console)

    def routes(app: web.Application) -> None:
        if log is not None and config.log_db is not None:
            add_api_routes(app, log, config.api_keys, shared=config.workers > 1)
            add_page_routes(app, config.api_keys)
        else:  # no call log: health still answers (scripts wait for the mock with it)
            add_health_route(app, config.api_keys)
        add_metrics_route(app, log, config.api_keys)

    app = create_app(
        config,
        state,
        calls=log,
        listeners=[view.add] if view is not None else [],
        extra_routes=routes,
        upstream=forwarder,
    )
    if embedded is not None:
        app[RUNTIME].listeners.extend(embedded.listeners)
    # The first call's one-time work (Faker when used, parsers), done before "listening"
    # is printed (server/warm.py). Embedded (postmock.testing) keeps its own warm-up.
    if embedded is None:
        warm(state, app[RUNTIME].dynamic)
    runner = MockRunner(
        app,
        access_log=None,
        handle_signals=False,
        # --request-timeout: idle and slow-head connections close (runtime.py), and a body
        # left unread after an early answer (408, 413) is drained no longer than that
        keepalive_timeout=config.request_timeout,
        lingering_time=min(config.request_timeout, LINGER_S),
    )
    await runner.setup()
    site: web.BaseSite = (
        web.SockSite(runner, sock, ssl_context=ssl_context)
        if sock is not None
        else web.TCPSite(runner, config.host, config.port, ssl_context=ssl_context)
    )
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if log is not None:
            await log.close()
        if forwarder is not None:
            await forwarder.close()
        reason = (
            "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        )
        raise StartupError(f"cannot listen on {config.host}:{config.port}: {reason}") from None
    if stop is None:
        stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = []
    # Before anyone hears that it answers: a SIGTERM right after `ready` must stop it
    # cleanly (log flushed), not kill it. A worker (announce=False) leaves Ctrl-C to its
    # supervisor, which sends SIGTERM: a Ctrl-C reaches the whole process group, and would
    # count twice in a worker. Embedded (`start`): none, the embedding program keeps its own.
    sigs = (signal.SIGINT, signal.SIGTERM) if announce else (signal.SIGTERM,)
    for sig in sigs if embedded is None else ():
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            signals.append(sig)
    port = _bound_port(runner, config.port)
    scheme = "https" if ssl_context is not None else "http"
    url = f"{scheme}://{_display_host(config.host)}:{port}"
    token = config.server_token or secrets.token_hex(4)
    app[RUNTIME].server = f"{token}@{_display_host(config.host)}:{port}"
    if view is not None:
        view.header = lambda: terminal.banner_info(config, app[RUNTIME].state, url)
    if announce:  # a worker leaves the banner, warnings and ready signals to its supervisor
        live_header = view is not None and view.is_terminal
        terminal.announce(console, config, state, url, live_header=live_header)
        try:
            terminal.signal_ready(config, url)
        except StartupError:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await runner.cleanup()
            if log is not None:
                await log.close()
            raise
    if ready is not None:
        ready(url)
    if embedded is not None:
        embedded.started(app, url)

    tasks: list[asyncio.Task[None]] = []
    if view is not None:
        tasks.append(asyncio.create_task(view.run()))
    if config.reload:
        watch = _watch(config, app, console, stop, AFTER_START_S, freeze_gc=freeze_gc)
        tasks.append(asyncio.create_task(watch))
    try:
        await stop.wait()
    finally:
        if announce:
            terminal.clear_ready(config)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        quit_now = asyncio.Event()  # a second Ctrl-C stops waiting for calls in flight
        for sig in signals:
            loop.add_signal_handler(sig, quit_now.set)
        try:
            in_flight = app[RUNTIME].in_flight
            await terminal.stop_serving(
                runner.cleanup(), in_flight, quit_now, console if announce else None
            )
            if forwarder is not None:
                await forwarder.close()
            if log is not None:
                await log.close()
        finally:
            for sig in signals:  # an embedding loop (tests) gets its own signal handling back
                loop.remove_signal_handler(sig)
        if announce:
            console.print("postmock stopped", highlight=False)


def _plain_lines_file(console: Console) -> IO[str] | None:
    """The console's file when it is not a terminal and has a descriptor to hand on."""
    if console.is_terminal:
        return None
    try:
        console.file.fileno()
    except (OSError, ValueError, AttributeError):
        return None  # a StringIO (tests): LiveCallView prints the plain lines itself
    return console.file


async def _watch(
    config: ServeConfig,
    app: web.Application,
    console: Console,
    stop: asyncio.Event,
    delay: float = 0.0,
    *,
    freeze_gc: bool = False,
) -> None:
    """Recompile when a watched file changes; a broken edit keeps the running version."""
    await asyncio.sleep(delay)
    from watchfiles import awatch

    files = {p.resolve() for p in (config.collection, config.environment, config.globals_file) if p}
    if any(_mtime(p) > app[RUNTIME].state.loaded_at for p in files):
        await reload(config, app, console, freeze_gc=freeze_gc)  # edited before the watcher
    folders = {p.parent for p in files}

    def wanted(_change: object, path: str) -> bool:
        return Path(path).resolve() in files

    async for _changes in awatch(*folders, watch_filter=wanted, stop_event=stop, debounce=200):
        await reload(config, app, console, freeze_gc=freeze_gc)


async def reload(
    config: ServeConfig, app: web.Application, console: Console, *, freeze_gc: bool = False
) -> bool:
    """Load the files again and swap the compiled mock in one assignment."""
    loop = asyncio.get_running_loop()
    try:
        state = await loop.run_in_executor(None, load_state, config)
    except PostmockError as exc:
        message = f"[red]reload failed[/], still serving the previous version: {exc}"
        console.print(message, highlight=False, soft_wrap=True)
        note_reload(app, ok=False)
        return False
    broken = broken_edit(app[RUNTIME].state, state)
    if broken is not None:
        message = f"[red]reload refused[/], still serving the previous version: {escape(broken)}"
        console.print(message, highlight=False, soft_wrap=True)
        return False
    await loop.run_in_executor(None, warm, state, app[RUNTIME].dynamic)
    app[RUNTIME].state = state
    note_reload(app, ok=True)
    if freeze_gc:
        gc.unfreeze()  # the old version's objects can be collected again
        _settle()
    console.print(
        f"[green]reloaded[/] {state.example_count} examples", highlight=False, soft_wrap=True
    )
    terminal.print_warnings(console, state)
    return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _settle() -> None:
    """Move the compiled mock out of the garbage collector's sight.

    The collection, index and plans are tens of thousands of long-lived objects: a full
    collection walks them all (~60 ms for the GitHub corpus collection), a pause that
    would land on some unlucky request. Frozen, they are skipped; refcounting still frees
    them when a reload drops them.
    """
    gc.collect()
    gc.freeze()


def _bound_port(runner: web.AppRunner, fallback: int) -> int:
    """The port listened on (port 0 asks the system for one)."""
    addresses = runner.addresses
    return int(addresses[0][1]) if addresses else fallback


def _display_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def run_single(
    config: ServeConfig,
    console: Console,
    *,
    ready: Callable[[str], None] | None = None,
    announce: bool = True,
    upstream: UpstreamFactory | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve in this process until a signal; uses uvloop when installed."""
    runner: Callable[[Awaitable[None]], None] = asyncio.run  # type: ignore[assignment]
    try:
        import uvloop

        runner = uvloop.run  # type: ignore[assignment]
    except ImportError:
        pass
    runner(
        serve(
            config,
            console,
            ready=ready,
            announce=announce,
            freeze_gc=True,
            upstream=upstream,
            sock=sock,
        )
    )


@dataclass(frozen=True)
class Embedding:
    """What `serve` needs to run inside another program (see `start`)."""

    listeners: Sequence[CallListener]
    started: Callable[[web.Application, str], None]


@dataclass
class Serving:
    """A mock started by `start`: where it listens, its app, `stop()`."""

    app: web.Application
    url: str
    _stop: asyncio.Event
    _task: asyncio.Task[None]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def state(self) -> MockState:
        """The compiled mock now served (a reload swaps it)."""
        return self.app[RUNTIME].state

    @property
    def log(self) -> CallLog | None:
        """The call log, when the config keeps one."""
        return self.app[RUNTIME].calls

    async def stop(self) -> None:
        """Close the socket and every connection, then write and close the call log."""
        self._stop.set()
        await self._task


async def start(
    config: ServeConfig,
    *,
    listeners: Sequence[CallListener] = (),
    upstream: UpstreamFactory | None = None,
) -> Serving:
    """`serve` on the running loop, returned once it answers calls (PostmockError if not).

    For programs that embed a mock (`postmock.testing`): no banner, no signal handlers, no
    warm-up; `listeners` get each call's record before its response is sent; `upstream` as
    for `serve`.
    """
    loop = asyncio.get_running_loop()
    started: asyncio.Future[None] = loop.create_future()
    where: list[tuple[web.Application, str]] = []
    stop = asyncio.Event()

    def on_start(app: web.Application, url: str) -> None:
        where.append((app, url))
        started.set_result(None)

    console = Console(file=io.StringIO())  # reload messages, if the embedder turned reload on
    task = asyncio.create_task(
        serve(
            config,
            console,
            stop=stop,
            announce=False,
            embedded=Embedding(listeners, on_start),
            upstream=upstream,
        )
    )
    await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
    if not started.done():
        started.cancel()
        task.result()  # the reason it could not start
        raise StartupError("the server stopped before it started")
    app, url = where[0]
    return Serving(app, url, stop, task)
