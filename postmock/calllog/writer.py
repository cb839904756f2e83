"""The call-log writer process: reads calls from a pipe, stores them, prints plain lines.

`postmock serve` hands every served call to this process instead of writing SQLite on
its own event loop or on a thread: a thread shares the GIL with the loop, and each hand-off
between them costs the loop more than the insert itself (measured in docs/performance.md).
The server marshals the calls it served in the last few milliseconds and writes them to
this process's stdin in one frame; this process masks secrets, caps bodies, stores each
frame (or everything that piled up) as one batch (`calllog.store`), prints one plain line per
call when asked, and reports on its status pipe what it wrote and which flushes are done.

It ignores SIGINT and SIGTERM: a Ctrl-C or a `kill` of the process group reaches the
server too, which sends its last calls and closes the pipe; this process exits once it has
written everything up to the end of the pipe. If the server dies without closing, the pipe
still ends, and every call it had sent is kept.

Frames: 4-byte big-endian length, then `M` and a marshalled list (or `P` and a pickled
one) whose items are call entries
(tuples, see `calllog.entry.Entry`) or flush tokens (ints). Status lines are JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import IO, Final

from postmock.calllog.entry import Entry, entry_json_lines, entry_lines
from postmock.calllog.frames import Frame, FrameReader, is_current
from postmock.calllog.redact import Redactor
from postmock.config import DEFAULT_BODY_CAP, DEFAULT_LOG_MAX

_FAILED_BATCH_RETRIES: Final = 3


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
        json_lines: bool = False,
    ) -> None:
        from postmock.calllog.store import CallStore  # sqlite3: only when there is a store

        self.store = CallStore.open(db) if db else None
        self.max_records = max_records
        self.redactor = Redactor(redact, body_cap)
        self.lines = lines
        self.format_lines = entry_json_lines if json_lines else entry_lines
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
            as_sent = is_current(body)
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
                self.lines.write("".join(self.format_lines(entries) for entries, _ in batches))
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
    """Entry point of the writer process (`python -m postmock.calllog.writer`)."""
    ap = argparse.ArgumentParser(prog="postmock-calllog-writer")
    ap.add_argument("--db")
    ap.add_argument("--max-records", type=int, default=DEFAULT_LOG_MAX)
    ap.add_argument("--body-cap", type=int, default=DEFAULT_BODY_CAP)
    ap.add_argument("--redact", action="append", default=[])
    ap.add_argument("--lines-fd", type=int)
    ap.add_argument("--status-fd", type=int)
    ap.add_argument("--json-lines", action="store_true")
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
        json_lines=args.json_lines,
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
