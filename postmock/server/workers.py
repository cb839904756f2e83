"""`serve --workers N`: N processes share one listening socket and one call-log store.

The parent is a supervisor: it loads the collection once to fail fast, binds the port
once (exit 3 when it is taken, like one process; no SO_REUSEPORT, so a second postmock
cannot silently split the traffic), forks the workers, which inherit the socket and
accept from it, prints the banner, shows one live table fed from the shared store, and
on SIGINT/SIGTERM stops the workers, which flush their logs before they exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import multiprocessing
import secrets
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rich.console import Console

from postmock.config import ServeConfig
from postmock.errors import PostmockError, StartupError
from postmock.server.state import load_state
from postmock.server.terminal import (
    announce,
    banner_info,
    clear_ready,
    quit_message,
    signal_ready,
)
from postmock.server.upstream import UpstreamFactory
from postmock.views.banner import BannerInfo

READY_TIMEOUT_S = 30.0
SETTLE_S = 0.5  # workers with nothing in flight stop within this
STOP_TIMEOUT_S = 10.0


def _worker(
    config: ServeConfig,
    conn: Connection,
    upstream: UpstreamFactory | None,
    sock: socket.socket,
) -> None:
    """A worker process: serve quietly, tell the parent when listening (or why not)."""
    from postmock.server.lifecycle import run_single

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the supervisor's handler; serve()
    # installs its own handler before it reports ready
    # Only what happens later (reloads, a broken edit) reaches the terminal from a worker.
    console = Console(stderr=True)
    ready = lambda url: conn.send(("ready", url))  # noqa: E731
    try:
        run_single(config, console, ready=ready, announce=False, upstream=upstream, sock=sock)
    except PostmockError as exc:
        conn.send(("failed", str(exc), int(exc.exit_code)))
        raise SystemExit(int(exc.exit_code)) from None


def bind_once(host: str, port: int) -> socket.socket:
    """The one listening socket all workers share; StartupError (exit 3) when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR (as aiohttp sets): restart over TIME_WAIT; never SO_REUSEPORT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        reason = (
            "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        )
        raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.setblocking(False)
    return sock


#: SIGTERM reached the supervisor before its event loop handled signals.
_TERMINATED = threading.Event()


def _terminated(signum: int, frame: object) -> None:
    _TERMINATED.set()


def run_workers(
    config: ServeConfig, console: Console, upstream: UpstreamFactory | None = None
) -> None:
    """Supervise `config.workers` serving processes until a signal; raises PostmockError."""
    # From the first fork on, a SIGTERM must stop the workers too, never orphan them: until
    # `_supervise` handles signals, it is noted, and `_supervise` stops at once.
    _TERMINATED.clear()
    signal.signal(signal.SIGTERM, _terminated)
    state = load_state(config)  # a broken file fails here, once, before any fork
    sock = bind_once(config.host, config.port)
    port = int(sock.getsockname()[1])
    # One server id for every worker: `logs` and the API show this server's calls, all of them.
    worker_config = replace(config, port=port, quiet=True, server_token=secrets.token_hex(4))
    ctx = multiprocessing.get_context("fork")
    procs: list[Any] = []
    for _ in range(config.workers):
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_worker, args=(worker_config, child_end, upstream, sock), daemon=False
        )
        proc.start()
        child_end.close()
        procs.append((proc, parent_end))
    sock.close()  # the workers hold it now
    try:
        url = ""
        for _proc, conn in procs:
            if not conn.poll(READY_TIMEOUT_S):
                raise StartupError(f"a worker did not start within {READY_TIMEOUT_S:.0f} s")
            message = conn.recv()
            if message[0] != "ready":
                raise StartupError(message[1])
            url = message[1]
        live = console.is_terminal and not config.quiet and config.log_db is not None
        announce(console, config, state, url, live_header=live)
        signal_ready(config, url)
        info = banner_info(config, state, url)
        asyncio.run(_supervise(config, console, [p for p, _ in procs], info))
    finally:
        # A second SIGTERM while the workers stop counts as a second Ctrl-C (see _stop).
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        clear_ready(config)
        _stop([p for p, _ in procs], console)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    console.print("postmock stopped", highlight=False)


def _stop(procs: list[Any], console: Console) -> None:
    """SIGTERM each worker: it stops taking calls, answers those in flight, flushes its log.

    A second Ctrl-C here sends a second SIGTERM, on which a worker stops waiting (see
    `server.terminal.stop_serving`). The supervisor's own loop is gone by now, so that
    Ctrl-C arrives as KeyboardInterrupt.
    """
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    try:
        _join(procs, SETTLE_S)
        if any(proc.is_alive() for proc in procs):
            console.print(
                "[yellow]waiting for the workers' calls in flight[/] — Ctrl-C again to quit now",
                highlight=False,
            )
            _join(procs, STOP_TIMEOUT_S)
    except KeyboardInterrupt:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        _join(procs, STOP_TIMEOUT_S)
        quit_message(console)


def _join(procs: list[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.join(timeout=max(deadline - time.monotonic(), 0))


async def _supervise(
    config: ServeConfig, console: Console, procs: list[Any], info: BannerInfo
) -> None:
    """Wait for a signal (or a dead worker) while one live table follows the shared store."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if _TERMINATED.is_set():  # a SIGTERM came before these handlers
        stop.set()
    follow_stop = threading.Event()
    tasks = []
    if not config.quiet and config.log_db is not None:
        tasks.append(asyncio.create_task(_follow(config.log_db, console, follow_stop, info)))
    try:
        while not stop.is_set():
            dead = [p for p in procs if not p.is_alive()]
            if dead:
                raise StartupError(f"worker {dead[0].pid} exited with code {dead[0].exitcode}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        follow_stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _follow(db: Path, console: Console, stop: threading.Event, info: BannerInfo) -> None:
    """One live table for all workers, fed by following the shared store file."""
    from postmock.calllog.filter import CallFilter
    from postmock.views.live import LiveCallView
    from postmock.views.logs import DbSource

    view = LiveCallView(console, header=lambda: info)
    shown = asyncio.create_task(view.run())
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(1)  # one thread: sqlite connections stay on theirs

    def follow() -> None:
        source = DbSource(db, poll_interval=0.25)
        try:
            for record in source.follow(CallFilter(since=time.time()), 1, stop):
                if not isinstance(record, str):  # not a "calls skipped" notice
                    loop.call_soon_threadsafe(view.add, record)
        finally:
            source.close()

    try:
        await loop.run_in_executor(reader, follow)
    except PostmockError as exc:
        console.print(f"[yellow]live table unavailable[/]: {exc}")
    finally:
        shown.cancel()
        await asyncio.gather(shown, return_exceptions=True)
        reader.shutdown(wait=False)


__all__ = ["run_workers"]
