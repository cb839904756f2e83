"""The serving side of the pipe to the call-log writer process (`calllog.writer`).

Calls gather for `SEND_INTERVAL` and go out in one frame (one pipe write); a full pipe
keeps the rest in memory and drains when the writer catches up, so serving never waits
on it. Flushes are tokens in the same stream, acknowledged on the writer's status pipe
once everything before them is committed. Without an event loop the writes block.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Final

import postmock
from postmock.calllog.entry import Entry
from postmock.calllog.frames import encode_frame
from postmock.config import DEFAULT_SEND_INTERVAL
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
#: Without an event loop, a frame goes out every this many calls.


class WriterPipe:
    """A running writer process and the two pipes to it; counters of what it settled."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        status_fd: int,
        on_error: Callable[[str], None],
    ) -> None:
        assert proc.stdin is not None
        self._proc: subprocess.Popen[bytes] | None = proc
        self._stdin = proc.stdin
        self._fd = proc.stdin.fileno()
        self._status_fd = status_fd
        self._status_buffer = b""
        self._on_error = on_error
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[Entry | int] = []
        self._unsent = bytearray()  # frames the pipe has not taken yet
        self._send_handle: asyncio.TimerHandle | None = None
        self._tokens = itertools.count(1)
        self._waiters: dict[int, asyncio.Future[None]] = {}
        self._flushed = 0  # the writer has committed everything before this token
        self._alive = True  # False once the writer is known to be gone
        self.sent = 0  # entries handed to put()
        self.written = 0  # reported by the writer
        self.failed = 0  # reported by the writer
        self.lost = 0  # never confirmed: the writer died, or a frame could not be made

    @classmethod
    def spawn(
        cls,
        *,
        db: Path | None,
        max_records: int,
        body_cap: int,
        redact: Sequence[str],
        lines: IO[str] | None,
        on_error: Callable[[str], None],
        json_lines: bool = False,
    ) -> WriterPipe:
        """Start `python -m postmock.calllog.writer`; LogStoreError if it cannot be started."""
        status_read, status_write = os.pipe()
        argv = [
            sys.executable,
            "-m",
            "postmock.calllog.writer",
            f"--max-records={max_records}",
            f"--body-cap={body_cap}",
            f"--status-fd={status_write}",
            *[f"--redact={name}" for name in redact],
        ]
        keep = [status_write]
        if db is not None:
            argv.append(f"--db={db}")
        if lines is not None:
            lines.flush()
            keep.append(lines.fileno())
            argv.append(f"--lines-fd={lines.fileno()}")
            if json_lines:
                argv.append("--json-lines")
        # The writer imports postmock from where this process did (a checkout works too).
        package_root = str(Path(postmock.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, pass_fds=keep, env=env)
        except OSError as exc:
            os.close(status_read)
            raise LogStoreError(f"cannot start the call-log writer: {exc}", file=db) from None
        finally:
            os.close(status_write)
        return cls(proc, status_read, on_error)

    @property
    def running(self) -> bool:
        """Started, not finished, and not dead."""
        return self._proc is not None and self._alive

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send on timers and read reports from `loop` (call on its thread)."""
        self._loop = loop
        os.set_blocking(self._fd, False)
        loop.add_reader(self._status_fd, self._on_status)

    def detach(self) -> None:
        """Stop using the loop (call on its thread, before `finish`)."""
        if self._loop is not None:
            self._loop.remove_reader(self._status_fd)
            self._loop.remove_writer(self._fd)
        if self._send_handle is not None:
            self._send_handle.cancel()
            self._send_handle = None

    # -- calls and flushes -----------------------------------------------------------------

    def put(self, entry: Entry) -> None:
        """Queue one call for the next frame; O(1)."""
        self.sent += 1
        if not self._alive:
            self.lost += 1
            return
        self._pending.append(entry)
        if self._loop is not None and self._send_handle is None:
            self._send_handle = self._loop.call_later(SEND_INTERVAL, self._send)

    async def flush(self) -> None:
        """Wait until every call put so far is committed (or the writer is gone)."""
        if not self.running or self._loop is None:
            return
        token = next(self._tokens)
        done = self._loop.create_future()
        self._waiters[token] = done
        self._pending.append(token)
        self._send()
        await done

    def finish(self) -> None:
        """Send the rest, end the pipe, wait for the writer to write it all and exit."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        os.set_blocking(self._fd, True)
        if self._pending:
            self._unsent += encode_frame(self._pending)
            self._pending = []
        self._write_blocking()
        try:
            self._stdin.close()  # the end of the pipe: the writer finishes and exits
        except OSError:
            pass
        proc.wait()
        os.set_blocking(self._status_fd, True)
        while self._read_status():
            pass
        os.close(self._status_fd)
        self._resolve_waiters()

    # -- frames out ------------------------------------------------------------------------

    def _send(self) -> None:
        """Hand the pending calls to the writer in one frame."""
        if self._send_handle is not None:
            self._send_handle.cancel()
            self._send_handle = None
        if not self._pending or self._proc is None:
            return
        pending, self._pending = self._pending, []
        try:
            frame = encode_frame(pending)
        except Exception as exc:  # logging must never break serving
            self.lost += sum(isinstance(item, tuple) for item in pending)
            self._on_error(f"cannot pass calls to the call-log writer: {exc!r}")
            return
        if self._loop is None:
            self._unsent += frame
            self._write_blocking()
            return
        if self._unsent:  # the pipe is full; _drain sends this after what waits
            self._unsent += frame
            return
        try:
            written = os.write(self._fd, frame)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self._died(str(exc))
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
            self._died(str(exc))
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
            self._died(str(exc))
        finally:
            view.release()
            self._unsent.clear()

    def _died(self, why: str) -> None:
        """The writer is gone: count what it never confirmed, wake every flush."""
        if self._loop is not None:
            self._loop.remove_writer(self._fd)
        self._alive = False
        self._unsent.clear()
        self._pending = []
        code = self._proc.poll() if self._proc is not None else None
        self._on_error(f"the call-log writer exited (code {code}): {why}")
        self.lost = max(self.sent - self.written - self.failed, 0)
        self._resolve_waiters()

    # -- reports back ----------------------------------------------------------------------

    def _on_status(self) -> None:
        if not self._read_status() and self._loop is not None:
            self._loop.remove_reader(self._status_fd)
            if self._proc is not None:  # the end of reports before finish(): it died
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
        for line in lines:
            report = json.loads(line)
            self.written = report["written"]
            self.failed = report["failed"]
            if report.get("error"):
                self._on_error(report["error"])
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


def _set_done(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
