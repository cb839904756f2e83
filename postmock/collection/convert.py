"""Small conversions of raw JSON values and URL/header strings, shared by the loaders."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from postmock.collection.model import KeyValue, Url

_PROTOCOL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def text(value: Any) -> str:
    """A JSON scalar as the text Postman would use for it (None -> "")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def is_disabled(entry: dict[str, Any]) -> bool:
    return entry.get("disabled") is True or entry.get("enabled") is False


def parse_url_string(raw: str) -> Url:
    """Split a URL string such as `{{baseUrl}}/users/:id?page=2` into its parts."""
    rest = raw.strip()
    protocol = ""
    m = _PROTOCOL.match(rest)
    if m:
        protocol, rest = m.group(1), rest[m.end() :]
    rest = rest.split("#", 1)[0]
    rest, _, query_text = rest.partition("?")
    host, slash, path_text = rest.partition("/")
    port = ""
    if ":" in host and not host.startswith("{{") and host.rsplit(":", 1)[1].isdigit():
        host, port = host.rsplit(":", 1)
    path = split_path(path_text) if slash else ()
    query = []
    if query_text:
        for part in query_text.split("&"):
            if part == "":
                continue
            key, _, value = part.partition("=")
            query.append(KeyValue(key, value))
    return Url(raw=raw, host=host, path=path, query=tuple(query), protocol=protocol, port=port)


def split_path(text: str) -> tuple[str, ...]:
    """Path segments; a trailing slash is kept as a last empty segment, as Postman stores it."""
    segments = [s for s in text.split("/") if s != ""]
    if segments and text.endswith("/"):
        segments.append("")
    return tuple(segments)


def parse_header_string(raw: str) -> Iterator[KeyValue]:
    for line in raw.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            disabled = key.strip().startswith("//")
            yield KeyValue(key.strip().lstrip("/").strip(), value.strip(), disabled)
