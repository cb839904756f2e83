"""`postmock record`: a proxy that forwards every call and saves each answer as an example.

Examples reach the file at most `RECORD_WRITE_INTERVAL` after their call, and once more
on SIGINT/SIGTERM: nothing recorded is lost. Each write is atomic, so a `postmock serve`
of the same file reloads a whole version.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from rich.console import Console
from rich.markup import escape

from postmock.config import (
    DEFAULT_HOST,
    DEFAULT_MAX_BODY,
    DEFAULT_PORT,
    DEFAULT_UPSTREAM_TIMEOUT,
    RECORD_WRITE_INTERVAL,
)
from postmock.errors import PostmockError, StartupError
from postmock.proxy.forward import Forwarder, ssl_context
from postmock.proxy.save import CollectionFile, SavedCall
from postmock.server.responses import json_error
from postmock.server.upstream import UpstreamError


@dataclass(frozen=True)
class RecordOptions:
    """Everything `postmock record` needs; built by the CLI."""

    upstream: str
    out: Path
    name: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    ca_file: Path | None = None
    insecure: bool = False
    redact: tuple[str, ...] = ()
    max_body_size: int = DEFAULT_MAX_BODY


class Recorder:
    """Forwards calls and adds their answers to the collection file."""

    def __init__(self, options: RecordOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.file = CollectionFile(
            options.out, name=options.name, base_url=options.upstream, redact=options.redact
        )
        self.recorded = 0
        self._forwarder: Forwarder | None = None
        self._pending: asyncio.Task[None] | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self._forwarder is not None
        body = await request.read() if request.body_exists else b""
        try:
            done = await self._forwarder.forward(request, body, keep=-1)
        except UpstreamError as exc:
            self.console.print(
                f"[red]{exc.status}[/] {request.method} {escape(request.path)}: {exc.message}",
                highlight=False,
            )
            return json_error(exc.status, exc.name, exc.message)[0]
        if done.broken:
            self.console.print(
                f"[yellow]not recorded[/] {request.method} {escape(request.path)}: {done.broken}"
            )
            return done.response
        call = SavedCall(
            request.method,
            request.rel_url.raw_path,
            request.rel_url.raw_query_string,
            tuple(request.headers.items()),
            body,
            done.status,
            done.reason,
            done.headers,
            done.body,
        )
        skipped = self.file.add(call)
        if skipped:
            self.console.print(f"[yellow]not recorded[/] {escape(skipped)}", highlight=False)
        else:
            self.recorded += 1
            self.console.print(
                f"recorded {done.status} {request.method} {escape(request.path_qs)}",
                highlight=False,
                soft_wrap=True,
            )
            self._schedule_write()
        return done.response

    def _schedule_write(self) -> None:
        if self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._write_later())

    async def _write_later(self) -> None:
        await asyncio.sleep(RECORD_WRITE_INTERVAL)
        try:
            self.file.write()
        except PostmockError as exc:  # tried again after the next call, and at the end
            self.console.print(f"[red]not saved yet[/]: {escape(str(exc))}", highlight=False)

    async def run(
        self, *, ready: Callable[[str], None] | None = None, stop: asyncio.Event | None = None
    ) -> None:
        """Serve until SIGINT/SIGTERM (or `stop`), then write what was recorded."""
        o = self.options
        self._forwarder = Forwarder(
            o.upstream,
            timeout=o.timeout,
            ssl=ssl_context(str(o.ca_file) if o.ca_file else None, o.insecure),
        )
        app = web.Application(client_max_size=o.max_body_size)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, o.host, o.port).start()
        except OSError as exc:
            await runner.cleanup()
            await self._forwarder.close()
            reason = "the port is in use" if exc.errno == errno.EADDRINUSE else str(exc)
            raise StartupError(f"cannot listen on {o.host}:{o.port}: {reason}") from None
        port = runner.addresses[0][1] if runner.addresses else o.port
        url = f"http://{o.host}:{port}"
        self.console.print(
            f"postmock recording [bold]{escape(self._forwarder.display_url)}[/] into "
            f"[bold]{escape(str(o.out))}[/]\n  listening on [bold cyan]{url}[/]  (Ctrl-C to stop)",
            highlight=False,
        )
        if ready is not None:
            ready(url)
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
                signals.append(sig)
        try:
            await stop.wait()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await runner.cleanup()  # lets calls under way finish
            await self._forwarder.close()
            if self._pending is not None:
                self._pending.cancel()
            if self.file.changed:
                self.file.write()
            self.console.print(
                f"postmock stopped: {self.recorded} answers recorded into {escape(str(o.out))}",
                highlight=False,
            )


def run_record(options: RecordOptions, console: Console) -> None:
    """`postmock record` in this process until a signal; raises PostmockError."""
    recorder = Recorder(options, console)  # a broken --out file fails here, before binding
    asyncio.run(recorder.run())
