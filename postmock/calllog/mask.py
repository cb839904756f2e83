"""Masking secrets by name, wherever a call carries them: headers, the query, and JSON,
urlencoded and multipart request bodies.

A name is secret when it *contains* one of `SECRET_WORDS` (case-insensitive): `X-Auth-Token`,
`Api-Key`, `client_secret`, `sessionId`, `password`. The words of `--redact NAME` are added.
This masks a little too much (`author`, `monkey`) rather than too little. Values become
`****`; an `Authorization` value keeps its scheme word (`Bearer ****`).

`Masker.clean` runs in the writer process for the store, and in the serving process only
for live views (the terminal table, subscribers); it returns the same tuple when nothing
is secret, so the writer can store a frame as it came.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Final, cast
from urllib.parse import unquote_plus

from postmock.calllog.entry import (
    QUERY,
    REQUEST_BODY,
    REQUEST_HEADERS,
    RESPONSE_HEADERS,
    Entry,
)
from postmock.calllog.record import Headers, pairs

#: A header, query parameter or body field whose name contains one of these is masked.
SECRET_WORDS: Final = (
    "auth",
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "cookie",
    "session",
    "credential",
    "signature",
)
MASK: Final = "****"
_SCHEME_HEADERS: Final = frozenset({"authorization", "proxy-authorization"})
_MULTIPART_FIELD = re.compile(
    rb'(Content-Disposition:[^\r\n]*?\bname="([^"]*)"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n)'
    rb"(.*?)(?=\r\n--)",
    re.IGNORECASE | re.DOTALL,
)


class Masker:
    """Masks secret values of entries; `bodies=False` leaves request bodies alone."""

    def __init__(self, redact: Iterable[str] = (), *, bodies: bool = True) -> None:
        self.words = tuple(dict.fromkeys([*SECRET_WORDS, *(w.lower() for w in redact if w)]))
        self._bytes_words = tuple(w.encode() for w in self.words)
        self.bodies = bodies
        self._names: dict[str | bytes, bool] = {}

    def secret(self, name: str | bytes) -> bool:
        """Tell whether a header, parameter or field name is secret (cached)."""
        known = self._names.get(name)
        if known is None:
            if len(self._names) > 10_000:
                self._names.clear()
            low = name.lower()
            if isinstance(low, bytes):
                known = any(w in low for w in self._bytes_words)
            else:
                known = any(w in low for w in self.words)
            self._names[name] = known
        return known

    def clean(self, entry: Entry) -> Entry:
        """`entry` with secrets masked; the same tuple when nothing is secret."""
        secret = self.secret
        req_h, res_h = entry[REQUEST_HEADERS], entry[RESPONSE_HEADERS]
        fields: list[Any] | None = None
        if any(secret(name) for name, _ in req_h):
            fields = list(entry)
            fields[REQUEST_HEADERS] = self._headers(pairs(req_h))
        if any(secret(name) for name, _ in res_h):
            fields = fields or list(entry)
            fields[RESPONSE_HEADERS] = self._headers(pairs(res_h))
        query = entry[QUERY]
        if query:
            masked = self.form(query)
            if masked is not query:
                fields = fields or list(entry)
                fields[QUERY] = masked
        body = entry[REQUEST_BODY]
        if self.bodies and body:
            masked_body = self.body(body, _content_type(req_h))
            if masked_body is not body:
                fields = fields or list(entry)
                fields[REQUEST_BODY] = masked_body
        return entry if fields is None else cast(Entry, tuple(fields))

    def _headers(self, headers: Headers) -> Headers:
        return tuple((k, self._header_value(k, v) if self.secret(k) else v) for k, v in headers)

    @staticmethod
    def _header_value(name: str, value: str) -> str:
        if not value:
            return value
        scheme, sep, _rest = value.strip().partition(" ")
        if sep and name.lower() in _SCHEME_HEADERS:
            return f"{scheme} {MASK}"
        return MASK

    def form(self, text: str) -> str:
        """A query string or urlencoded body with secret values masked (same str if none)."""
        parts = text.split("&")
        changed = False
        for n, part in enumerate(parts):
            key, sep, value = part.partition("=")
            if sep and value and self.secret(unquote_plus(key)):
                parts[n] = f"{key}={MASK}"
                changed = True
        return "&".join(parts) if changed else text

    def body(self, body: bytes | str, content_type: str) -> bytes | str:
        """A request body with secret fields masked (the same object when none is)."""
        raw = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
        low = raw.lower()
        if not any(w in low for w in self._bytes_words):
            return body  # no secret name anywhere: nothing to parse
        if "multipart/" in content_type:
            return self._multipart(raw) or body
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return body
        stripped = text.lstrip()
        if "json" in content_type or stripped[:1] in ("{", "["):
            try:
                data = json.loads(text)
            except ValueError:
                return body
            masked, changed = self._json(data)
            return json.dumps(masked, ensure_ascii=False) if changed else body
        if "=" in text:
            masked_form = self.form(text)
            return masked_form if masked_form is not text else body
        return body

    def _json(self, value: Any) -> tuple[Any, bool]:
        if isinstance(value, dict):
            changed = False
            out: dict[str, Any] = {}
            for k, v in value.items():
                if self.secret(k) and not isinstance(v, (dict, list)):
                    out[k] = MASK if v not in (None, "") else v
                    changed = changed or v not in (None, "")
                else:
                    out[k], inner = self._json(v)
                    changed = changed or inner
            return out, changed
        if isinstance(value, list):
            items = [self._json(v) for v in value]
            return [v for v, _ in items], any(c for _, c in items)
        return value, False

    def _multipart(self, raw: bytes) -> bytes | None:
        changed = False

        def replace(match: re.Match[bytes]) -> bytes:
            nonlocal changed
            if self.secret(match.group(2)):
                changed = True
                return match.group(1) + MASK.encode()
            return match.group(0)

        masked = _MULTIPART_FIELD.sub(replace, raw)
        return masked if changed else None


def _content_type(headers: Iterable[tuple[Any, Any]]) -> str:
    for name, value in headers:
        if name.lower() in ("content-type", b"content-type"):
            return (value.decode("latin-1") if isinstance(value, bytes) else value).lower()
    return ""
