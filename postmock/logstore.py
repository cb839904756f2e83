"""The call-log file: SQLite in WAL mode, safe for several writing processes, keyset paging."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, TypeVar, cast

from .callfilter import CallFilter
from .callrecord import CallRecord, ResponseType, headers_from_text, headers_to_text
from .errors import LogStoreError

Direction = Literal["desc", "asc"]
T = TypeVar("T")

#: `PRAGMA application_id` of a postmock store ("PMCL"): how a store file is recognised.
APPLICATION_ID = 0x504D434C
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000
_LOCK_RETRY_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    served_at REAL NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body TEXT NOT NULL,
    response_type TEXT NOT NULL,
    response_name TEXT,
    duration_ms REAL NOT NULL,
    delay_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_served_at ON calls (served_at, id);
"""
_COLUMNS = (
    "id, served_at, method, path, query, request_headers, request_body, status_code, "
    "response_headers, response_body, response_type, response_name, duration_ms, delay_ms"
)
_INSERT = f"INSERT INTO calls ({_COLUMNS}) VALUES ({', '.join('?' * 14)})"


def _contains(haystack: str | None, needle: str | None) -> bool:
    """SQL `pm_contains`: the same case-insensitive contains as `CallFilter.matches`."""
    if not needle:
        return False
    return needle.lower() in (haystack or "").lower()


def encode_cursor(record: CallRecord) -> str:
    """Return an opaque page cursor pointing just past `record`."""
    raw = json.dumps([record.served_at, record.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Inverse of `encode_cursor`; ValueError on anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        served_at, call_id = json.loads(raw)
        return float(served_at), str(call_id)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc


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
        conn.create_function("pm_contains", 2, _contains, deterministic=True)

    @classmethod
    def open(cls, path: str | Path) -> CallStore:
        """Open (creating it and its folder if needed) a store for writing."""
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                target,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # explicit BEGIN IMMEDIATE / COMMIT below
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise LogStoreError(f"cannot open call log: {exc}", file=target) from None
        store = cls(conn, target, readonly=False)
        try:
            store._retry(store._init_schema)
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
        if app_id != APPLICATION_ID or "calls" not in tables:
            conn.close()
            raise LogStoreError("not a postmock call log", file=target)
        return cls(conn, target, readonly=True)

    def _init_schema(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
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
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _retry(self, action: Callable[[], T]) -> T:
        """Run `action`, retrying while another process holds the write lock."""
        deadline = time.monotonic() + _LOCK_RETRY_SECONDS
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

    def write(self, records: Sequence[CallRecord], max_records: int | None = None) -> None:
        """Insert `records` in one transaction, then delete the oldest beyond `max_records`."""
        rows = [
            (
                r.id,
                r.served_at,
                r.method,
                r.path,
                r.query,
                headers_to_text(r.request_headers),
                r.request_body,
                r.status_code,
                headers_to_text(r.response_headers),
                r.response_body,
                r.response_type,
                r.response_name,
                r.duration_ms,
                r.delay_ms,
            )
            for r in records
        ]

        def transaction() -> None:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(_INSERT, rows)
            if max_records is not None:
                # seq only grows, so the newest seq minus the limit is the cut: two index
                # lookups, not an OFFSET walk over every kept row on each batch.
                self._conn.execute(
                    "DELETE FROM calls WHERE seq <= (SELECT max(seq) FROM calls) - ?",
                    (max_records,),
                )
            self._conn.execute("COMMIT")

        self._retry(transaction)

    def count(self) -> int:
        """Return how many calls the store holds."""
        (total,) = self._conn.execute("SELECT count(*) FROM calls").fetchone()
        return int(total)

    def get(self, call_id: str) -> CallRecord | None:
        """Return one call by id."""
        # Ids start with their millisecond (callrecord.new_call_id): look there through the
        # served_at index, so that no second index on id is kept up on every insert. Any
        # other id (a record built by hand) is looked for in every row.
        found = None
        try:
            millis = int(call_id[:12], 16) if len(call_id) >= 12 else None
        except ValueError:
            millis = None
        if millis is not None:
            found = self._conn.execute(
                f"SELECT {_COLUMNS} FROM calls WHERE served_at BETWEEN ? AND ? AND id = ?",
                (millis / 1000 - 0.002, millis / 1000 + 0.002, call_id),
            ).fetchone()
        if found is None:
            found = self._conn.execute(
                f"SELECT {_COLUMNS} FROM calls WHERE id = ?", (call_id,)
            ).fetchone()
        return _record(found) if found else None

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
        where, params = _where(flt)
        if cursor is not None:
            served_at, call_id = decode_cursor(cursor)
            where.append("(served_at, id) " + ("<" if direction == "desc" else ">") + " (?, ?)")
            params += [served_at, call_id]
        order = "DESC" if direction == "desc" else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM calls"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY served_at {order}, id {order} LIMIT ?"
        )
        rows = self._conn.execute(sql, [*params, limit + 1]).fetchall()
        records = [_record(row) for row in rows[:limit]]
        next_cursor = encode_cursor(records[-1]) if len(rows) > limit else None
        return records, next_cursor

    def last_seq(self) -> int:
        """Return the insertion number of the newest call (0 when empty)."""
        (seq,) = self._conn.execute("SELECT coalesce(max(seq), 0) FROM calls").fetchone()
        return int(seq)

    def after(self, seq: int, flt: CallFilter, limit: int = 1000) -> tuple[list[CallRecord], int]:
        """Return calls inserted after `seq` (in insertion order) and the new last seq seen."""
        rows = self._conn.execute(
            f"SELECT seq, {_COLUMNS} FROM calls WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        if not rows:
            return [], seq
        records = [r for r in (_record(row[1:]) for row in rows) if flt.matches(r)]
        return records, int(rows[-1][0])

    def close(self) -> None:
        """Close the connection (checkpointing the WAL when last out)."""
        self._conn.close()


def _where(flt: CallFilter) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if flt.since is not None:
        where.append("served_at >= ?")
        params.append(flt.since)
    if flt.until is not None:
        where.append("served_at <= ?")
        params.append(flt.until)
    if flt.status_codes is not None:
        where.append("status_code BETWEEN ? AND ?")
        params += list(flt.status_codes)
    if flt.method:
        where.append("method = ?")
        params.append(flt.method.upper())
    if flt.path:
        where.append("pm_contains(path, ?)")
        params.append(flt.path)
    if flt.response_name:
        where.append("pm_contains(response_name, ?)")
        params.append(flt.response_name)
    if flt.response_type:
        where.append("response_type = ?")
        params.append(flt.response_type)
    if flt.search:
        fields = ("path", "query", "response_name", "request_body", "response_body")
        where.append("(" + " OR ".join(f"pm_contains({f}, ?)" for f in fields) + ")")
        params += [flt.search] * len(fields)
    return where, params


def _record(row: Sequence[object]) -> CallRecord:
    return CallRecord(
        id=str(row[0]),
        served_at=float(cast(float, row[1])),
        method=str(row[2]),
        path=str(row[3]),
        query=str(row[4]),
        request_headers=headers_from_text(str(row[5])),
        request_body=str(row[6]),
        status_code=int(cast(int, row[7])),
        response_headers=headers_from_text(str(row[8])),
        response_body=str(row[9]),
        response_type=cast(ResponseType, row[10]),
        response_name=None if row[11] is None else str(row[11]),
        duration_ms=float(cast(float, row[12])),
        delay_ms=float(cast(float, row[13])),
    )
