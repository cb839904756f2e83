"""The cells of a call row: one line each, long text cut in the middle, status colours.

A path or a request label that does not fit its column keeps both ends
(`/repos/octocat/…/comments/42`): the start says which API, the end which resource.
`MiddleCut` is a Rich renderable that does this at the width the table gives it, so a
row never wraps onto a second line.
"""

from __future__ import annotations

from typing import Final

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from postmock.calllog.entry import response_words
from postmock.calllog.ids import short_id
from postmock.calllog.record import CallRecord

STATUS_STYLES: Final = {1: "white", 2: "green", 3: "cyan", 4: "yellow", 5: "red"}
ELLIPSIS: Final = "…"
#: Below this width a cut cell keeps only its start: two halves of 4 say nothing.
MIN_CUT_WIDTH: Final = 8
#: The narrowest a cut column gets before the table shrinks the others.
MIN_COLUMN: Final = 10


def status_style(code: int) -> str:
    """Colour for a status code: 2xx green, 3xx cyan, 4xx yellow, 5xx red."""
    return STATUS_STYLES.get(code // 100, "magenta")


def middle_cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut in the middle with an ellipsis (both ends kept)."""
    text = " ".join(text.split())  # a newline in a name must not break the row
    if cell_len(text) <= width:
        return text
    if width < 1:
        return ""
    if width < MIN_CUT_WIDTH:
        return _head(text, width - 1) + ELLIPSIS
    head = (width - 1) // 2
    return _head(text, head) + ELLIPSIS + _tail(text, width - 1 - head)


def _head(text: str, cells: int) -> str:
    """The longest start of `text` that fits in `cells` (wide characters take two)."""
    if text.isascii():
        return text[:cells]
    used = 0
    for i, char in enumerate(text):
        used += cell_len(char)
        if used > cells:
            return text[:i]
    return text


def _tail(text: str, cells: int) -> str:
    """The longest end of `text` that fits in `cells`."""
    return _head(text[::-1], cells)[::-1] if cells > 0 else ""


def label_cut(label: str, width: int) -> str:
    """A `Folder › Request` label in `width` cells: the folder shrinks first, then the
    request's name loses its end (its start says most: "List reactions for a…")."""
    label = " ".join(label.split())
    if cell_len(label) <= width:
        return label
    folder, sep, name = label.rpartition(" › ")
    size = cell_len(name)
    if sep and size + len(sep) + 4 <= width:  # at least 3 characters of the folder
        return _head(folder, width - size - len(sep) - 1) + ELLIPSIS + sep + name
    if size <= width:
        return name
    return _head(name, width - 1) + ELLIPSIS if width > 0 else ""


class MiddleCut:
    """One line of text that fits any column width by losing its middle."""

    def __init__(self, text: str, style: str = "", min_width: int = MIN_COLUMN) -> None:
        self.text = " ".join(text.split())
        self.style = style
        self.min_width = min_width

    def cut(self, width: int) -> str:
        """The text in `width` cells."""
        return middle_cut(self.text, width)

    def __str__(self) -> str:
        return self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        size = cell_len(self.text)
        return Measurement(min(size, self.min_width), size).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cut = Text(self.cut(options.max_width), style=self.style, no_wrap=True)
        cut.overflow = "crop"
        yield cut


def share(naturals: list[int], weights: list[int], room: int, minimum: int) -> list[int]:
    """Widths for columns that can be cut: each gets at least `minimum` (or its natural
    width if smaller), then what is left of `room` goes by `weights`, never past natural."""
    widths = [min(n, minimum) for n in naturals]
    left = room - sum(widths)
    active = [i for i, n in enumerate(naturals) if widths[i] < n]
    while left > 0 and active:
        total = sum(weights[i] for i in active)
        given = 0
        for i in active:
            add = min(max(1, left * weights[i] // total), naturals[i] - widths[i], left - given)
            widths[i] += add
            given += add
        if not given:
            break
        left -= given
        active = [i for i in active if widths[i] < naturals[i]]
    return widths


class LabelCut(MiddleCut):
    """A request label that keeps the request's name rather than its folder."""

    def cut(self, width: int) -> str:
        """The label in `width` cells (`label_cut`)."""
        return label_cut(self.text, width)


class ReasonCut(MiddleCut):
    """`nearest: Folder › Request · path differs`: the reason at the end is kept whole,
    the nearest request's label shrinks like a `LabelCut`."""

    def cut(self, width: int) -> str:
        """The reason in `width` cells."""
        if cell_len(self.text) <= width:
            return self.text
        head, sep, tail = self.text.rpartition(" · ")
        prefix = "nearest: "
        if not sep or not head.startswith(prefix):
            return middle_cut(self.text, width)
        label = head[len(prefix) :]
        short = tail.removesuffix(" differs")
        # Narrower and narrower: the yellow 404 already says it missed, "path" says enough.
        for start, end in ((prefix, tail), ("", tail), ("", short)):
            room = width - len(start) - len(sep) - cell_len(end)
            if room >= MIN_CUT_WIDTH:
                return start + label_cut(label, room) + sep + end
        return middle_cut(self.text, width)


def id_cell(record: CallRecord) -> Text:
    """The short id that `postmock logs --show` accepts."""
    return Text(short_id(record.id), style="dim")


def status_cell(record: CallRecord) -> Text:
    """The status code in its class colour."""
    return Text(str(record.status_code), style=status_style(record.status_code))


def path_cell(record: CallRecord) -> MiddleCut:
    """The requested path with its query, cut in the middle when too long."""
    return MiddleCut(record.full_path)


def request_cell(record: CallRecord) -> MiddleCut | Text:
    """Which request of the collection answered: `Folder › Request`."""
    if record.request_name:
        return LabelCut(record.request_name)
    return Text("—", style="dim")


_RESPONSE_STYLES: Final = {"noMatch": "italic yellow", "error": "red", "preflight": "dim"}


def response_cell(record: CallRecord) -> MiddleCut:
    """The example that answered, or why none did: the nearest example, the error's reason."""
    if record.response_type == "noMatch" and record.detail:
        return ReasonCut(record.detail, _RESPONSE_STYLES["noMatch"])  # 404 says "no match"
    words = response_words(record.response_type, record.response_name, record.detail)
    return MiddleCut(words, _RESPONSE_STYLES.get(record.response_type, ""))


__all__ = [
    "LabelCut",
    "MiddleCut",
    "ReasonCut",
    "id_cell",
    "label_cut",
    "middle_cut",
    "path_cell",
    "request_cell",
    "response_cell",
    "share",
    "status_cell",
    "status_style",
]
