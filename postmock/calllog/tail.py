"""Following the call log without gaps: one shared reader for every stream follower.

Calls are numbered as they are stored (`CallRecord.seq`). `TailHub` reads each newly
stored call from the store once (woken by the writer's acknowledgements, and every
`POLL_SECONDS` for calls other processes store), encodes it once as an NDJSON line and an
SSE event, and keeps the newest `DEFAULT_TAIL_RING` of them. Each follower (`follow`) has
a cursor, the number of the last call it was given: it takes what is after its cursor
from the ring, or, when it fell behind the ring (paused, slow), from the store, in order,
without duplicates. Only calls the store no longer holds (retention) or never got (the
buffer bound dropped them) can be missed, and then the follower is told how many
(`skipped`). Serving never waits on a follower: a follower's writes wait on its socket.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from postmock.calllog.filter import CallFilter
from postmock.calllog.log import CallLog
from postmock.calllog.record import CallRecord
from postmock.calllog.store import CallStore
from postmock.config import DEFAULT_TAIL_RING


def _ring_size(default: int = DEFAULT_TAIL_RING) -> int:
    """`POSTMOCK_TAIL_RING` (tests make it small, to exercise catching up from the store)."""
    text = os.environ.get("POSTMOCK_TAIL_RING", "")
    return int(text) if text.isdigit() and int(text) > 0 else default


#: How often the hub looks for calls stored by other processes (`--workers`).
POLL_SECONDS: Final = 0.25
#: The shortest time between two reads of new calls: followers get fewer, larger writes.
BATCH_SECONDS: Final = 0.1
#: Calls read from the store per catch-up step.
CATCH_UP: Final = 1000


def encode_json(data: Any) -> bytes:
    """JSON bytes that always encode (lone surrogates escaped)."""
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "backslashreplace")


@dataclass(frozen=True, slots=True)
class Encoded:
    """One stored call, encoded once for every follower."""

    seq: int
    record: CallRecord
    ndjson: bytes
    sse: bytes


def encode(record: CallRecord) -> Encoded:
    data = encode_json(record.to_json())
    sse = b"id: %d\nevent: call\ndata: %s\n\n" % (record.seq, data)
    return Encoded(record.seq, record, data + b"\n", sse)


def notice(kind: str, data: dict[str, Any], sse: bool, seq: int = 0) -> bytes:
    """A `skipped` or `end` event: an SSE event, or an NDJSON line `{"event": kind, ...}`."""
    if sse:
        event_id = f"id: {seq}\n" if seq else ""
        return f"{event_id}event: {kind}\ndata: ".encode() + encode_json(data) + b"\n\n"
    return encode_json({"event": kind, **data}) + b"\n"


class TailHub:
    """Reads new calls once for all followers of one call log's store."""

    def __init__(self, log: CallLog, ring: int | None = None) -> None:
        assert log.path is not None, "following needs a store"
        self.log = log
        self._ring: deque[Encoded] = deque(maxlen=ring or _ring_size())
        self._base = 0  # the ring holds every call numbered above this, up to `top`
        self.top = 0
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="postmock-tail")
        self._store: CallStore | None = None
        self._wake = asyncio.Event()
        self._new = asyncio.Event()  # replaced after each read: followers wait on it
        self.stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.followers = 0
        self._idle = False

    async def run_in_reader(self, work: Any, *args: Any) -> Any:
        """Run `work(store, *args)` on the hub's reader thread (its own connection)."""
        loop = asyncio.get_running_loop()
        if self._store is None:
            assert self.log.path is not None
            self._store = await loop.run_in_executor(
                self._reader, CallStore.open_readonly, self.log.path
            )
        return await loop.run_in_executor(self._reader, work, self._store, *args)

    async def start(self) -> None:
        if self._task is not None:
            return
        self.top, _cut = await self.run_in_reader(CallStore.top)
        self._base = self.top
        self.log.commit_listeners.append(self._wake.set)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass
            await asyncio.sleep(BATCH_SECONDS)  # let a few frames gather: one write each
            self._wake.clear()
            try:
                await self._read()
            except Exception as exc:  # a follower falls back to reading the store itself
                self.log.health.last_error = f"reading new calls failed: {exc!r}"

    async def _read(self) -> None:
        if not self.followers:  # nobody reads: no decoding, no encoding
            self._ring.clear()
            self._idle = True
            return
        if self._idle:  # followers again: the ring starts at the store's newest call,
            self._idle = False  # and whoever is behind it reads the store
            self.top, _cut = await self.run_in_reader(CallStore.top)
            self._base = self.top
            self._notify()
        while True:
            records, last, skipped = await self.run_in_reader(
                CallStore.calls_after, self.top, CallFilter(), CATCH_UP
            )
            if skipped or len(records) > (self._ring.maxlen or 0):
                self._ring.clear()  # a gap: followers read the store for what is around it
                self._base = last
            for record in records:
                if len(self._ring) == self._ring.maxlen:
                    self._base = self._ring[0].seq
                self._ring.append(encode(record))
            changed = last != self.top
            self.top = last
            if changed:
                self._notify()
            if len(records) < CATCH_UP:
                return

    def _notify(self) -> None:
        """Wake every waiting follower."""
        new, self._new = self._new, asyncio.Event()
        new.set()

    async def stop(self, drain: float) -> None:
        """Tell followers the end is here; give them `drain` seconds to catch up and say
        `end`, then close."""
        self.stopping.set()
        self._new.set()
        deadline = asyncio.get_running_loop().time() + drain
        while self.followers and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await self.close()

    async def close(self) -> None:
        self.stopping.set()
        self._new.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._wake.set in self.log.commit_listeners:
            self.log.commit_listeners.remove(self._wake.set)
        if self._store is not None:
            await asyncio.get_running_loop().run_in_executor(self._reader, self._store.close)
        self._reader.shutdown(wait=False)

    def ring_after(self, cursor: int) -> list[Encoded] | None:
        """The ring's calls after `cursor`; None when the ring does not reach back to it."""
        if cursor < self._base:
            return None
        ring = self._ring
        if not ring or ring[-1].seq <= cursor:
            return []
        start = max(0, len(ring) - (ring[-1].seq - cursor))  # numbers are dense in the ring
        while start > 0 and ring[start - 1].seq > cursor:
            start -= 1
        while start < len(ring) and ring[start].seq <= cursor:
            start += 1
        return [ring[i] for i in range(start, len(ring))]

    async def begin(self, flt: CallFilter, tail: int = 0) -> tuple[int, list[CallRecord]]:
        """Where a new follower starts: the number of the newest stored call (every call
        answered before this is stored first) and the newest `tail` calls matching `flt`.
        Call it before the follower's response starts, so no call falls in between."""
        await self.log.flush()
        top, _cut = await self.run_in_reader(CallStore.top)
        older = await self.run_in_reader(CallStore.newest, flt, tail, top) if tail > 0 else []
        return top, older

    async def follow(
        self,
        flt: CallFilter,
        *,
        sse: bool,
        after: int,
        older: list[CallRecord] | None = None,
        heartbeat: float = 15.0,
    ) -> AsyncIterator[bytes]:
        """The events for one follower after call `after` (see `begin`), each chunk ready to
        write; `b""` for a heartbeat. `older`: calls to send first (`begin`'s tail)."""
        self.followers += 1
        try:
            async for chunk in self._follow(flt, sse, after, older or [], heartbeat):
                yield chunk
        finally:
            self.followers -= 1

    async def _follow(
        self, flt: CallFilter, sse: bool, cursor: int, older: list[CallRecord], heartbeat: float
    ) -> AsyncIterator[bytes]:
        pick = _sse if sse else _ndjson
        health = self.log.health
        dropped = health.dropped
        if older:
            yield b"".join(pick(encode(r)) for r in older)
        while True:
            chunk: list[bytes] = []
            if health.dropped > dropped:
                count, dropped = health.dropped - dropped, health.dropped
                reasons = ", ".join(sorted(health.dropped_by))
                data = {"count": count, "reason": f"dropped ({reasons})"}
                chunk.append(notice("skipped", data, sse, cursor))
            ring = self.ring_after(cursor)
            if ring is None:  # fell behind the ring: catch up from the store
                records, last, skipped = await self.run_in_reader(
                    CallStore.calls_after, cursor, flt, CATCH_UP
                )
                if skipped:
                    data = {"count": skipped, "reason": "no longer in the store (retention)"}
                    chunk.append(notice("skipped", data, sse, cursor))
                chunk += [pick(encode(r)) for r in records]
                cursor = last
            else:
                chunk += [pick(e) for e in ring if flt.matches(e.record)]
                cursor = ring[-1].seq if ring else cursor
            if chunk:
                yield b"".join(chunk)
                continue
            if self.stopping.is_set():
                yield notice("end", {"reason": "the server stopped", "last": cursor}, sse)
                return
            if cursor < self.top:
                continue
            try:
                await asyncio.wait_for(self._new.wait(), heartbeat)
            except asyncio.TimeoutError:
                yield b""


def _sse(encoded: Encoded) -> bytes:
    return encoded.sse


def _ndjson(encoded: Encoded) -> bytes:
    return encoded.ndjson
