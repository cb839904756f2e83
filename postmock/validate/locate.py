"""Where a finding is, for people and for machines.

A JSON path (`item[0].item[3].response[1].body`) becomes the human path of names
(`Pets › Update pet › Storage failure`) and a JSON pointer (`/item/0/item/3/response/1/body`,
RFC 6901). `escape` keeps every finding on one line whatever the collection's names hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

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


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$-]*")


def _step(path: str, key: str | int) -> str:
    """`path` one level down, written the way `schema.json_path` writes it."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _chain(path: str, prefix: Sequence[str | int]) -> list[str]:
    """`path` and its ancestors, root first, under `prefix` (the API envelope's key)."""
    chain = [""]
    for part in [*prefix, *(parts(path) or [])]:
        chain.append(_step(chain[-1], part))
    return chain


def line_numbers(text: str, paths: set[str]) -> dict[str, int]:
    """The 1-based line where the value at each JSON path starts (paths not found: absent).

    One pass over the tokens; only the paths asked for and their ancestors (so a caller
    can fall back to the nearest one that exists), also inside the API envelope, are kept.
    """
    wanted = {p for path in paths for prefix in ([], [ENVELOPE]) for p in _chain(path, prefix)}
    lines: dict[str, int] = {}
    # each frame: [path, is_object, next index, key awaiting its value or None]
    stack: list[list[Any]] = []
    line, last = 1, 0
    expect_key = False
    for m in _JSON_TOKEN.finditer(text):
        token, start = m.group(), m.start()
        if token in ",:":
            if token == ",":
                if stack and not stack[-1][1]:
                    stack[-1][2] += 1
                expect_key = bool(stack) and stack[-1][1]
            continue
        if token in "}]":
            stack.pop()
            expect_key = False
            continue
        if expect_key:  # an object's key
            stack[-1][3] = json.loads(token) if "\\" in token else token[1:-1]
            expect_key = False
            continue
        line += text.count("\n", last, start)
        last = start
        path: str | None
        if not stack:
            path = ""
        elif stack[-1][0] is None:  # inside a value nobody asked about: no paths to build
            path = None
        elif stack[-1][1]:
            path = _step(stack[-1][0], stack[-1][3])
        else:
            path = _step(stack[-1][0], stack[-1][2])
        if path is not None:
            if path in wanted:
                lines.setdefault(path, line)
            else:
                path = None
        if token in "{[":
            stack.append([path, token == "{", 0, None])
            expect_key = token == "{"
    return lines


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of `path` or its nearest ancestor; lint paths are looked up in an envelope."""
    for prefix in ([ENVELOPE], []):
        for candidate in reversed(_chain(path, prefix)[len(prefix) + 1 :]):
            if candidate in lines:
                return lines[candidate]
    return lines.get("")
