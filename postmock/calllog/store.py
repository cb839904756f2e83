"""The call-log file: SQLite in WAL mode, safe for several writing processes.

Calls are kept the way the writer process receives them: one row per batch ("frame"),
the batch's entries (`calllog.entry.Entry`, masked and capped) marshalled into one blob, with
the time range and number of its calls beside it. Storing 200 calls is one insert, not
200: the per-call insert was a third of the writer's time (docs/performance.md).
Reads are rare; they decode only the frames whose time range can hold what they look
for, and filter with `CallFilter.matches`. The store holds at most `max_records` calls
(10,000 by default, plus the hidden older part of one frame), so a read never decodes
much more than that.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

from postmock.calllog.entry import ID, SERVED_AT, Entry, record_from_entry
from postmock.calllog.filter import CallFilter, decode_cursor, encode_cursor
from postmock.calllog.frames import BlobError, decode_blob, encode_calls
from postmock.calllog.ids import MIN_PART, SHOWN_CANDIDATES, AmbiguousCallId
from postmock.calllog.record import CallRecord
from postmock.errors import LogStoreError

Direction = Literal["desc", "asc"]
T = TypeVar("T")

#: `PRAGMA application_id` of a postmock store ("PMCL"): how a store file is recognised.
APPLICATION_ID = 0x504D434C
#: 1: one row per call (postmock 0.1); 2: one row per batch of calls.
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 5000
_LOCK_RETRY_SECONDS = 30.0

# Calls are numbered as they are stored: a frame holds calls `upto - n + 1` to `upto`
# (`upto` grows with `seq`). Calls numbered `cut` or lower are gone (retention); the
# newest frame's `cut` is the one that counts. Frames entirely at or below it are deleted;
# the one frame that straddles it keeps its blob, and reads skip its first calls: cutting
# calls out of a blob would rewrite it, about as much writing as storing it again.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS frames (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL,
    n INTEGER NOT NULL,
    upto INTEGER NOT NULL,
    cut INTEGER NOT NULL,
    calls BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS frames_first_at ON frames (first_at);
CREATE INDEX IF NOT EXISTS frames_last_at ON frames (last_at);
CREATE TABLE IF NOT EXISTS numbering (one INTEGER PRIMARY KEY CHECK (one = 1), upto INTEGER);
CREATE TABLE IF NOT EXISTS origins (origin TEXT PRIMARY KEY, frame INTEGER NOT NULL);
"""
# `numbering.upto`: the number of the newest call ever stored, so numbers keep growing
# even when every frame is deleted (a clear). `origins`: the newest frame number each
# writer stored (`calllog.process` replays unconfirmed frames after a writer restart).
_INSERT = "INSERT INTO frames (first_at, last_at, n, upto, cut, calls) VALUES (?, ?, ?, ?, ?, ?)"
_CUT = "(SELECT cut FROM frames ORDER BY seq DESC LIMIT 1)"
#: What reads select of a frame: enough to decode it and skip its calls below the cut.
_FRAME = f"seq, n, upto, {_CUT}, calls"
_Key = tuple[float, str]
#: A batch to store: its calls, their blob when already made, and maybe its frame number.
_Batch = tuple[Sequence[Entry], bytes | None] | tuple[Sequence[Entry], bytes | None, int]


def _why(exc: sqlite3.OperationalError) -> str:
    text = str(exc)
    if _is_locked(exc):
        return f"{text} (another process holds its write lock; use another --log-db or --no-log)"
    return text


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class CallStore:
    """One SQLite connection to a call-log file; not thread-safe by itself (callers hold a lock)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self.lock = threading.Lock()  # for callers sharing one store between threads
        self.lock_wait = _LOCK_RETRY_SECONDS

    @classmethod
    def open(cls, path: str | Path, *, lock_wait: float = _LOCK_RETRY_SECONDS) -> CallStore:
        """Open (creating it and its folder if needed) a store for writing; wait at most
        about `lock_wait` seconds for another process's write lock."""
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                target,
                timeout=min(BUSY_TIMEOUT_MS / 1000, lock_wait),
                isolation_level=None,  # explicit BEGIN IMMEDIATE / COMMIT below
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise LogStoreError(f"cannot open call log: {exc}", file=target) from None
        store = cls(conn, target, readonly=False)
        store.lock_wait = lock_wait
        try:
            store._retry(store._init_schema)
        except sqlite3.OperationalError as exc:
            conn.close()
            raise LogStoreError(f"cannot use call log: {_why(exc)}", file=target) from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LogStoreError(f"not a postmock call log ({exc})", file=target) from None
        return store

    @classmethod
    def open_readonly(cls, path: str | Path) -> CallStore:
        """Open an existing store read-only; LogStoreError when it is missing or not a store."""
        target = Path(path)
        if not target.is_file():
            raise LogStoreError("no call log here (start `postmock serve` first)", file=target)
        try:
            uri = target.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            (app_id,) = conn.execute("PRAGMA application_id").fetchone()
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            raise LogStoreError(f"not a postmock call log ({exc})", file=target) from None
        if app_id == APPLICATION_ID and "calls" in tables:
            conn.close()
            raise LogStoreError(
                "call log from an older postmock: run `postmock serve` once to upgrade it",
                file=target,
            )
        if app_id != APPLICATION_ID or "frames" not in tables:
            conn.close()
            raise LogStoreError("not a postmock call log", file=target)
        return cls(conn, target, readonly=True)

    def _init_schema(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(min(BUSY_TIMEOUT_MS, self.lock_wait * 1000))}")
        conn.execute("PRAGMA journal_mode = WAL")
        # A call log needs to survive the process, not a power cut: no fsync at checkpoints.
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN IMMEDIATE")
        try:
            (app_id,) = conn.execute("PRAGMA application_id").fetchone()
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
                raise sqlite3.DatabaseError("a different SQLite database")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if "calls" in tables:
                from postmock.calllog.migrate import migrate_v1

                migrate_v1(conn, _INSERT)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _retry(self, action: Callable[[], T]) -> T:
        """Run `action`, retrying while another process holds the write lock."""
        deadline = time.monotonic() + self.lock_wait
        pause = 0.01
        while True:
            try:
                return action()
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                locked = isinstance(exc, sqlite3.OperationalError) and _is_locked(exc)
                if not locked or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def write(
        self,
        entries: Sequence[Entry],
        max_records: int | None = None,
        *,
        blob: bytes | None = None,
    ) -> None:
        """Store `entries` as one frame; forget the oldest calls beyond `max_records`.

        `blob`: the entries already marshalled (`encode_calls` format), as the writer
        received them from the server when nothing had to be masked.
        """
        self.write_frames([(entries, blob)], max_records)

    def write_frames(
        self,
        frames: Sequence[
            tuple[Sequence[Entry], bytes | None] | tuple[Sequence[Entry], bytes | None, int]
        ],
        max_records: int | None,
        origin: str = "",
    ) -> None:
        """`write` several frames in one transaction; with `origin`, remember the newest
        frame number (the third item of each frame) stored for it."""
        rows = []
        number = 0
        for entries, blob, *rest in frames:
            number = max([number, *rest])
            if entries:
                times = [e[SERVED_AT] for e in entries]
                rows.append((min(times), max(times), len(entries), blob or encode_calls(entries)))
        if not rows:
            return

        def transaction() -> None:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            newest = conn.execute("SELECT upto, cut FROM frames ORDER BY seq DESC LIMIT 1")
            upto, last_cut = newest.fetchone() or (0, 0)
            (numbered,) = conn.execute("SELECT max(upto) FROM numbering").fetchone()
            upto = max(upto, numbered or 0)
            cut = max(last_cut, 0)
            for first_at, last_at, n, blob in rows:
                upto += n
                if max_records is not None:
                    cut = max(cut, upto - max(max_records, 0))
                conn.execute(_INSERT, (first_at, last_at, n, upto, cut, blob))
            conn.execute("INSERT OR REPLACE INTO numbering (one, upto) VALUES (1, ?)", (upto,))
            if origin:
                conn.execute(
                    "INSERT OR REPLACE INTO origins (origin, frame) VALUES (?, ?)", (origin, number)
                )
            if cut > last_cut:  # walk from the oldest frame to the first that keeps a call
                conn.execute(
                    "DELETE FROM frames WHERE seq < "
                    "(SELECT seq FROM frames WHERE upto > ? ORDER BY seq LIMIT 1)",
                    (cut,),
                )
            conn.execute("COMMIT")

        self._retry(transaction)

    def _entries(self, seq: int, n: int, upto: int, cut: int, blob: bytes) -> list[Entry]:
        """The calls of one frame (a `_FRAME` row) that are still kept."""
        try:
            entries = decode_blob(blob)
        except BlobError as exc:
            raise LogStoreError(
                f"call log batch {seq} is unreadable: {exc}", file=self.path
            ) from None
        gone = cut - (upto - n)
        return entries[gone:] if gone > 0 else entries

    def _numbered(self, seq: int, n: int, upto: int, cut: int, blob: bytes) -> list[CallRecord]:
        """The kept calls of one frame as records carrying their call numbers."""
        entries = self._entries(seq, n, upto, cut, blob)
        first = upto - len(entries) + 1
        records = []
        for number, entry in enumerate(entries, first):
            record = record_from_entry(entry)
            record.seq = number
            records.append(record)
        return records

    def last_frame_number(self, origin: str) -> int:
        """The newest frame number stored for `origin` (0: none)."""
        row = self._conn.execute("SELECT frame FROM origins WHERE origin = ?", (origin,)).fetchone()
        return int(row[0]) if row else 0

    def top(self) -> tuple[int, int]:
        """(the newest call number stored, the number below which calls are gone)."""
        row = self._conn.execute("SELECT upto, cut FROM frames ORDER BY seq DESC LIMIT 1")
        upto, cut = row.fetchone() or (0, 0)
        return int(upto), int(cut)

    def calls_after(
        self, after: int, flt: CallFilter, limit: int = 1000
    ) -> tuple[list[CallRecord], int, int]:
        """Calls numbered above `after` that match `flt`, oldest first (whole frames, about
        `limit` calls); the number of the last call read (`after` when none); and how
        many calls after `after` are gone (retention) and were skipped."""
        rows = self._conn.execute(
            f"SELECT {_FRAME} FROM frames WHERE upto > ? ORDER BY seq", (after,)
        )
        records: list[CallRecord] = []
        last = after
        skipped = 0
        seen = 0
        for row in rows:
            seq, n, upto, cut, blob = row
            first_kept = max(upto - n, cut) + 1
            if first_kept > last + 1:
                skipped += first_kept - last - 1
            numbered = self._numbered(*row)
            for record in numbered:
                if record.seq > last and flt.matches(record):
                    records.append(record)
            last = max(last, upto)
            seen += len(numbered)
            if seen >= limit:
                break
        return records, last, skipped

    def newest(self, flt: CallFilter, count: int, upto: int) -> list[CallRecord]:
        """The newest `count` calls numbered `upto` or below that match `flt`, oldest first."""
        found: list[CallRecord] = []
        rows = self._conn.execute(
            f"SELECT {_FRAME} FROM frames WHERE upto - n < ? ORDER BY seq DESC", (upto,)
        )
        for row in rows:
            matching = [r for r in self._numbered(*row) if r.seq <= upto and flt.matches(r)]
            found = matching + found
            if len(found) >= count:
                break
        return found[-count:] if count else []

    def count(self) -> int:
        """Return how many calls the store holds."""
        total, oldest, cut = self._conn.execute(
            f"SELECT coalesce(sum(n), 0), min(upto - n), {_CUT} FROM frames"
        ).fetchone()
        return int(total) - max(0, (cut or 0) - (oldest or 0))

    def get(self, call_id: str) -> CallRecord | None:
        """Return one call by id."""
        # Ids start with their millisecond (record.new_call_id): look in the frames of
        # that moment first. Any other id (a record built by hand) is looked for everywhere.
        windows: list[tuple[float, float]] = []
        try:
            millis = int(call_id[:12], 16) if len(call_id) >= 12 else None
        except ValueError:
            millis = None
        if millis is not None:
            windows.append((millis / 1000 - 0.002, millis / 1000 + 0.002))
        windows.append((float("-inf"), float("inf")))
        for lo, hi in windows:
            rows = self._conn.execute(
                f"SELECT {_FRAME} FROM frames WHERE last_at >= ? AND first_at <= ?", (lo, hi)
            )
            for row in rows:
                seq, n, upto, cut, blob = row
                kept = self._entries(*row)
                for number, entry in enumerate(kept, upto - len(kept) + 1):
                    if entry[ID] == call_id:
                        record = record_from_entry(entry)
                        record.seq = number
                        return record
        return None

    def lookup(self, part: str) -> CallRecord | None:
        """One call by its id or by any part of it of `MIN_PART` or more characters.

        AmbiguousCallId when several calls contain the part. A part cannot say when its
        call was made, so every kept frame is read (at most `max_records` calls).
        """
        if len(part) >= 24 or len(part) < MIN_PART:  # a whole postmock id, or no part at all
            exact = self.get(part)
            if exact is not None or len(part) < MIN_PART:
                return exact
        needle = part.lower()
        found: dict[str, Entry] = {}
        for row in self._conn.execute(f"SELECT {_FRAME} FROM frames ORDER BY seq DESC"):
            for entry in self._entries(*row):
                if entry[ID] == part:
                    return record_from_entry(entry)  # a whole id is never ambiguous
                if needle in entry[ID].lower():
                    found.setdefault(entry[ID], entry)
            if len(found) > SHOWN_CANDIDATES:
                break
        if len(found) > 1:
            raise AmbiguousCallId(part, found)
        return record_from_entry(next(iter(found.values()))) if found else None

    def select(
        self,
        flt: CallFilter,
        *,
        limit: int = 100,
        cursor: str | None = None,
        direction: Direction = "desc",
    ) -> tuple[list[CallRecord], str | None]:
        """One page of calls matching `flt`, by `servedAt`, and the next page's cursor (or None)."""
        if direction not in ("asc", "desc"):
            raise ValueError(f"invalid direction {direction!r}: use asc or desc")
        if limit < 1:
            raise ValueError(f"invalid limit {limit}: must be at least 1")
        desc = direction == "desc"
        lo = float("-inf") if flt.since is None else flt.since
        hi = float("inf") if flt.until is None else flt.until
        past: _Key | None = None
        if cursor is not None:
            past = decode_cursor(cursor)
            lo, hi = (lo, min(hi, past[0])) if desc else (max(lo, past[0]), hi)
        # Frames newest-last first (oldest-first when ascending): once a page is full and
        # the next frame cannot hold anything later (earlier) than its last call, stop.
        order = "last_at DESC" if desc else "first_at ASC"
        rows = self._conn.execute(
            f"SELECT first_at, last_at, {_FRAME} FROM frames "
            f"WHERE last_at >= ? AND first_at <= ? ORDER BY {order}",
            (lo, hi),
        )
        want = limit + 1
        found: list[tuple[_Key, CallRecord]] = []
        for first_at, last_at, *frame in rows:
            if len(found) >= want:
                found.sort(key=_first, reverse=desc)
                del found[want:]
                edge = found[-1][0][0]
                if (edge > last_at) if desc else (edge < first_at):
                    break
            kept = self._entries(*frame)
            for number, entry in enumerate(kept, frame[2] - len(kept) + 1):
                key = (entry[SERVED_AT], entry[ID])
                if past is not None and ((key >= past) if desc else (key <= past)):
                    continue
                if not lo <= key[0] <= hi:
                    continue
                record = record_from_entry(entry)
                if flt.matches(record):
                    record.seq = number
                    found.append((key, record))
        found.sort(key=_first, reverse=desc)
        records = [record for _, record in found[:limit]]
        next_cursor = encode_cursor(records[-1]) if len(found) > limit else None
        return records, next_cursor

    def clear(self) -> int:
        """Forget every stored call; return how many there were. Call numbers go on from
        where they were (`numbering`), so a follower's cursor stays valid."""
        count = self.count()
        self._retry(lambda: self._conn.execute("DELETE FROM frames"))
        return count

    def close(self) -> None:
        """Close the connection (checkpointing the WAL when last out)."""
        self._conn.close()


def _first(item: tuple[_Key, CallRecord]) -> _Key:
    return item[0]
