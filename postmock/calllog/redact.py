"""What happens to a call before anything keeps or shows it: bodies capped on the serving
side (`cap_entry`, before the pipe, so a 20 MB body costs the log no more than the cap),
secrets masked (`calllog.mask`); `Redactor` does both, for live views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from postmock.calllog.entry import REQUEST_BODY, RESPONSE_BODY, Entry
from postmock.calllog.mask import MASK, Masker
from postmock.calllog.record import body_text

TRUNCATION_MARK = "\n…[postmock: body truncated, {total} bytes in total]"


def cap_body(body: bytes | str, cap: int) -> bytes | str:
    """Cut `body` to `cap` bytes (characters for text) and say so; the same object if short.

    A cut body stays bytes when it was bytes and is not UTF-8 text at the cut, so a binary
    body is still kept (as base64) rather than mangled."""
    if cap < 0 or len(body) <= cap:
        return body
    mark = TRUNCATION_MARK.format(total=len(body))
    if isinstance(body, str):
        return body[:cap] + mark
    head = body[:cap]
    try:
        return head.decode("utf-8") + mark
    except UnicodeDecodeError as exc:
        if exc.start >= cap - 3 and exc.reason == "unexpected end of data":
            return body_text(head[: exc.start]) + mark  # a character cut in two
        return head


def cap_entry(entry: Entry, cap: int) -> Entry:
    """`entry` with both bodies cut to `cap`; the same tuple when both are short. O(1) when
    they are (it only looks at their lengths)."""
    if cap < 0 or (len(entry[REQUEST_BODY]) <= cap and len(entry[RESPONSE_BODY]) <= cap):
        return entry
    fields = list(entry)
    fields[REQUEST_BODY] = cap_body(entry[REQUEST_BODY], cap)
    fields[RESPONSE_BODY] = cap_body(entry[RESPONSE_BODY], cap)
    return cast(Entry, tuple(fields))


class Redactor:
    """Caps bodies and masks secrets of entries (live views; the store gets both too)."""

    def __init__(
        self, redact: Iterable[str] = (), body_cap: int = -1, *, bodies: bool = True
    ) -> None:
        self.masker = Masker(redact, bodies=bodies)
        self.body_cap = body_cap

    def clean(self, entry: Entry) -> Entry:
        """Return `entry` capped and masked; the same tuple when nothing changes."""
        return self.masker.clean(cap_entry(entry, self.body_cap))


__all__ = [
    "MASK",
    "TRUNCATION_MARK",
    "Redactor",
    "cap_body",
    "cap_entry",
]
