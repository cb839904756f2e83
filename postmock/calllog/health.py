"""How the call log is doing: `ok` or `degraded` and why, what was lost, one stderr line
at each change.

The serving side (`calllog.process`) tells `LogHealth` when the writer dies or comes back,
when the store starts or stops failing (disk full, read-only, locked), and when the
bounded buffer drops a call. `/__postmock/health` shows `snapshot()`; a person watching
the terminal gets one line when trouble starts and one when it ends, never a traceback.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

#: Why a call was dropped (the keys of `droppedBy`).
BUFFER_FULL = "bufferFull"
NOT_RUNNING = "notRunning"
STORE_FAILED = "storeFailed"
ENCODE_FAILED = "encodeFailed"


class LogHealth:
    """State and counters of one call log; `say` writes one line per change."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self._out = out
        self.writer_down: str | None = None  # why the writer is not running now
        self.store_failing: str | None = None  # the store's current error
        self.buffer_full = False
        self.dropped = 0
        self.dropped_by: dict[str, int] = {}
        self.restarts = 0
        self.replayed = 0  # calls sent again to a restarted writer
        self.last_error: str | None = None
        self._dropped_at_full = 0
        self.listeners: list[Callable[[], None]] = []

    # -- what is shown -----------------------------------------------------------------

    @property
    def status(self) -> str:
        """`degraded` while calls are being dropped or the store or writer is failing."""
        if self.writer_down or self.store_failing or self.buffer_full:
            return "degraded"
        return "ok"

    @property
    def reason(self) -> str | None:
        """The reason for `degraded`, in a few words."""
        if self.writer_down:
            return f"call-log writer down: {self.writer_down}"
        if self.store_failing:
            return f"call-log store failing: {self.store_failing}"
        if self.buffer_full:
            return "call-log buffer full: new calls are dropped"
        return None

    def snapshot(self) -> dict[str, Any]:
        """The health endpoint's view."""
        return {
            "status": self.status,
            "reason": self.reason,
            "dropped": self.dropped,
            "droppedBy": dict(self.dropped_by),
            "writerRestarts": self.restarts,
            "replayed": self.replayed,
        }

    def say(self, message: str) -> None:
        """One line on stderr (or the given stream), prefixed `postmock: call log:`."""
        out = self._out if self._out is not None else sys.stderr
        stamp = time.strftime("%H:%M:%S")
        try:
            out.write(f"{stamp} postmock: call log: {message}\n")
            out.flush()
        except (OSError, ValueError):
            pass  # stderr is gone: the counters still tell
        self.last_error = message

    # -- changes -------------------------------------------------------------------------

    def drop(self, reason: str, count: int = 1) -> None:
        """Count calls that will never be stored."""
        self.dropped += count
        self.dropped_by[reason] = self.dropped_by.get(reason, 0) + count
        if reason == BUFFER_FULL and not self.buffer_full:
            self.buffer_full = True
            self._dropped_at_full = self.dropped - count
            self.say("buffer full: dropping new calls until the store catches up")
        for listener in self.listeners:
            listener()

    def buffer_ok(self) -> None:
        """The buffer has room again."""
        if self.buffer_full:
            self.buffer_full = False
            lost = self.dropped - self._dropped_at_full
            self.say(f"buffer has room again; {lost} calls were dropped meanwhile")

    def writer_died(self, why: str, unconfirmed: int) -> None:
        if self.writer_down is None:
            self.say(f"the writer process died ({why}); restarting it, {unconfirmed} calls kept")
        self.writer_down = why

    def writer_back(self, replayed: int) -> None:
        if self.writer_down is not None:
            self.restarts += 1
            self.replayed += replayed
            self.say(f"writer restarted; {replayed} unconfirmed calls sent again")
        self.writer_down = None

    def store_failed(self, error: str) -> None:
        if self.store_failing != error:
            self.say(f"{error}; retrying, calls are kept in memory meanwhile")
        self.store_failing = error

    def store_ok(self) -> None:
        if self.store_failing is not None:
            self.say("the store is writable again; buffered calls written")
        self.store_failing = None
