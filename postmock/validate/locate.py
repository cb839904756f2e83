"""Where a finding is, for people and for machines.

A JSON path (`item[0].item[3].response[1].body`) becomes the human path of names
(`Pets › Update pet › Storage failure`) and a JSON pointer (`/item/0/item/3/response/1/body`,
RFC 6901). `escape` keeps every finding on one line whatever the collection's names hold.
"""

from __future__ import annotations

import json
import re

from postmock.collection.model import Collection

SEPARATOR = " › "
ENVELOPE = "collection"  # the Postman API's {"collection": {...}} wrapper
_TOKEN = re.compile(r'\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """`text` on one line: line breaks and other control characters as backslash escapes."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def parts(path: str) -> list[str | int] | None:
    """The keys and indexes of a JSON path as `validate` writes it; None if it is not one."""
    out: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None or (m.group(1) is not None and pos > 0 and path[pos] != "."):
            return None
        name, number, quoted = m.groups()
        out.append(int(number) if number is not None else name or json.loads(quoted))
        pos = m.end()
    return out


def pointer(path: str) -> str:
    """The RFC 6901 JSON pointer of a JSON path ("" = the whole document)."""
    found = parts(path)
    if found is None:
        return ""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in found)


class Locator:
    """Human paths for one collection's JSON paths: folders, requests and examples by name."""

    def __init__(self, collection: Collection) -> None:
        self._names: dict[str, str] = {}
        for item in collection.items:
            steps = item.location.split(".")
            if len(steps) == len(item.folders) + 1:
                for n, folder in enumerate(item.folders):
                    self._names.setdefault(".".join(steps[: n + 1]), folder or "(unnamed folder)")
            self._names[item.location] = item.name or item.request.url.raw or "(unnamed request)"
            for ex in item.examples:
                self._names[ex.location] = ex.name or f"(unnamed {ex.code} example)"

    def human(self, path: str) -> str:
        """`Folder › Request › Example` for the nearest named place at or above `path`."""
        if path.startswith(ENVELOPE + ".") or path.startswith(ENVELOPE + "["):
            path = path[len(ENVELOPE) :].lstrip(".")
        found = parts(path)
        if not found:
            return ""
        names: list[str] = []
        current = ""
        for part in found:
            current += f"[{part}]" if isinstance(part, int) else (f".{part}" if current else part)
            name = self._names.get(current)
            if name is not None:
                names.append(escape(name))
        return SEPARATOR.join(names)
