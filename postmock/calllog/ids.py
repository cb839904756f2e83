"""Short call ids: what the tables show, and how `logs --show` finds a call from part of one.

A call id (`record.new_call_id`) is 24 hex digits: 12 for the millisecond, 4 for a
sequence number, 8 for the process. The first digits are the same for every call of an
hour and the last 8 for every call of a process, so the short id is the 8 digits in the
middle (the low bits of the millisecond and the sequence): they differ from one call to
the next. `--show` accepts any unique part of at least `MIN_PART` characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from postmock.errors import LogStoreError

SHORT_START: Final = 8
SHORT_LEN: Final = 8
MIN_PART: Final = 4
#: How many candidates an ambiguous part names in its error.
SHOWN_CANDIDATES: Final = 3


def short_id(call_id: str) -> str:
    """The 8 characters of `call_id` a table shows (the whole id when it is not a postmock id)."""
    if len(call_id) < SHORT_START + SHORT_LEN:
        return call_id
    return call_id[SHORT_START : SHORT_START + SHORT_LEN]


def check_part(part: str) -> str:
    """`part` without surrounding blanks; ValueError when it is too short to look for."""
    text = part.strip()
    if len(text) < MIN_PART:
        raise ValueError(f"give at least {MIN_PART} characters of a call id, got {part!r}")
    return text


class AmbiguousCallId(LogStoreError):
    """Part of an id that more than one stored call contains."""

    def __init__(self, part: str, candidates: Iterable[str]) -> None:
        self.part = part
        self.candidates = tuple(candidates)
        shown = ", ".join(self.candidates[:SHOWN_CANDIDATES])
        super().__init__(
            f"call id {part!r} is ambiguous: it matches {shown}"
            f"{', …' if len(self.candidates) > SHOWN_CANDIDATES else ''}; give more characters"
        )


__all__ = ["MIN_PART", "SHORT_LEN", "AmbiguousCallId", "check_part", "short_id"]
