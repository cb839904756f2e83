"""`validate`'s settings: which finding codes count, from the command line and config files.

Like ruff, the settings of a file come from the nearest configuration found upward from
it: `.postmock.toml` (table `[validate]`) or `pyproject.toml` (table
`[tool.postmock.validate]`); a `pyproject.toml` without that table is passed over. Options
given on the command line replace the file's values (`--strict` adds to them).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postmock.errors import LoadError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Every finding code `validate` reports, with what it means; `ALL` selects them all.
CODES = {
    "schema": "The file does not follow the Postman collection JSON Schema.",
    "load": "The file is not a usable collection, or the loader had to skip part of it.",
    "no-examples": "A request has no saved example: the mock cannot answer it.",
    "duplicate-name": "Examples of one method share a name: x-mock-response-name is ambiguous.",
    "shadowed": "An example only x-mock-response-name/-id can reach: same route and code "
    "as one that always wins.",
    "unresolved-variable": "A {{variable}} no collection variable or environment defines.",
    "invalid-json-body": "An example that says it is JSON has a body that does not parse.",
    "content-encoding": "An example recorded Content-Encoding; the saved body is already decoded.",
}
ALL = "ALL"
CONFIG_FILES = (".postmock.toml", "pyproject.toml")
_KEYS = {"select", "ignore", "strict"}
_SPLIT = re.compile(r"[\s,]+")


def split_codes(values: Iterable[str] | str) -> tuple[str, ...]:
    """`"shadowed, load"` or ["shadowed", "load"] -> checked codes; ValueError names a bad one."""
    items = [values] if isinstance(values, str) else list(values)
    codes = tuple(c for v in items for c in _SPLIT.split(v.strip()) if c)
    for code in codes:
        if code != ALL and code not in CODES:
            raise ValueError(f"unknown code {code!r} (known: {', '.join(CODES)}, {ALL})")
    return codes


@dataclass(frozen=True)
class Rules:
    """Which codes are reported, and whether warnings fail the run; `source` is the file."""

    select: tuple[str, ...] = (ALL,)
    ignore: tuple[str, ...] = ()
    strict: bool = False
    source: str = ""

    def keeps(self, code: str, severity: str) -> bool:
        """True when a finding of `code` is reported. A file that is no collection always is."""
        if code == "load" and severity == "error":
            return True
        return (ALL in self.select or code in self.select) and code not in self.ignore

    def merged(
        self, select: tuple[str, ...] | None, ignore: tuple[str, ...] | None, strict: bool
    ) -> Rules:
        """These rules with the command line's on top."""
        return Rules(
            select if select is not None else self.select,
            ignore if ignore is not None else self.ignore,
            self.strict or strict,
            self.source,
        )


def _table(path: Path) -> dict[str, Any] | None:
    """The validate table of one config file, or None when it has none."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read the configuration: {exc}", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise LoadError(f"not valid TOML: {exc}", file=path) from None
    where = "tool.postmock.validate" if path.name == "pyproject.toml" else "validate"
    table: Any = data
    for key in where.split("."):
        table = table.get(key) if isinstance(table, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise LoadError("expected a table", file=path, where=where)
    return {"": where, **table}


def rules_from(path: Path) -> Rules:
    """The Rules one config file sets; LoadError (one line, file and key) when it is wrong."""
    table = _table(path)
    if table is None:
        return Rules(source=str(path))
    where = table.pop("")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise LoadError(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})",
            file=path,
            where=where,
        )
    values: dict[str, Any] = {}
    for key in ("select", "ignore"):
        if key in table:
            raw = table[key]
            listed = isinstance(raw, list) and all(isinstance(v, str) for v in raw)
            if not (isinstance(raw, str) or listed):
                raise LoadError("expected a list of codes", file=path, where=f"{where}.{key}")
            try:
                values[key] = split_codes(raw)
            except ValueError as exc:
                raise LoadError(str(exc), file=path, where=f"{where}.{key}") from None
    if "strict" in table:
        if not isinstance(table["strict"], bool):
            raise LoadError("expected true or false", file=path, where=f"{where}.strict")
        values["strict"] = table["strict"]
    return Rules(source=str(path), **values)


def find_config(start: Path) -> Path | None:
    """The nearest `.postmock.toml`, or `pyproject.toml` with a postmock table, upward."""
    folder = start if start.is_dir() else start.parent
    for place in (folder.resolve(), *folder.resolve().parents):
        for name in CONFIG_FILES:
            candidate = place / name
            if candidate.is_file() and (name != "pyproject.toml" or _table(candidate)):
                return candidate
    return None


class RuleFinder:
    """Rules per collection file: its nearest config (cached per folder), or an explicit one."""

    def __init__(self, explicit: Path | None = None) -> None:
        self._explicit = None
        if explicit is not None:
            if _table(explicit) is None:
                raise LoadError(
                    "has no [validate] or [tool.postmock.validate] table", file=explicit
                )
            self._explicit = rules_from(explicit)
        self._by_folder: dict[Path, Rules] = {}

    def for_file(self, file: Path) -> Rules:
        if self._explicit is not None:
            return self._explicit
        folder = file.parent
        if folder not in self._by_folder:
            found = find_config(folder)
            self._by_folder[folder] = rules_from(found) if found is not None else Rules()
        return self._by_folder[folder]
