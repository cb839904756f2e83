"""The one format calls travel and rest in: the writer's pipe frames and the store's blobs.

A frame on the pipe is a 4-byte big-endian length, an 8-byte frame number (the serving
side numbers its frames; the writer acknowledges each number once it is stored, and skips
numbers it already stored when frames are replayed after a restart), then a payload:
`LAYOUT_PREFIX` and a marshalled list (or `P` and a pickled one, for values marshal
refuses) of call entries (`calllog.entry.Entry`). A marshalled frame of entries only is
also a store blob, so the writer can keep a frame that needed no masking exactly as it
came. Every blob carries the entry layout it was written in; `decode_blob` reads the
layouts of older postmocks and refuses newer ones with a one-line error.
"""

from __future__ import annotations

import marshal
import os
import pickle
import struct
from collections.abc import Iterable, Sequence
from typing import Any, Final, cast

from postmock.calllog.entry import FIELDS, Entry

#: The entry layout this postmock writes: 2 added request_name, server and detail.
LAYOUT: Final = 2
#: marshal's format (stable since Python 3.4).
MARSHAL_VERSION: Final = 4
#: A blob (or pipe frame) of entries in layout `LAYOUT`: `L`, the layout byte, marshal.
LAYOUT_PREFIX: Final = b"L" + bytes([LAYOUT])
#: postmock 0.1's blobs: `M` then marshal, entries of layout 1 (14 fields).
_LEGACY = b"M"
_PICKLED = b"P"
#: What each older layout lacks, appended to upgrade one of its entries to `LAYOUT`.
_MISSING: Final = {1: (None, "", None)}


class BlobError(ValueError):
    """A stored batch that cannot be read (its message is one line for the user)."""


_HEADER: Final = struct.Struct(">IQ")
_READ_SIZE: Final = 1 << 20


def encode_frame(items: Sequence[Entry | int], number: int = 0) -> bytes:
    """One frame for the pipe.

    marshal, not pickle: both ends are this same Python, entries hold only tuples, str,
    bytes and numbers, and marshal writes them in a third of pickle's time. A marshalled
    frame of entries only is also a store blob.
    """
    try:
        payload = LAYOUT_PREFIX + marshal.dumps(cast(Any, items), MARSHAL_VERSION)
    except ValueError:  # a str or tuple subclass (an embedder's CallRecord): pickle it
        payload = _PICKLED + pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload), number) + payload


#: One frame as it came through the pipe: its number, its payload and its items.
Frame = tuple[int, bytes, list[Entry | int]]


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
            size, number = _HEADER.unpack_from(view, start)
            end = start + _HEADER.size + size
            if end > len(view):
                break
            body = bytes(view[start + _HEADER.size : end])
            if body[:1] == _PICKLED:
                items = pickle.loads(memoryview(body)[1:])
            else:  # both ends are this postmock: always LAYOUT_PREFIX
                items = marshal.loads(memoryview(body)[len(LAYOUT_PREFIX) :])
            frames.append((number, body, items))
            start = end
        del view[:start]
        return frames


def encode_calls(entries: Sequence[Entry]) -> bytes:
    """One frame's blob."""
    try:
        return LAYOUT_PREFIX + marshal.dumps(list(entries), MARSHAL_VERSION)
    except ValueError:  # a str or tuple subclass from an embedder: store plain values
        return LAYOUT_PREFIX + marshal.dumps([_plain(e) for e in entries], MARSHAL_VERSION)


def is_current(body: bytes) -> bool:
    """Tell whether a pipe frame's body can be stored as it came (marshalled, this layout)."""
    return body[:2] == LAYOUT_PREFIX


def decode_blob(blob: bytes) -> list[Entry]:
    """The entries of a stored batch, in this postmock's layout; BlobError if unreadable."""
    kind = blob[:1]
    if kind == b"L" and len(blob) > 1:
        layout, start = blob[1], 2
    elif kind == _LEGACY:
        layout, start = 1, 1
    else:
        raise BlobError("not a call-log batch")
    if layout > LAYOUT:
        raise BlobError(
            f"written by a newer postmock (entry layout {layout}; this one reads up to "
            f"{LAYOUT}): upgrade postmock, or use another --log-db"
        )
    try:
        entries = marshal.loads(memoryview(blob)[start:])
    except (EOFError, ValueError, TypeError):
        raise BlobError("damaged (it does not decode)") from None
    if not isinstance(entries, list):
        raise BlobError("damaged (not a list of calls)")
    if layout < LAYOUT:
        missing = _missing(layout)
        entries = [(*e, *missing) for e in entries]
    if entries and len(entries[0]) != FIELDS:
        raise BlobError(f"damaged (calls of {len(entries[0])} fields, layout {layout})")
    return entries


def _missing(layout: int) -> tuple[object, ...]:
    """What an entry of an older `layout` lacks, in order, up to this layout."""
    return tuple(v for n in range(layout, LAYOUT) for v in _MISSING[n])


def _plain(entry: Entry) -> Entry:
    def headers(pairs: Iterable[tuple[Any, Any]]) -> Any:
        return tuple((_value(k), _value(v)) for k, v in pairs)

    (cid, at, method, path, query, req_h, req_b, status, res_h, res_b, kind, name, duration,
     delay, request_name, server, detail) = entry  # fmt: skip
    return (
        str(cid), float(at), str(method), str(path), str(query), headers(req_h), _value(req_b),
        int(status), headers(res_h), _value(res_b), str(kind), _optional(name),
        float(duration), float(delay), _optional(request_name), str(server), _optional(detail),
    )  # fmt: skip


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else str(value)
