"""The call log: `add()` on the hot path, batched SQLite writes on a thread, live subscribers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

from .callrecord import (
    SECRET_HEADERS,
    CallFilter,
    CallRecord,
    ResponseType,
    iso_utc,
    new_call_id,
    parse_time,
)
from .errors import LogStoreError
from .logstore import CallStore, Direction

DEFAULT_DB_PATH: Final = Path(".postmock") / "calls.db"
DEFAULT_MAX_RECORDS: Final = 10_000
DEFAULT_BODY_CAP: Final = 64 * 1024
DEFAULT_SUBSCRIBER_QUEUE: Final = 1000
_BATCH_SIZE: Final = 2000
_GATHER_SECONDS: Final = 0.05  # pause after a small batch (see _run_writer)
_FAILED_BATCH_RETRIES: Final = 3


class _Stop:
    """Queue sentinel: the writer drains what is before it, then exits."""


_STOP: Final = _Stop()
_QueueItem = CallRecord | concurrent.futures.Future[None] | _Stop


@dataclass(frozen=True)
class CallLogStats:
    """Counters for the health endpoint."""

    written: int  # records committed by this process
    pending: int  # records waiting for the writer
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
    """Keeps every served call: O(1) `add()`, a writer thread committing batches to SQLite.

    Secrets in headers are masked and bodies capped inside `add()`, before any subscriber
    or the store sees the record.
    """

    def __init__(
        self,
        path: str | Path = DEFAULT_DB_PATH,
        *,
        max_records: int = DEFAULT_MAX_RECORDS,
        body_cap: int = DEFAULT_BODY_CAP,
        redact: Iterable[str] = (),
        subscriber_queue: int = DEFAULT_SUBSCRIBER_QUEUE,
    ) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.path = Path(path)
        self.max_records = max_records
        self.body_cap = body_cap
        self.secret_names = SECRET_HEADERS | {name.lower() for name in redact}
        self.subscriber_queue = subscriber_queue
        self._queue: queue.SimpleQueue[_QueueItem] = queue.SimpleQueue()
        self._subscribers: set[Subscription] = set()
        self._writer: threading.Thread | None = None
        self._reader: CallStore | None = None
        self._accepting = False
        self._add_lock = threading.Lock()  # makes "accepting" and "queued before STOP" atomic
        # Each counter is written by one thread only: add() or the writer.
        self._added = 0
        self._processed = 0
        self._written = 0
        self._rejected = 0
        self._write_failed = 0
        self.last_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (LogStoreError if it cannot be used) and start the writer thread."""
        await asyncio.to_thread(self.start_sync)

    def start_sync(self) -> None:
        """`start()` for code without an event loop."""
        if self._writer is not None:
            return
        writer_store = CallStore.open(self.path)
        try:
            self._reader = CallStore.open(self.path)
        except LogStoreError:
            writer_store.close()
            raise
        self._writer = threading.Thread(
            target=self._run_writer, args=(writer_store,), name="postmock-calllog", daemon=True
        )
        self._accepting = True
        self._writer.start()

    async def close(self) -> None:
        """Write every pending record, end all subscriptions, close the store."""
        for sub in list(self._subscribers):
            sub.close()
        await asyncio.to_thread(self.close_sync)

    def close_sync(self) -> None:
        """`close()` for code without an event loop."""
        for sub in list(self._subscribers):
            sub.close()
        with self._add_lock:
            self._accepting = False
            writer, self._writer = self._writer, None
            if writer is not None:
                self._queue.put(_STOP)
        if writer is not None:
            writer.join()
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

    def add(self, record: CallRecord) -> None:
        """Queue `record` for the store and hand it to subscribers; O(1), never raises."""
        try:
            clean = record.sanitized(self.secret_names, self.body_cap)
            with self._add_lock:
                if not self._accepting:
                    self._rejected += 1
                    self.last_error = "record added while the call log was not running"
                    return
                self._added += 1
                self._queue.put(clean)
            for sub in tuple(self._subscribers):
                sub._deliver(clean)
        except Exception as exc:  # logging must never break serving
            self._rejected += 1
            self.last_error = f"add failed: {exc!r}"

    def subscribe(
        self, *, maxsize: int | None = None, flt: CallFilter | None = None
    ) -> Subscription:
        """Return a subscription to every record added from now on (call inside the loop)."""
        sub = Subscription(self, maxsize or self.subscriber_queue, flt)
        self._subscribers.add(sub)
        return sub

    # -- writer thread ---------------------------------------------------------------------

    def _run_writer(self, store: CallStore) -> None:
        stop = False
        try:
            while not stop:
                batch: list[CallRecord] = []
                waiters: list[concurrent.futures.Future[None]] = []
                item: _QueueItem | None = self._queue.get()
                while item is not None:
                    if isinstance(item, CallRecord):
                        batch.append(item)
                    elif isinstance(item, _Stop):
                        stop = True
                    else:
                        waiters.append(item)
                    if len(batch) >= _BATCH_SIZE:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        item = None
                if batch:
                    self._write(store, batch)
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
                if 0 < len(batch) < _BATCH_SIZE and not waiters and not stop:
                    # A small batch: let calls gather before the next transaction, so a
                    # steady stream costs a few commits a second, not one per call. A full
                    # batch means a backlog: write on at once.
                    time.sleep(_GATHER_SECONDS)
        finally:
            store.close()

    def _write(self, store: CallStore, batch: list[CallRecord]) -> None:
        for attempt in range(_FAILED_BATCH_RETRIES):
            try:
                store.write(batch, self.max_records)
            except Exception as exc:  # store retries locks itself; this is disk full & co.
                self.last_error = f"cannot write call log {self.path}: {exc}"
                if attempt == _FAILED_BATCH_RETRIES - 1:
                    self._write_failed += len(batch)
            else:
                self._written += len(batch)
                break
        self._processed += len(batch)

    # -- reads -----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every record added so far is committed."""
        if self._writer is None:
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._queue.put(done)
        await asyncio.wrap_future(done)

    def flush_sync(self) -> None:
        """`flush()` for code without an event loop."""
        if self._writer is None:
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._queue.put(done)
        done.result()

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
        return CallLogStats(
            written=self._written,
            pending=max(self._added - self._processed, 0),
            dropped=self._rejected + self._write_failed,
            subscribers=len(self._subscribers),
            last_error=self.last_error,
        )


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
