"""The call log: `add_entry()` on the hot path; a writer process stores; live subscribers.

The serving process keeps each call as a tuple and, every few milliseconds, hands what
piled up to the writer process (`logsink`) in one marshalled frame through a pipe. SQLite,
masking for the store and plain call lines all run there, on their own GIL: a writer
thread in the serving process cost the event loop more in GIL hand-offs than the inserts
themselves (docs/performance.md). Reads (`query`, `get`, `count`) use this process's own
connection after a flush, so a call answered before a read is always in its result.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Final

import postmock

from .callfilter import CallFilter
from .callrecord import (
    SECRET_HEADERS,
    CallRecord,
    Entry,
    ResponseType,
    entry_from_record,
    iso_utc,
    new_call_id,
    parse_time,
    record_from_entry,
)
from .errors import LogStoreError
from .logsink import encode_frame
from .logstore import CallStore, Direction

DEFAULT_DB_PATH: Final = Path(".postmock") / "calls.db"
DEFAULT_MAX_RECORDS: Final = 10_000
DEFAULT_BODY_CAP: Final = 64 * 1024
DEFAULT_SUBSCRIBER_QUEUE: Final = 1000
#: How long calls gather before they go to the writer in one frame (one pipe write).
SEND_INTERVAL: Final = 0.02
#: Without an event loop (`start_sync`), a frame goes out every this many calls.
_SYNC_BATCH: Final = 500


@dataclass(frozen=True)
class CallLogStats:
    """Counters for the health endpoint."""

    written: int  # records committed by this process's writer
    pending: int  # records on their way to the store
    dropped: int  # records that could not be stored (see last_error)
    subscribers: int
    last_error: str | None


class Subscription:
    """Records added after `CallLog.subscribe()`; a full queue drops its oldest record."""

    def __init__(self, log: CallLog, maxsize: int, flt: CallFilter | None) -> None:
        self._log = log
        self._filter = flt
        self._items: deque[CallRecord] = deque(maxlen=maxsize)
        self._wakeup = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self.closed = False
        self.dropped = 0

    def _push(self, record: CallRecord) -> None:
        if self.closed or (self._filter is not None and not self._filter.matches(record)):
            return
        if len(self._items) == self._items.maxlen:
            self.dropped += 1  # the deque drops the oldest: serving never waits on a reader
        self._items.append(record)
        self._wakeup.set()

    def _deliver(self, record: CallRecord) -> None:
        """Push from any thread."""
        if threading.get_ident() == self._thread:
            self._push(record)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._push, record)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> CallRecord:
        while not self._items:
            if self.closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._items.popleft()

    async def get(self, timeout: float | None = None) -> CallRecord | None:
        """Return the next record, None after `timeout` seconds; StopAsyncIteration when closed."""
        if self._items:
            return self._items.popleft()
        try:
            return await asyncio.wait_for(self.__anext__(), timeout)
        except asyncio.TimeoutError:
            return None

    def close(self) -> None:
        """Stop receiving; records already queued are still delivered, then iteration ends."""
        if threading.get_ident() != self._thread and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close)
            return
        self.closed = True
        self._log._subscribers.discard(self)
        self._wakeup.set()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class CallLog:
    """Keeps every served call: O(1) `add_entry()`, a writer process committing batches.

    `path` None keeps no store (plain `lines` and subscribers only). Secrets are masked and
    bodies capped before a subscriber or the store sees a record. Use it from the thread
    that started it.
    """

    def __init__(
        self,
        path: str | Path | None = DEFAULT_DB_PATH,
        *,
        max_records: int = DEFAULT_MAX_RECORDS,
        body_cap: int = DEFAULT_BODY_CAP,
        redact: Iterable[str] = (),
        subscriber_queue: int = DEFAULT_SUBSCRIBER_QUEUE,
        lines: IO[str] | None = None,
    ) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.path = Path(path) if path is not None else None
        self.max_records = max_records
        self.body_cap = body_cap
        self.redact = tuple(redact)
        self.secret_names = SECRET_HEADERS | {name.lower() for name in self.redact}
        self.subscriber_queue = subscriber_queue
        self.lines = lines
        self._subscribers: set[Subscription] = set()
        self._reader: CallStore | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._fd = -1  # the pipe to the writer
        self._status_fd = -1  # its reports
        self._status_buffer = b""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[Entry | int] = []
        self._unsent = bytearray()  # accepted frames the pipe has not taken yet
        self._send_handle: asyncio.TimerHandle | None = None
        self._tokens = itertools.count(1)
        self._waiters: dict[int, asyncio.Future[None]] = {}
        self._flushed = 0  # the writer has committed everything before this token
        self._accepting = False
        self._added = 0
        self._written = 0
        self._failed = 0  # reported by the writer
        self._lost = 0  # the writer died before confirming them
        self._rejected = 0
        self.last_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (LogStoreError if it cannot be used) and start the writer."""
        if self._accepting:
            return
        await asyncio.to_thread(self._open)
        self._loop = asyncio.get_running_loop()
        if self._proc is not None:
            os.set_blocking(self._fd, False)
            self._loop.add_reader(self._status_fd, self._on_status)

    def start_sync(self) -> None:
        """`start()` for code without an event loop."""
        if not self._accepting:
            self._open()

    def _open(self) -> None:
        if self.path is not None:
            self._reader = CallStore.open(self.path)  # creates the schema; errors show here
        if self.path is not None or self.lines is not None:
            self._spawn()
        self._accepting = True

    def _spawn(self) -> None:
        status_read, status_write = os.pipe()
        argv = [
            sys.executable,
            "-m",
            "postmock.logsink",
            f"--max-records={self.max_records}",
            f"--body-cap={self.body_cap}",
            f"--status-fd={status_write}",
            *[f"--redact={name}" for name in self.redact],
        ]
        keep = [status_write]
        if self.path is not None:
            argv.append(f"--db={self.path}")
        if self.lines is not None:
            self.lines.flush()
            keep.append(self.lines.fileno())
            argv.append(f"--lines-fd={self.lines.fileno()}")
        # The writer imports postmock from where this process did (a checkout works too).
        package_root = str(Path(postmock.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, pass_fds=keep, env=env)
        except OSError as exc:
            os.close(status_read)
            raise LogStoreError(
                f"cannot start the call-log writer: {exc}", file=self.path
            ) from None
        finally:
            os.close(status_write)
        assert self._proc.stdin is not None
        self._fd = self._proc.stdin.fileno()
        self._status_fd = status_read

    async def close(self) -> None:
        """Write every pending record, end all subscriptions, stop the writer."""
        self._stop_accepting()
        if self._loop is not None and self._proc is not None:
            self._loop.remove_reader(self._status_fd)
            self._loop.remove_writer(self._fd)
        await asyncio.to_thread(self._finish)

    def close_sync(self) -> None:
        """`close()` for code without an event loop."""
        self._stop_accepting()
        self._finish()

    def _stop_accepting(self) -> None:
        for sub in list(self._subscribers):
            sub.close()
        self._accepting = False
        if self._send_handle is not None:
            self._send_handle.cancel()
            self._send_handle = None

    def _finish(self) -> None:
        """Send the rest, let the writer drain the pipe and exit; then close the reader."""
        proc, self._proc = self._proc, None
        if proc is not None:
            os.set_blocking(self._fd, True)
            if self._pending:
                self._unsent += encode_frame(self._pending)
                self._pending = []
            self._write_blocking()
            assert proc.stdin is not None
            try:
                proc.stdin.close()  # the end of the pipe: the writer finishes and exits
            except OSError:
                pass
            proc.wait()
            os.set_blocking(self._status_fd, True)
            while self._read_status():
                pass
            os.close(self._status_fd)
            self._resolve_waiters()
        if self._reader is not None:
            with self._reader.lock:
                self._reader.close()
            self._reader = None

    async def __aenter__(self) -> CallLog:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- hot path --------------------------------------------------------------------------

    def add_entry(self, entry: Entry) -> None:
        """Keep one served call (see `callrecord.Entry`); O(1), never raises."""
        if not self._accepting:
            self._rejected += 1
            self.last_error = "record added while the call log was not running"
            return
        self._added += 1
        if self._proc is not None:
            self._pending.append(entry)
            if self._loop is not None:
                if self._send_handle is None:
                    self._send_handle = self._loop.call_later(SEND_INTERVAL, self._send)
            elif len(self._pending) >= _SYNC_BATCH:
                self._send()
        if self._subscribers:
            try:
                record = record_from_entry(entry).sanitized(self.secret_names, self.body_cap)
                for sub in tuple(self._subscribers):
                    sub._deliver(record)
            except Exception as exc:  # a live view must never break serving
                self.last_error = f"delivering a call failed: {exc!r}"

    def add(self, record: CallRecord) -> None:
        """Keep a call built as a CallRecord (tests, embedders)."""
        self.add_entry(entry_from_record(record))

    def subscribe(
        self, *, maxsize: int | None = None, flt: CallFilter | None = None
    ) -> Subscription:
        """Return a subscription to every record added from now on (call inside the loop)."""
        sub = Subscription(self, maxsize or self.subscriber_queue, flt)
        self._subscribers.add(sub)
        return sub

    # -- the pipe to the writer ------------------------------------------------------------

    def _send(self) -> None:
        """Hand the pending calls to the writer in one frame."""
        self._send_handle = None
        if not self._pending or self._proc is None:
            return
        pending, self._pending = self._pending, []
        try:
            frame = encode_frame(pending)
        except Exception as exc:  # logging must never break serving
            self._lost += sum(isinstance(item, tuple) for item in pending)
            self.last_error = f"cannot pass calls to the call-log writer: {exc!r}"
            return
        if self._loop is None:
            self._unsent += frame
            self._write_blocking()
            return
        if self._unsent:  # the pipe is full; _drain will send it after what waits
            self._unsent += frame
            return
        try:
            written = os.write(self._fd, frame)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self._writer_died(exc)
            return
        if written < len(frame):
            self._unsent += frame[written:]
            self._loop.add_writer(self._fd, self._drain)

    def _drain(self) -> None:
        try:
            written = os.write(self._fd, self._unsent)
        except BlockingIOError:
            return
        except OSError as exc:
            self._writer_died(exc)
            return
        del self._unsent[:written]
        if not self._unsent and self._loop is not None:
            self._loop.remove_writer(self._fd)

    def _write_blocking(self) -> None:
        view = memoryview(self._unsent)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            self._writer_died(exc)
        finally:
            view.release()
            self._unsent.clear()

    def _writer_died(self, exc: OSError) -> None:
        if self._loop is not None:
            self._loop.remove_writer(self._fd)
        self._unsent.clear()
        code = self._proc.poll() if self._proc is not None else None
        self.last_error = f"the call-log writer exited (code {code}): {exc}"
        self._lost = max(self._added - self._written - self._failed, 0)

    def _on_status(self) -> None:
        if not self._read_status() and self._loop is not None:
            self._loop.remove_reader(self._status_fd)
            if self._proc is not None and self._accepting:
                self.last_error = f"the call-log writer exited (code {self._proc.poll()})"
                self._lost = max(self._added - self._written - self._failed, 0)
            self._resolve_waiters()

    def _read_status(self) -> bool:
        """Apply the writer's reports read so far; False at the end of its pipe."""
        try:
            chunk = os.read(self._status_fd, 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not chunk:
            return False
        *lines, self._status_buffer = (self._status_buffer + chunk).split(b"\n")
        for line in lines:
            report = json.loads(line)
            self._written = report["written"]
            self._failed = report["failed"]
            self.last_error = report.get("error", self.last_error)
            for token in report["flushed"]:
                self._flushed = max(self._flushed, token)
                waiter = self._waiters.pop(token, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
        return True

    def _resolve_waiters(self) -> None:
        """Wake every flush still waiting (the writer is gone: nothing more will come)."""
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            waiter.get_loop().call_soon_threadsafe(_set_done, waiter)

    # -- reads -----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every record added so far is committed."""
        if self._proc is None or self._loop is None:
            return
        token = next(self._tokens)
        done = self._loop.create_future()
        self._waiters[token] = done
        self._pending.append(token)
        if self._send_handle is not None:
            self._send_handle.cancel()
        self._send()
        await done

    def flush_sync(self) -> None:
        """`flush()` for code without an event loop."""
        if self._proc is None:
            return
        token = next(self._tokens)
        self._pending.append(token)
        self._send()
        os.set_blocking(self._status_fd, True)
        while self._flushed < token:
            if not self._read_status():
                break  # the writer is gone; stats() says so

    def _read_store(self) -> CallStore:
        if self._reader is None:
            raise LogStoreError("the call log is not running", file=self.path)
        return self._reader

    async def query(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        status: int | str | None = None,
        method: str | None = None,
        path: str | None = None,
        response_name: str | None = None,
        response_type: ResponseType | None = None,
        search: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        direction: Direction = "desc",
    ) -> tuple[list[CallRecord], str | None]:
        """Return one page of stored calls (after a flush) and the next page's cursor."""
        flt = CallFilter(since, until, status, method, path, response_name, response_type, search)
        return await self.select(flt, limit=limit, cursor=cursor, direction=direction)

    async def select(
        self,
        flt: CallFilter,
        *,
        limit: int = 100,
        cursor: str | None = None,
        direction: Direction = "desc",
    ) -> tuple[list[CallRecord], str | None]:
        """`query()` with the filter already built."""
        await self.flush()
        store = self._read_store()

        def run() -> tuple[list[CallRecord], str | None]:
            with store.lock:
                return store.select(flt, limit=limit, cursor=cursor, direction=direction)

        return await asyncio.to_thread(run)

    async def get(self, call_id: str) -> CallRecord | None:
        """Return one stored call by id (after a flush)."""
        await self.flush()
        store = self._read_store()

        def run() -> CallRecord | None:
            with store.lock:
                return store.get(call_id)

        return await asyncio.to_thread(run)

    async def count(self) -> int:
        """Return how many calls the store holds (all processes)."""
        await self.flush()
        store = self._read_store()

        def run() -> int:
            with store.lock:
                return store.count()

        return await asyncio.to_thread(run)

    def stats(self) -> CallLogStats:
        """Return this process's counters."""
        settled = self._written + self._failed + self._lost
        return CallLogStats(
            written=self._written,
            pending=max(self._added - settled, 0) if self._proc is not None else 0,
            dropped=self._rejected + self._failed + self._lost,
            subscribers=len(self._subscribers),
            last_error=self.last_error,
        )


def _set_done(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


__all__ = [
    "DEFAULT_BODY_CAP",
    "DEFAULT_DB_PATH",
    "DEFAULT_MAX_RECORDS",
    "CallFilter",
    "CallLog",
    "CallLogStats",
    "CallRecord",
    "CallStore",
    "LogStoreError",
    "ResponseType",
    "Subscription",
    "iso_utc",
    "new_call_id",
    "parse_time",
]
