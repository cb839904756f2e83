"""The call-log writer process: reads calls from a pipe, stores them, prints plain lines.

`postmock serve` hands every served call to this process instead of writing SQLite on
its own event loop or on a thread: a thread shares the GIL with the loop, and each hand-off
between them costs the loop more than the insert itself (measured in docs/performance.md).
The server marshals the calls it served in the last few milliseconds and writes them to
this process's stdin in one frame; this process masks secrets, stores each frame (or
everything that piled up) as one batch (`calllog.store`), prints one plain line per call
when asked, and acknowledges on its status pipe the number of every frame it stored. When
the store fails (disk full, read-only, locked by another process) it says so on the status pipe and
retries until it works; the serving side keeps the frames meanwhile (`calllog.process`).

It ignores SIGINT and SIGTERM: a Ctrl-C or a `kill` of the process group reaches the
server too, which sends its last calls and closes the pipe; this process exits once it has
written everything up to the end of the pipe. If the server dies without closing, the pipe
still ends, and every call it had sent is kept.

Frames: see `calllog.frames`. Status lines are JSON: `{"acked": N}` (every frame up to N
is stored) or `{"error": "..."}` (the store fails; retrying).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import IO, Any, Final

from postmock.calllog.entry import Entry, entry_json_lines, entry_lines
from postmock.calllog.frames import Frame, FrameReader, is_current
from postmock.calllog.mask import Masker
from postmock.config import DEFAULT_LOG_MAX

#: Pauses between attempts while the store fails (seconds), the last one repeating.
RETRY_PAUSES: Final = (0.05, 0.1, 0.25, 0.5, 1.0)
#: How long one attempt waits for another process's write lock.
LOCK_WAIT: Final = 1.0


class Sink:
    """What the writer process does with each batch; separate from I/O for tests."""

    def __init__(
        self,
        db: str | None,
        *,
        max_records: int,
        redact: Sequence[str],
        redact_bodies: bool = True,
        origin: str = "",
        lines: IO[str] | None,
        status: IO[str] | None,
        json_lines: bool = False,
    ) -> None:
        self.db = db
        self.store: Any = None
        self.origin = origin
        self.max_records = max_records
        self.masker = Masker(redact, bodies=redact_bodies)
        self.lines = lines
        self.format_lines = entry_json_lines if json_lines else entry_lines
        self.status = status
        self.stored_upto = 0  # frames numbered up to this are in the store already
        self.failing: str | None = None
        if db:
            self._retry(self._open)

    def _open(self) -> None:
        from postmock.calllog.store import CallStore  # sqlite3: only when there is a store

        self.store = CallStore.open(self.db or "", lock_wait=LOCK_WAIT)
        # Frames a writer of this log stored before it died are acknowledged, not stored twice.
        self.stored_upto = self.store.last_frame_number(self.origin)

    def _retry(self, action: Any) -> None:
        """Run `action` until it works, reporting the first failure of each kind."""
        attempt = 0
        while True:
            try:
                action()
            except Exception as exc:
                error = _describe(exc, self.db)
                if error != self.failing:
                    self.failing = error
                    self._report({"error": error})
                time.sleep(RETRY_PAUSES[min(attempt, len(RETRY_PAUSES) - 1)])
                attempt += 1
            else:
                self.failing = None
                return

    def handle(self, frames: Sequence[Frame]) -> None:
        """Store and print the calls of `frames`, then acknowledge their numbers."""
        clean = self.masker.clean
        batches: list[tuple[list[Entry], bytes | None, int]] = []
        acked = 0
        for number, body, items in frames:
            acked = max(acked, number)
            if number and number <= self.stored_upto:
                continue  # replayed after a restart, and already stored by the last writer
            # A marshalled frame, none of its calls masked, is stored as it came: no second
            # marshal of the same calls.
            entries: list[Entry] = []
            as_sent = is_current(body)
            for item in items:
                if isinstance(item, tuple):
                    entry = clean(item)
                    as_sent = as_sent and entry is item
                    entries.append(entry)
            if entries:
                batches.append((entries, body if as_sent else None, number))
        if batches and self.store is not None:
            store = self.store
            self._retry(lambda: store.write_frames(batches, self.max_records, self.origin))
            self.stored_upto = max(self.stored_upto, acked)
        if batches and self.lines is not None:
            try:
                self.lines.write("".join(self.format_lines(entries) for entries, _, _ in batches))
                self.lines.flush()
            except (OSError, ValueError):
                self.lines = None  # the terminal went away: keep storing
        if acked:
            self._report({"acked": acked})

    def _report(self, report: dict[str, Any]) -> None:
        if self.status is None:
            return
        try:
            self.status.write(json.dumps(report) + "\n")
            self.status.flush()
        except (OSError, ValueError):
            self.status = None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _describe(exc: Exception, db: str | None) -> str:
    """One line for a store error: what and where."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        text = f"database is locked by another process ({text})"
    elif "readonly" in lowered or "read-only" in lowered:
        text = f"read-only ({text})"
    elif "full" in lowered:
        text = f"disk full ({text})"
    return f"cannot write {db}: {text}" if db and str(db) not in text else text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the writer process (`python -m postmock.calllog.writer`)."""
    ap = argparse.ArgumentParser(prog="postmock-calllog-writer")
    ap.add_argument("--db")
    ap.add_argument("--max-records", type=int, default=DEFAULT_LOG_MAX)
    ap.add_argument("--redact", action="append", default=[])
    ap.add_argument("--no-redact-bodies", action="store_true")
    ap.add_argument("--origin", default="")
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
        redact=args.redact,
        redact_bodies=not args.no_redact_bodies,
        origin=args.origin,
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
