"""Calls → saved examples in a collection file (`postmock record`, `postmock logs --save`).

One item per method + path, with path variables where a segment looks like an id (the
matching engine's `is_id` rule); one example per distinct (path, query, request body,
status) in it — the concrete path is part of the key so that `/users/1` and `/users/2`
each keep their answer (docs/decisions.md). Secrets never reach the file: request
headers and query parameters the call log masks become `{{placeholders}}`, such response
headers `****`. The file is written atomically.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from postmock.calllog.mask import MASK, Masker
from postmock.calllog.record import CallRecord
from postmock.calllog.redact import TRUNCATION_MARK
from postmock.collection.convert import parse_url_string, split_path
from postmock.collection.reader import read_json
from postmock.config import RECORDED_FOLDER
from postmock.errors import LoadError, LogStoreError, PostmockError
from postmock.matching.paths import host_prefix, is_id
from postmock.proxy.forward import DROPPED_ANSWER_HEADERS, HOP_BY_HOP

SCHEMA_V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
Headers = tuple[tuple[str, str], ...]
_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})
_TRUNCATED = TRUNCATION_MARK.split("{", 1)[0]
_PLACEHOLDER_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class SavedCall:
    """One call as it becomes an example: raw path and query, bytes bodies."""

    method: str
    path: str
    query: str
    request_headers: Headers
    request_body: bytes
    status: int
    reason: str
    response_headers: Headers
    response_body: bytes

    @classmethod
    def from_record(cls, record: CallRecord) -> SavedCall:
        """A logged call; ValueError when the log cut its body (the example would lie)."""
        for body in (record.request_body, record.response_body):
            if _TRUNCATED in body:
                raise ValueError(
                    f"call {record.id}: its body was cut by the call log's --log-body-cap, "
                    "so it cannot become a faithful example"
                )
        return cls(
            record.method,
            record.path,
            record.query,
            record.request_headers,
            record.request_body.encode(),
            record.status_code,
            "",
            record.response_headers,
            record.response_body.encode(),
        )


class CollectionFile:
    """A collection file being extended with examples; `write()` saves it atomically."""

    def __init__(
        self,
        path: Path,
        *,
        name: str | None = None,
        base_url: str = "",
        redact: Iterable[str] = (),
    ) -> None:
        self.path = path
        self.masker = Masker(redact)  # the call log's rule: a name containing a secret word
        if path.exists():
            doc = read_json(path, "collection")
            if not isinstance(doc, dict) or not isinstance(doc.get("item", []), list):
                raise LoadError("not a Postman collection (no item list)", file=path)
            doc.setdefault("item", [])
            if name:
                doc.setdefault("info", {})["name"] = name
        else:
            doc = {
                "info": {
                    "_postman_id": str(uuid.uuid4()),
                    "name": name or path.name.split(".")[0],
                    "schema": SCHEMA_V21,
                },
                "item": [],
            }
        self.doc: dict[str, Any] = doc
        self._prefix = self._base_url(base_url)
        self._items = {key: item for key, item in _request_items(doc["item"])}
        self.changed = False

    def _base_url(self, base_url: str) -> tuple[str, ...]:
        """Make sure `{{baseUrl}}` is defined; the path prefix it adds to every example."""
        variables = self.doc.setdefault("variable", [])
        for var in variables if isinstance(variables, list) else []:
            if isinstance(var, dict) and var.get("key") == "baseUrl":
                return host_prefix(str(var.get("value") or ""))
        origin = re.sub(r"^([a-z]+://[^/]+).*$", r"\1", base_url) if base_url else ""
        if isinstance(variables, list):
            variables.append({"key": "baseUrl", "value": origin or "http://localhost"})
        return ()

    def add(self, call: SavedCall) -> str | None:
        """Add (or replace) the example for `call`; returns why it was skipped, if it was."""
        try:
            request_body = call.request_body.decode("utf-8")
            response_body = call.response_body.decode("utf-8")
        except UnicodeDecodeError:
            return f"{call.method} {call.path}: binary body skipped (not UTF-8 text)"
        segments = list(split_path(call.path.lstrip("/")))
        n = len(self._prefix)
        if n and [s.lower() for s in segments[:n]] == [p.lower() for p in self._prefix]:
            segments = segments[n:]  # {{baseUrl}} adds it back
        item = self._item_for(call.method, segments)
        query = self._query(call.query)
        example = {
            "name": f"{call.status} /{'/'.join(segments)}"
            + (f"?{_raw_query(query)}" if query else ""),
            "originalRequest": {
                "method": call.method,
                "header": self._request_headers(call.request_headers),
                "url": _url(segments, query),
                **_body(request_body, call.request_headers),
            },
            "status": call.reason or _reason(call.status),
            "code": call.status,
            "_postman_previewlanguage": _language(call.response_headers),
            "header": self._response_headers(call.response_headers),
            "cookie": [],
            "body": response_body,
        }
        key = _example_key(example)
        examples = item.setdefault("response", [])
        for n, old in enumerate(examples):
            if isinstance(old, dict) and _example_key(old) == key:
                examples[n] = example  # the newest answer wins
                break
        else:
            examples.append(example)
        self.changed = True
        return None

    def _item_for(self, method: str, segments: list[str]) -> dict[str, Any]:
        key = (method.upper(), tuple("*" if is_id(s) else s.lower() for s in segments))
        item = self._items.get(key)
        if item is not None:
            return item
        template, variables, count = [], [], 0
        for segment in segments:
            if is_id(segment):
                count += 1
                var = "id" if count == 1 else f"id{count}"
                template.append(f":{var}")
                variables.append({"key": var, "value": segment})
            else:
                template.append(segment)
        url = _url(template, [])
        if variables:
            url["variable"] = variables
        item = {
            "name": f"{method.upper()} /{'/'.join(template)}",
            "request": {"method": method.upper(), "header": [], "url": url},
            "response": [],
        }
        self._recorded_folder().append(item)
        self._items[key] = item
        return item

    def _recorded_folder(self) -> list[Any]:
        items: list[Any] = self.doc["item"]
        for entry in items:
            if isinstance(entry, dict) and entry.get("name") == RECORDED_FOLDER and "item" in entry:
                folder: list[Any] = entry["item"]
                return folder
        folder = []
        items.append({"name": RECORDED_FOLDER, "item": folder})
        return folder

    def _query(self, query: str) -> list[tuple[str, str]]:
        out = []
        for part in query.split("&") if query else ():
            key, _sep, value = part.partition("=")
            if value and self.masker.secret(unquote_plus(key)):
                value = "{{" + _placeholder(unquote_plus(key)) + "}}"
            out.append((key, value))
        return out

    def _request_headers(self, headers: Headers) -> list[dict[str, str]]:
        out = []
        for name, value in headers:
            low = name.lower()
            if low in HOP_BY_HOP or low.startswith("x-mock-"):
                continue
            if self.masker.secret(low) and value:
                scheme, sep, _ = value.strip().partition(" ")
                hidden = "{{" + _placeholder(low) + "}}"
                value = f"{scheme} {hidden}" if sep and low in _SCHEME_HEADERS else hidden
            out.append({"key": name, "value": value})
        return out

    def _response_headers(self, headers: Headers) -> list[dict[str, str]]:
        return [
            {"key": name, "value": MASK if self.masker.secret(name) else value}
            for name, value in headers
            if name.lower() not in DROPPED_ANSWER_HEADERS
        ]

    def write(self) -> None:
        """Write the file atomically: a reader (a serving postmock) sees old or new, whole.

        Raises PostmockError (one line naming the file) when it cannot."""
        data = json.dumps(self.doc, indent="\t", ensure_ascii=False) + "\n"
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise PostmockError(f"cannot write: {exc.strerror or exc}", file=self.path) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(data)
            os.replace(tmp, self.path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise PostmockError(f"cannot write: {exc.strerror}", file=self.path) from None
            raise
        self.changed = False


def _request_items(items: list[Any]) -> Iterator[tuple[tuple[str, tuple[str, ...]], Any]]:
    """(method, path key) of every request item, folders included; ids and variables → *."""
    for entry in items:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("item"), list):
            yield from _request_items(entry["item"])
            continue
        request = entry.get("request")
        if isinstance(request, str):
            request = {"url": request}
        if not isinstance(request, dict):
            continue
        method = str(request.get("method") or "GET").upper()
        key = tuple(_segment_key(s) for s in _url_path(request.get("url")))
        yield (method, key), entry


def _segment_key(segment: str) -> str:
    if segment.startswith(":") or (segment.startswith("{{") and segment.endswith("}}")):
        return "*"
    return "*" if is_id(segment) else segment.lower()


def _url_path(url: Any) -> tuple[str, ...]:
    if isinstance(url, str):
        return parse_url_string(url).path
    if isinstance(url, dict):
        path = url.get("path")
        if isinstance(path, str):
            return split_path(path)
        if isinstance(path, list):
            return tuple(str(p.get("value", "")) if isinstance(p, dict) else str(p) for p in path)
        return parse_url_string(str(url.get("raw") or "")).path
    return ()


def _example_key(example: dict[str, Any]) -> tuple[Any, ...]:
    request = example.get("originalRequest") or {}
    url = request.get("url") if isinstance(request, dict) else None
    raw = (
        url if isinstance(url, str) else (url or {}).get("raw", "") if isinstance(url, dict) else ""
    )
    parsed = parse_url_string(str(raw))
    query = "&".join(f"{kv.key}={kv.value}" for kv in parsed.query)
    body = request.get("body") if isinstance(request, dict) else None
    text = body.get("raw", "") if isinstance(body, dict) else ""
    return (example.get("code"), parsed.path, query, text)


def _url(segments: list[str], query: list[tuple[str, str]]) -> dict[str, Any]:
    path = "/".join(segments)
    raw = "{{baseUrl}}/" + path + (f"?{_raw_query(query)}" if query else "")
    url: dict[str, Any] = {"raw": raw, "host": ["{{baseUrl}}"], "path": list(segments)}
    if query:
        url["query"] = [{"key": k, "value": v} for k, v in query]
    return url


def _raw_query(query: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" if v else k for k, v in query)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _placeholder(name: str) -> str:
    return _PLACEHOLDER_CHARS.sub("_", name)


def _content_type(headers: Headers) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.lower()
    return ""


def _language(headers: Headers) -> str:
    kind = _content_type(headers)
    for language in ("json", "xml", "html"):
        if language in kind:
            return language
    return "text"


def _body(text: str, headers: Headers) -> dict[str, Any]:
    if not text:
        return {}
    body: dict[str, Any] = {"mode": "raw", "raw": text}
    language = _language(headers)
    if language != "text":
        body["options"] = {"raw": {"language": language}}
    return {"body": body}


def save_logged_call(record: CallRecord, into: Path) -> str:
    """Turn one logged call into an example of `into`; returns what was saved.

    A proxied call keeps the upstream's answer. An unmatched call's answer was the mock's
    own 404, which is no answer of the API: it becomes a 200 with an empty body, a stub
    for the user to fill in. Raises PostmockError when the call cannot become an example.
    """
    try:
        call = SavedCall.from_record(record)
    except ValueError as exc:
        raise LogStoreError(str(exc)) from None
    stub = record.response_type == "noMatch"
    if stub:
        call = replace(call, status=200, reason="OK", response_headers=(), response_body=b"")
    file = CollectionFile(into)
    skipped = file.add(call)
    if skipped:
        raise LogStoreError(f"call {record.id}: {skipped}")
    file.write()
    what = "a stub example (200, empty body: fill in the answer)" if stub else "an example"
    return f"saved {record.method} {record.full_path} as {what} in {into}"
