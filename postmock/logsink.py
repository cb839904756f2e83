"""The call-log writer process: reads calls from a pipe, stores them, prints plain lines.

`postmock serve` hands every served call to this process instead of writing SQLite on
its own event loop or on a thread: a thread shares the GIL with the loop, and each hand-off
between them costs the loop more than the insert itself (measured in docs/performance.md).
The server marshals the calls it served in the last few milliseconds and writes them to
this process's stdin in one frame; this process masks secrets, caps bodies, stores each
frame (or everything that piled up) as one batch (`logstore`), prints one plain line per
call when asked, and reports on its status pipe what it wrote and which flushes are done.

It ignores SIGINT and SIGTERM: a Ctrl-C or a `kill` of the process group reaches the
server too, which sends its last calls and closes the pipe; this process exits once it has
written everything up to the end of the pipe. If the server dies without closing, the pipe
still ends, and every call it had sent is kept.

Frames: 4-byte big-endian length, then `M` and a marshalled list (or `P` and a pickled
one) whose items are call entries
(tuples, see `callentry.Entry`) or flush tokens (ints). Status lines are JSON.
"""

from __future__ import annotations

import argparse
import json
import marshal
import os
import pickle
import signal
import struct
import sys
from collections.abc import Sequence
from typing import IO, Any, Final, cast

from .callentry import MARSHAL_VERSION, MARSHALLED, Entry, Redactor, entry_lines

_HEADER: Final = struct.Struct(">I")
_READ_SIZE: Final = 1 << 20
_FAILED_BATCH_RETRIES: Final = 3


def encode_frame(items: Sequence[Entry | int]) -> bytes:
    """One frame for the pipe.

    marshal, not pickle: both ends are this same Python, entries hold only tuples, str,
    bytes and numbers, and marshal writes them in a third of pickle's time. A marshalled
    frame of entries only is also a store blob (`callentry.MARSHALLED`).
    """
    try:
        payload = MARSHALLED + marshal.dumps(cast(Any, items), MARSHAL_VERSION)
    except ValueError:  # a str or tuple subclass (an embedder's CallRecord): pickle it
        payload = b"P" + pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


#: One frame as it came through the pipe (its kind byte and payload) and its items.
Frame = tuple[bytes, list[Entry | int]]


class FrameReader:
    """Reads frames from a file descriptor; every complete frame read so far at once."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False

    def read(self) -> list[Frame]:
        """Block until at least one frame (or the end) arrives; return all complete ones."""
        frames: list[Frame] = []
        while not frames and not self.eof:
            chunk = os.read(self.fd, _READ_SIZE)
            if not chunk:
                self.eof = True
            self.buffer += chunk
            frames += self._frames()
        return frames

    def _frames(self) -> list[Frame]:
        view = self.buffer
        start = 0
        frames: list[Frame] = []
        while len(view) - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(view, start)
            end = start + _HEADER.size + size
            if end > len(view):
                break
            body = bytes(view[start + _HEADER.size : end])
            payload = memoryview(body)[1:]
            items = marshal.loads(payload) if body[:1] == MARSHALLED else pickle.loads(payload)
            frames.append((body, items))
            start = end
        del view[:start]
        return frames


class Sink:
    """What the writer process does with each batch; separate from I/O for tests."""

    def __init__(
        self,
        db: str | None,
        *,
        max_records: int,
        body_cap: int,
        redact: Sequence[str],
        lines: IO[str] | None,
        status: IO[str] | None,
    ) -> None:
        from .logstore import CallStore  # sqlite3: only when there is a store

        self.store = CallStore.open(db) if db else None
        self.max_records = max_records
        self.redactor = Redactor(redact, body_cap)
        self.lines = lines
        self.status = status
        self.written = 0
        self.failed = 0
        self.error: str | None = None

    def handle(self, frames: Sequence[Frame]) -> None:
        """Store and print the calls of `frames`, then report the flush tokens among them."""
        clean = self.redactor.clean
        batches: list[tuple[list[Entry], bytes | None]] = []
        tokens: list[int] = []
        for body, items in frames:
            # A marshalled frame of entries only, none of them masked, is stored as it came:
            # no second marshal of the same calls.
            entries: list[Entry] = []
            as_sent = body[:1] == MARSHALLED
            for item in items:
                if isinstance(item, tuple):
                    entry = clean(item)
                    as_sent = as_sent and entry is item
                    entries.append(entry)
                else:
                    tokens.append(item)
                    as_sent = False
            if entries:
                batches.append((entries, body if as_sent else None))
        if batches and self.store is not None:
            self._store(batches)
        if batches and self.lines is not None:
            try:
                self.lines.write("".join(entry_lines(entries) for entries, _ in batches))
                self.lines.flush()
            except (OSError, ValueError):
                self.lines = None  # the terminal went away: keep storing
        if self.status is not None and (batches or tokens):
            report = {"written": self.written, "failed": self.failed, "flushed": tokens}
            if self.error:
                report["error"] = self.error
            try:
                self.status.write(json.dumps(report) + "\n")
                self.status.flush()
            except (OSError, ValueError):
                self.status = None

    def _store(self, batches: list[tuple[list[Entry], bytes | None]]) -> None:
        assert self.store is not None
        calls = sum(len(entries) for entries, _ in batches)
        for attempt in range(_FAILED_BATCH_RETRIES):
            try:
                self.store.write_frames(batches, self.max_records)
            except Exception as exc:  # the store retries locks itself; this is disk full & co.
                self.error = f"cannot write call log {self.store.path}: {exc}"
                if attempt == _FAILED_BATCH_RETRIES - 1:
                    self.failed += calls
            else:
                self.written += calls
                return

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the writer process (`python -m postmock.logsink`)."""
    ap = argparse.ArgumentParser(prog="postmock-logsink")
    ap.add_argument("--db")
    ap.add_argument("--max-records", type=int, default=10_000)
    ap.add_argument("--body-cap", type=int, default=64 * 1024)
    ap.add_argument("--redact", action="append", default=[])
    ap.add_argument("--lines-fd", type=int)
    ap.add_argument("--status-fd", type=int)
    args = ap.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # the server decides when the log ends (see above)
    lines = (
        os.fdopen(args.lines_fd, "w", encoding="utf-8", errors="replace") if args.lines_fd else None
    )
    status = None
    if args.status_fd is not None:
        status = os.fdopen(args.status_fd, "w", encoding="utf-8")
    sink = Sink(
        args.db,
        max_records=args.max_records,
        body_cap=args.body_cap,
        redact=args.redact,
        lines=lines,
        status=status,
    )
    reader = FrameReader(sys.stdin.fileno())
    try:
        while not reader.eof:
            sink.handle(reader.read())
    finally:
        sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
