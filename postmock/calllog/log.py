"""The call log: `add_entry()` on the hot path; a writer process stores; live subscribers.

The serving process keeps each call as a tuple and, every few milliseconds,
`calllog.pipe` hands what piled up to the writer process (`calllog.writer`) in one
marshalled frame through a pipe. SQLite, masking for the store and plain call lines all
run there, on their own GIL: a writer thread in the serving process cost the event loop
more in GIL hand-offs than the inserts themselves (docs/performance.md). Reads (`query`,
`get`, `count`) use this process's own connection after a flush, so a call answered before
a read is always in its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TypeVar

from postmock.calllog.entry import Entry, entry_from_record
from postmock.calllog.filter import CallFilter
from postmock.calllog.health import NOT_RUNNING, LogHealth
from postmock.calllog.process import WriterProcess
from postmock.calllog.record import CallRecord, ResponseType, iso_utc, new_call_id, parse_time
from postmock.calllog.redact import cap_entry
from postmock.calllog.store import CallStore, Direction
from postmock.config import (
    DEFAULT_BODY_CAP,
    DEFAULT_LOG_BUFFER,
    DEFAULT_LOG_DB,
    DEFAULT_LOG_LOCK_WAIT,
    DEFAULT_LOG_MAX,
)
from postmock.errors import ExitCode, LogStoreError

T = TypeVar("T")


class LogStartError(LogStoreError):
    """The store cannot be used at start-up (locked elsewhere, not a call log): the server
    does not start (exit code 3)."""

    exit_code = ExitCode.STARTUP_FAILURE


@dataclass(frozen=True)
class CallLogStats:
    """Counters for the health endpoint."""

    written: int  # records committed by this process's writer
    pending: int  # records on their way to the store
    dropped: int  # records that could not be stored (see last_error)
    last_error: str | None
    health: dict[str, object]  # LogHealth.snapshot(): status, reason, droppedBy, ...


class CallLog:
    """Keeps every served call: O(1) `add_entry()`, a writer process committing batches.

    `path` None keeps no store (plain `lines` and subscribers only). Secrets are masked and
    bodies capped before a subscriber or the store sees a record. Use it from the thread
    that started it.
    """

    def __init__(
        self,
        path: str | Path | None = DEFAULT_LOG_DB,
        *,
        max_records: int = DEFAULT_LOG_MAX,
        body_cap: int = DEFAULT_BODY_CAP,
        redact: Iterable[str] = (),
        lines: IO[str] | None = None,
        json_lines: bool = False,
        buffer_limit: int = DEFAULT_LOG_BUFFER,
        redact_bodies: bool = True,
        lock_wait: float = DEFAULT_LOG_LOCK_WAIT,
        messages: IO[str] | None = None,
    ) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.path = Path(path) if path is not None else None
        self.max_records = max_records
        self.body_cap = body_cap
        self.redact = tuple(redact)
        self.redact_bodies = redact_bodies
        self.lines = lines
        self.json_lines = json_lines  # `lines` get each call's JSON record, not a plain line
        self.buffer_limit = buffer_limit
        self.lock_wait = lock_wait
        self.health = LogHealth(messages)
        #: called (on the loop) each time the writer confirms stored calls
        self.commit_listeners: list[Callable[[], None]] = []
        self._reader: CallStore | None = None
        self._pipe: WriterProcess | None = None  # to the writer process, when there is one
        self._accepting = False
        self._rejected = 0
        self.last_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (LogStoreError if it cannot be used) and start the writer."""
        if self._accepting:
            return
        await asyncio.to_thread(self._open)
        if self._pipe is not None:
            self._pipe.attach(asyncio.get_running_loop())

    def _open(self) -> None:
        if self.path is not None:
            try:  # creates the schema; a locked or unusable file fails here, within seconds
                self._reader = CallStore.open(self.path, lock_wait=self.lock_wait)
            except LogStoreError as exc:
                raise LogStartError(exc.message, file=exc.file) from None
        if self.path is not None or self.lines is not None:
            self._pipe = WriterProcess.spawn(
                db=self.path,
                max_records=self.max_records,
                redact=self.redact,
                redact_bodies=self.redact_bodies,
                lines=self.lines,
                health=self.health,
                buffer_limit=self.buffer_limit,
                on_commit=self._committed,
                json_lines=self.json_lines,
            )
        self._accepting = True

    def _committed(self) -> None:
        for listener in tuple(self.commit_listeners):
            listener()

    async def close(self) -> None:
        """Write every pending record, stop the writer."""
        self._stop_accepting()
        if self._pipe is not None:
            self._pipe.detach()
        await asyncio.to_thread(self._finish)

    def _stop_accepting(self) -> None:
        self._accepting = False

    def _finish(self) -> None:
        """Let the writer write everything and exit; then close the reader."""
        if self._pipe is not None:
            lost = self._pipe.finish()
            if lost:
                self.health.drop(NOT_RUNNING, lost)
                self.health.say(f"{lost} calls could not be stored before stopping")
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
        """Keep one served call (see `calllog.entry.Entry`); O(1), never raises."""
        if not self._accepting:
            self._rejected += 1
            self.last_error = "record added while the call log was not running"
            return
        entry = cap_entry(entry, self.body_cap)  # before the pipe: a big body costs no more
        if self._pipe is not None:
            self._pipe.put(entry)

    def add(self, record: CallRecord) -> None:
        """Keep a call built as a CallRecord (tests, embedders)."""
        self.add_entry(entry_from_record(record))

    # -- reads -----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every record added so far is committed."""
        if self._pipe is not None:
            await self._pipe.flush()

    def _read_store(self) -> CallStore:
        if self._reader is None:
            raise LogStoreError("the call log is not running", file=self.path)
        return self._reader

    async def select(
        self,
        flt: CallFilter,
        *,
        limit: int = 100,
        cursor: str | None = None,
        direction: Direction = "desc",
    ) -> tuple[list[CallRecord], str | None]:
        """Return one page of stored calls (after a flush) and the next page's cursor."""
        return await self._read(
            lambda store: store.select(flt, limit=limit, cursor=cursor, direction=direction)
        )

    async def get(self, call_id: str) -> CallRecord | None:
        """Return one stored call by id or a unique part of it (after a flush).

        Raises `calllog.ids.AmbiguousCallId` when several calls contain the part."""
        return await self._read(lambda store: store.lookup(call_id))

    async def count(self) -> int:
        """Return how many calls the store holds (all processes)."""
        return await self._read(lambda store: store.count())

    async def _read(self, work: Callable[[CallStore], T]) -> T:
        """Run `work` on this process's connection, on a thread, after a flush."""
        await self.flush()
        store = self._read_store()

        def run() -> T:
            with store.lock:
                return work(store)

        return await asyncio.to_thread(run)

    async def clear(self) -> int:
        """Forget every call stored so far (after a flush); return how many there were."""
        return await self._read(lambda store: store.clear())

    def stats(self) -> CallLogStats:
        """Return this process's counters."""
        pipe = self._pipe
        return CallLogStats(
            written=pipe.written if pipe else 0,
            pending=pipe.pending if pipe else 0,
            dropped=self._rejected + self.health.dropped,
            last_error=self.health.last_error or self.last_error,
            health=self.health.snapshot(),
        )

    @property
    def writer_pid(self) -> int | None:
        """The writer process's id (None without one)."""
        return self._pipe.pid if self._pipe is not None else None


__all__ = [
    "CallFilter",
    "CallLog",
    "CallLogStats",
    "CallRecord",
    "CallStore",
    "LogStoreError",
    "ResponseType",
    "iso_utc",
    "new_call_id",
    "parse_time",
]
