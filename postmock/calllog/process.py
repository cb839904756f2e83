"""The serving side of the call-log writer process (`calllog.writer`): frames out, acks
back, and supervision.

Calls gather for `SEND_INTERVAL` and go out in one numbered frame (one pipe write). Every
frame stays in memory until the writer acknowledges its number (it is committed), so:

- if the writer dies (killed, crashed), a new one is started at once and every
  unacknowledged frame is sent again; the writer skips frames the dead one had already
  committed (it looks up the newest number stored for this log's `origin`), so nothing is
  stored twice;
- if the store fails (disk full, read-only, locked), the writer retries and says so; the
  frames wait here.

What waits is bounded by `buffer_limit` bytes (`--log-buffer`): beyond it, new calls are
dropped and counted (`LogHealth`). Serving never waits on the writer. Without an event
loop the writes block.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Final

import postmock
from postmock.calllog.entry import REQUEST_BODY, RESPONSE_BODY, Entry
from postmock.calllog.frames import encode_frame
from postmock.calllog.health import BUFFER_FULL, ENCODE_FAILED, NOT_RUNNING, LogHealth
from postmock.config import DEFAULT_LOG_BUFFER, DEFAULT_SEND_INTERVAL
from postmock.errors import LogStoreError


def _send_interval(default: float = DEFAULT_SEND_INTERVAL) -> float:
    try:
        value = float(os.environ.get("POSTMOCK_SEND_INTERVAL", default))
    except ValueError:
        return default
    return value if 0 < value <= 5 else default


#: How long calls gather before they go to the writer in one frame (one pipe write).
#: `benchmarks/instructions_per_request.py` stretches it by valgrind's slowdown, so that
#: frames there hold as many calls as at full speed.
SEND_INTERVAL: Final = _send_interval()
#: How long a flush (before a read) waits for the writer; a failing store does not hang reads.
FLUSH_TIMEOUT: Final = 2.0
#: How long `finish` waits for the writer to store what is left.
FINISH_TIMEOUT: Final = 10.0
#: Restart pauses after repeated deaths (seconds), the last one repeating.
RESTART_PAUSES: Final = (0.0, 0.1, 0.5, 1.0, 2.0)
#: What a call costs the buffer beyond its bodies (a rough size of the rest of the entry).
ENTRY_OVERHEAD: Final = 512


class WriterProcess:
    """A supervised writer process, the pipes to it, and the frames it has not confirmed."""

    def __init__(
        self,
        argv: Sequence[str],
        keep_fds: Sequence[int],
        health: LogHealth,
        *,
        buffer_limit: int = DEFAULT_LOG_BUFFER,
        db: Path | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._argv = list(argv)
        self._keep = list(keep_fds)
        self.health = health
        self.buffer_limit = buffer_limit
        self.db = db
        self.on_commit = on_commit
        self._proc: subprocess.Popen[bytes] | None = None
        self._fd = -1
        self._status_fd = -1
        self._status_buffer = b""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[Entry | int] = []
        self._pending_bytes = 0
        self._frames: deque[tuple[int, bytes, int]] = deque()  # (number, frame, calls) unacked
        self._buffered = 0  # bytes in _frames
        self._unsent = bytearray()  # the part of _frames the current pipe has not taken
        self._send_handle: asyncio.TimerHandle | None = None
        self._numbers = itertools.count(1)
        self._waiters: dict[int, asyncio.Future[None]] = {}
        self._acked = 0
        self._alive = False
        self._finishing = False
        self._deaths = 0
        self.sent = 0  # calls handed to put()
        self.written = 0  # calls confirmed stored

    @classmethod
    def spawn(
        cls,
        *,
        db: Path | None,
        max_records: int,
        redact: Sequence[str],
        redact_bodies: bool,
        lines: IO[str] | None,
        health: LogHealth,
        buffer_limit: int = DEFAULT_LOG_BUFFER,
        on_commit: Callable[[], None] | None = None,
        json_lines: bool = False,
    ) -> WriterProcess:
        """Start `python -m postmock.calllog.writer`; LogStoreError if it cannot be started."""
        argv = [
            sys.executable,
            "-m",
            "postmock.calllog.writer",
            f"--max-records={max_records}",
            f"--origin={secrets.token_hex(8)}",
            *[f"--redact={name}" for name in redact],
        ]
        if not redact_bodies:
            argv.append("--no-redact-bodies")
        keep = []
        if db is not None:
            argv.append(f"--db={db}")
        if lines is not None:
            lines.flush()
            keep.append(lines.fileno())
            argv.append(f"--lines-fd={lines.fileno()}")
            if json_lines:
                argv.append("--json-lines")
        writer = cls(argv, keep, health, buffer_limit=buffer_limit, db=db, on_commit=on_commit)
        writer._start()
        return writer

    def _start(self) -> None:
        status_read, status_write = os.pipe()
        # The writer imports postmock from where this process did (a checkout works too).
        package_root = str(Path(postmock.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        try:
            proc = subprocess.Popen(
                [*self._argv, f"--status-fd={status_write}"],
                stdin=subprocess.PIPE,
                pass_fds=[*self._keep, status_write],
                env=env,
            )
        except OSError as exc:
            os.close(status_read)
            raise LogStoreError(f"cannot start the call-log writer: {exc}", file=self.db) from None
        finally:
            os.close(status_write)
        assert proc.stdin is not None
        self._proc = proc
        self._fd = proc.stdin.fileno()
        self._status_fd = status_read
        self._status_buffer = b""
        self._alive = True

    @property
    def pid(self) -> int | None:
        """The writer's process id (tests kill it)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._alive

    @property
    def buffered(self) -> int:
        """Bytes of calls not yet confirmed stored."""
        return self._buffered + self._pending_bytes

    @property
    def pending(self) -> int:
        """Calls not yet confirmed stored."""
        return sum(calls for _, _, calls in self._frames) + len(self._pending)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send on timers and read reports from `loop` (call on its thread)."""
        self._loop = loop
        os.set_blocking(self._fd, False)
        loop.add_reader(self._status_fd, self._on_status)
        if self._unsent:
            loop.add_writer(self._fd, self._drain)

    def detach(self) -> None:
        """Stop using the loop (call on its thread, before `finish`)."""
        if self._loop is not None and self._alive:
            self._loop.remove_reader(self._status_fd)
            self._loop.remove_writer(self._fd)
        if self._send_handle is not None:
            self._send_handle.cancel()
            self._send_handle = None
        self._loop = None

    # -- calls and flushes -----------------------------------------------------------------

    def put(self, entry: Entry) -> None:
        """Queue one call for the next frame; O(1); drops (counted) beyond the buffer limit."""
        self.sent += 1
        size = len(entry[REQUEST_BODY]) + len(entry[RESPONSE_BODY]) + ENTRY_OVERHEAD
        if self._buffered + self._pending_bytes + size > self.buffer_limit:
            self.health.drop(BUFFER_FULL)
            return
        self._pending.append(entry)
        self._pending_bytes += size
        if self._loop is not None and self._send_handle is None:
            self._send_handle = self._loop.call_later(SEND_INTERVAL, self._send)

    async def flush(self) -> None:
        """Wait (at most FLUSH_TIMEOUT) until every call put so far is stored."""
        if self._loop is None or self._proc is None:
            return
        number = self._send(force=True)
        if number <= self._acked:
            return
        done = self._loop.create_future()
        self._waiters[number] = done
        try:
            await asyncio.wait_for(asyncio.shield(done), FLUSH_TIMEOUT)
        except asyncio.TimeoutError:
            pass  # the store is failing: reads show what is stored
        finally:
            self._waiters.pop(number, None)

    def finish(self) -> int:
        """Send the rest, end the pipe, wait for the writer to store it and exit.

        Returns how many calls were never confirmed (the writer could not store them in
        FINISH_TIMEOUT, or could not be started again)."""
        self._finishing = True
        if self._pending:
            self._frame()
        if not self._alive and self._frames:
            try:
                self._start()  # died just before the end: one more writer for the rest
                self._unsent = bytearray(b"".join(f for _, f, _ in self._frames))
            except LogStoreError:
                pass
        proc, self._proc = self._proc, None
        if proc is None or not self._alive:
            return self.pending
        os.set_blocking(self._fd, True)
        self._write_blocking()
        try:
            proc.stdin.close()  # type: ignore[union-attr]  # the end: the writer finishes
        except OSError:
            pass
        try:
            proc.wait(FINISH_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.set_blocking(self._status_fd, True)
        while self._read_status():
            pass
        os.close(self._status_fd)
        self._alive = False
        self._resolve_waiters()
        return self.pending

    # -- frames out ------------------------------------------------------------------------

    def _frame(self) -> int:
        """Turn the pending calls into one numbered frame among the unconfirmed ones."""
        pending, self._pending = self._pending, []
        self._pending_bytes = 0
        number = next(self._numbers)
        try:
            frame = encode_frame(pending, number)
        except Exception as exc:  # logging must never break serving
            self.health.drop(ENCODE_FAILED, len(pending))
            self.health.say(f"cannot pass calls to the writer: {exc!r}")
            frame = encode_frame([], number)
            pending = []
        self._frames.append((number, frame, len(pending)))
        self._buffered += len(frame)
        self._unsent += frame
        return number

    def _send(self, force: bool = False) -> int:
        """Hand the pending calls to the writer in one frame; the frame's number."""
        if self._send_handle is not None:
            self._send_handle.cancel()
            self._send_handle = None
        if not self._pending and not force:
            return 0
        number = self._frame()
        if not self._alive:
            return number  # kept for the next writer
        if self._loop is None:
            self._write_blocking()
            return number
        self._drain()
        return number

    def _drain(self) -> None:
        if not self._unsent or not self._alive:
            if self._loop is not None and self._alive:
                self._loop.remove_writer(self._fd)
            return
        try:
            written = os.write(self._fd, self._unsent)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self._died(str(exc))
            return
        del self._unsent[:written]
        if self._loop is not None:
            if self._unsent:
                self._loop.add_writer(self._fd, self._drain)
            else:
                self._loop.remove_writer(self._fd)

    def _write_blocking(self) -> None:
        view = memoryview(self._unsent)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            self._died(str(exc))
        finally:
            view.release()
            self._unsent.clear()

    # -- supervision -----------------------------------------------------------------------

    def _died(self, why: str) -> None:
        """The writer is gone: keep its unconfirmed frames, start another one."""
        if not self._alive:
            return
        self._alive = False
        proc = self._proc
        if self._loop is not None:
            self._loop.remove_writer(self._fd)
            self._loop.remove_reader(self._status_fd)
        code = proc.poll() if proc is not None else None
        if proc is not None:
            if code is None:
                proc.kill()
                code = proc.wait()
            if proc.stdin is not None:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
        os.close(self._status_fd)
        if self._finishing:
            return
        what = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        self.health.writer_died(f"{what}: {why}", self.pending)
        pause = RESTART_PAUSES[min(self._deaths, len(RESTART_PAUSES) - 1)]
        self._deaths += 1
        if self._loop is not None:
            self._loop.call_later(pause, self._restart)

    def _restart(self) -> None:
        if self._alive or self._finishing or self._loop is None:
            return
        try:
            self._start()
        except LogStoreError as exc:
            self.health.say(str(exc))
            pause = RESTART_PAUSES[-1]
            self._loop.call_later(pause, self._restart)
            return
        self._unsent = bytearray(b"".join(frame for _, frame, _ in self._frames))
        self.health.writer_back(self.pending)
        self.attach(self._loop)
        self._drain()

    def drop_all(self) -> None:
        """Count every unconfirmed call as dropped (the log stops without a writer)."""
        self.health.drop(NOT_RUNNING, self.pending)

    # -- reports back ----------------------------------------------------------------------

    def _on_status(self) -> None:
        if not self._read_status():
            self._died("its status pipe ended")

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
        committed = False
        for line in lines:
            report = json.loads(line)
            if "error" in report:
                self.health.store_failed(report["error"])
            if "acked" in report:
                self._ack(int(report["acked"]))
                committed = True
                self.health.store_ok()
                self._deaths = 0
        if committed and self.on_commit is not None:
            self.on_commit()
        return True

    def _ack(self, number: int) -> None:
        self._acked = max(self._acked, number)
        frames = self._frames
        while frames and frames[0][0] <= number:
            _, frame, calls = frames.popleft()
            self._buffered -= len(frame)
            self.written += calls
        if self.health.buffer_full and self.buffered < self.buffer_limit // 2:
            self.health.buffer_ok()
        for waiting in [n for n in self._waiters if n <= number]:
            waiter = self._waiters.pop(waiting)
            if not waiter.done():
                waiter.set_result(None)

    def _resolve_waiters(self) -> None:
        """Wake every flush still waiting (nothing more will come)."""
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            waiter.get_loop().call_soon_threadsafe(_set_done, waiter)


def _set_done(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
