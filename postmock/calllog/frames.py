"""The one format calls travel and rest in: the writer's pipe frames and the store's blobs.

A frame on the pipe is a 4-byte big-endian length, then a kind byte and a payload. The
payload is a marshalled list (or a pickled one, `P`, for values marshal refuses) of call
entries (`calllog.entry.Entry`) and flush tokens (ints). A frame of entries only is also a
store blob, so the writer can keep a frame that needed no masking exactly as it came.
"""

from __future__ import annotations

import marshal
import os
import pickle
import struct
from collections.abc import Iterable, Sequence
from typing import Any, Final, cast

from postmock.calllog.entry import Entry

#: Entries travel through the writer's pipe and rest in the store's blobs in one format:
#: this byte, then marshal (format `MARSHAL_VERSION`, stable since Python 3.4) of a list.
#: So the writer can store a frame that needed no masking exactly as it came.
MARSHALLED = b"M"
MARSHAL_VERSION = 4


_HEADER: Final = struct.Struct(">I")
_READ_SIZE: Final = 1 << 20


def encode_frame(items: Sequence[Entry | int]) -> bytes:
    """One frame for the pipe.

    marshal, not pickle: both ends are this same Python, entries hold only tuples, str,
    bytes and numbers, and marshal writes them in a third of pickle's time. A marshalled
    frame of entries only is also a store blob (`MARSHALLED`).
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


def encode_calls(entries: Sequence[Entry]) -> bytes:
    """One frame's blob."""
    try:
        return MARSHALLED + marshal.dumps(list(entries), MARSHAL_VERSION)
    except ValueError:  # a str or tuple subclass from an embedder: store plain values
        return MARSHALLED + marshal.dumps([_plain(e) for e in entries], MARSHAL_VERSION)


def _plain(entry: Entry) -> Entry:
    def headers(pairs: Iterable[tuple[Any, Any]]) -> Any:
        return tuple((_value(k), _value(v)) for k, v in pairs)

    (cid, at, method, path, query, req_h, req_b, status, res_h, res_b, kind, name, duration,
     delay) = entry  # fmt: skip
    return (
        str(cid), float(at), str(method), str(path), str(query), headers(req_h), _value(req_b),
        int(status), headers(res_h), _value(res_b), str(kind), None if name is None else str(name),
        float(duration), float(delay),
    )  # fmt: skip


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else str(value)
