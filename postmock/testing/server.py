"""`MockServer`: a postmock server inside a test suite, on a thread or on the running loop."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from types import TracebackType
from typing import Any

from postmock.config import (
    EMBEDDED_DEFAULTS,
    EMBEDDED_START_TIMEOUT,
    ServeConfig,
    parse_delay,
)
from postmock.errors import StartupError
from postmock.server.app import RUNTIME
from postmock.server.lifecycle import Serving, start
from postmock.testing.calls import CallQuery, CallRecorder
from postmock.testing.coverage import CoverageReport, measure

#: ServeConfig fields a MockServer does not take: it is always one process.
_NOT_EMBEDDABLE = {"collection", "workers"}
_OPTIONS = {f.name for f in dataclasses.fields(ServeConfig)} - _NOT_EMBEDDABLE


def embedded_config(
    collection: str | Path,
    *,
    environment: str | Path | None = None,
    variables: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    delay: str | int | None = None,
    **options: Any,
) -> ServeConfig:
    """The `ServeConfig` of a mock in a test suite: `serve`'s defaults, then EMBEDDED_DEFAULTS,
    then `options` (any `ServeConfig` field, as `serve`'s options name them)."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise TypeError(
            f"MockServer got unknown option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_OPTIONS | {'delay'}))}"
        )
    values: dict[str, Any] = {**EMBEDDED_DEFAULTS, **options}
    pairs = variables.items() if isinstance(variables, Mapping) else variables
    values["variables"] = tuple((str(k), str(v)) for k, v in pairs)
    if delay is not None:
        values["delay_ms"] = parse_delay(str(delay))
    for name in ("api_keys", "match_headers", "redact"):
        if name in values:
            given = values[name]
            values[name] = (given,) if isinstance(given, str) else tuple(given)
    for name in ("globals_file", "log_db"):
        if values.get(name) is not None:
            values[name] = Path(values[name])
    return ServeConfig(
        collection=Path(collection),
        environment=Path(environment) if environment is not None else None,
        **values,
    )


class MockServer:
    """A postmock server for tests: `with` runs it on a thread, `async with` on your loop.

    Options mirror `postmock serve` (see `embedded_config`). Calls are kept in memory for
    `calls()` and the assertions; `log_db=PATH` also keeps them in a store, with the
    `/__postmock/` API. `strict=True` fails the `with` block (if nothing else did) when any
    call matched no example.
    """

    def __init__(
        self,
        collection: str | Path,
        *,
        environment: str | Path | None = None,
        variables: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        port: int = 0,
        api_keys: Iterable[str] = (),
        delay: str | int | None = None,
        seed: int | None = None,
        strict: bool = False,
        **options: Any,
    ) -> None:
        self.config = embedded_config(
            collection,
            environment=environment,
            variables=variables,
            delay=delay,
            port=port,
            api_keys=tuple(api_keys),
            seed=seed,
            **options,
        )
        self.strict = strict
        self._recorder = CallRecorder()
        self._serving: Serving | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # thread mode only
        self._thread: threading.Thread | None = None
        self._warm: threading.Thread | None = None

    # -- where ---------------------------------------------------------------------------

    @property
    def serving(self) -> Serving:
        if self._serving is None:
            raise RuntimeError("this MockServer is not running: use `with` or `async with`")
        return self._serving

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return self.serving.url

    @property
    def port(self) -> int:
        return self.serving.port

    # -- on a thread (sync tests) ----------------------------------------------------------

    def start(self) -> MockServer:
        """Start on a thread of its own; return once it answers (PostmockError if it cannot)."""
        if self._serving is not None:
            raise RuntimeError("this MockServer is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=_run_loop, args=(loop,), name="postmock", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        future = asyncio.run_coroutine_threadsafe(self._start(), loop)
        try:
            future.result(EMBEDDED_START_TIMEOUT)
        except FutureTimeout:
            future.cancel()
            self._end_thread()
            raise StartupError(
                f"did not start within {EMBEDDED_START_TIMEOUT:g} s", file=self.config.collection
            ) from None
        except BaseException:
            self._end_thread()
            raise
        return self

    def stop(self) -> None:
        """Stop: socket, connections, call log, the thread; nothing is left behind (idempotent)."""
        if self._loop is None:
            if self._serving is not None:
                raise RuntimeError("this MockServer runs on your loop: leave its `async with`")
            return
        try:
            if self._serving is not None:
                asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result()
        finally:
            self._end_thread()

    def _end_thread(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if et is None and self.strict:
            self.assert_no_unmatched()

    # -- on the running loop (async tests) -------------------------------------------------

    async def _start(self) -> None:
        upstream = None
        if self.config.upstream:  # `upstream=URL`: unmatched calls go to a real API
            from postmock.proxy.forward import Forwarder

            upstream = Forwarder.from_config
        self._serving = await start(self.config, listeners=[self._recorder.add], upstream=upstream)
        # Faker (dynamic variables) loads beside the first calls, not in start-up's way:
        # ~100 ms for the first server of a process, a few ms for the next ones.
        dynamic = self._serving.app[RUNTIME].dynamic
        self._warm = threading.Thread(target=dynamic.warm_up, name="postmock-warm-up")
        self._warm.start()

    async def _stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            await serving.stop()
        warm, self._warm = self._warm, None
        while warm is not None and warm.is_alive():  # nothing is left behind
            await asyncio.sleep(0.005)

    async def __aenter__(self) -> MockServer:
        if self._serving is not None:
            raise RuntimeError("this MockServer is already running")
        await self._start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop()
        if et is None and self.strict:
            self.assert_no_unmatched()

    # -- the calls -------------------------------------------------------------------------

    def calls(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | str | None = None,
        example: str | None = None,
    ) -> list[dict[str, Any]]:
        """This server's calls that match, oldest first, in Postman's call-log shape."""
        query = CallQuery(method, path, status, example)
        return [record.to_json() for record in self._recorder.records(query)]

    def call_count(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | str | None = None,
        example: str | None = None,
    ) -> int:
        """How many of this server's calls match."""
        return self._recorder.count(CallQuery(method, path, status, example))

    def reset(self) -> None:
        """Forget every call so far (and clear the store, when `log_db` keeps one)."""
        self._recorder.clear()
        serving, loop = self._serving, self._loop
        if serving is not None and serving.log is not None and loop is not None:
            asyncio.run_coroutine_threadsafe(serving.log.clear(), loop).result()

    async def areset(self) -> None:
        """`reset()` for `async with`: also clears the store on the running loop."""
        self._recorder.clear()
        if self._serving is not None and self._serving.log is not None:
            await self._serving.log.clear()

    def assert_called(
        self,
        example: str | None = None,
        method: str | None = None,
        path: str | None = None,
        times: int | None = None,
        status: int | str | None = None,
    ) -> None:
        """AssertionError, listing the closest calls, unless `times` calls match (or any)."""
        __tracebackhide__ = True
        self._recorder.check_called(CallQuery(method, path, status, example), times)

    def assert_not_called(
        self,
        example: str | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | str | None = None,
    ) -> None:
        """AssertionError, listing the calls that match, if any does."""
        __tracebackhide__ = True
        self._recorder.check_not_called(CallQuery(method, path, status, example))

    def assert_no_unmatched(self) -> None:
        """AssertionError listing each call no example matched, with the nearest and why."""
        __tracebackhide__ = True
        self._recorder.check_no_unmatched()

    def coverage(self) -> CoverageReport:
        """Which examples this server's calls (since the last reset) were served, which never."""
        return measure(self.serving.state.collection, self._recorder.records())

    def __repr__(self) -> str:
        where = self._serving.url if self._serving is not None else "stopped"
        return f"<MockServer {self.config.collection.name} {where}>"


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The server thread: run the loop until stopped, then close it and its executor."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
