"""Masking secrets and capping bodies of calls before anything keeps or shows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast
from urllib.parse import unquote_plus

from postmock.calllog.entry import (
    QUERY,
    REQUEST_BODY,
    REQUEST_HEADERS,
    RESPONSE_BODY,
    RESPONSE_HEADERS,
    Entry,
)
from postmock.calllog.record import (
    Headers,
    body_text,
    pairs,
)

#: Header names whose values never reach the log (compared case-insensitively).
SECRET_HEADERS: frozenset[str] = frozenset(
    {"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"}
)


#: Query parameters whose values never reach the log (plus the names given to --redact).
SECRET_QUERY_PARAMS: frozenset[str] = frozenset(
    {"api_key", "apikey", "access_token", "token", "password", "client_secret"}
)


MASK = "****"
#: Headers whose first word is an auth scheme worth keeping ("Bearer ****").
_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})
TRUNCATION_MARK = "\n…[postmock: body truncated, {total} characters in total]"


def masked_query(query: str, secret_names: frozenset[str]) -> str:
    """`query` with the values of secret parameters masked (the same str when none is)."""
    if not query:
        return query
    parts = query.split("&")
    changed = False
    for n, part in enumerate(parts):
        key, sep, value = part.partition("=")
        name = unquote_plus(key).lower()
        if sep and value and (name in secret_names or name in SECRET_QUERY_PARAMS):
            parts[n] = f"{key}={MASK}"
            changed = True
    return "&".join(parts) if changed else query


def mask_header(name: str, value: str, secret_names: frozenset[str]) -> str:
    """Return `value` masked when `name` is secret; keep an auth scheme word."""
    lowered = name.lower()
    if lowered not in secret_names or not value:
        return value
    scheme, sep, _rest = value.strip().partition(" ")
    if sep and lowered in _SCHEME_HEADERS:
        return f"{scheme} {MASK}"
    return MASK


def cap_body(body: str, cap: int) -> str:
    """Cut `body` to `cap` characters and say so."""
    if cap < 0 or len(body) <= cap:
        return body
    return body[:cap] + TRUNCATION_MARK.format(total=len(body))


class Redactor:
    """Masks secrets and caps bodies of entries before anything keeps or shows them."""

    def __init__(self, redact: Iterable[str] = (), body_cap: int = -1) -> None:
        #: header (and query parameter) names to mask, lower case
        self.names = SECRET_HEADERS | {name.lower() for name in redact}
        self.body_cap = body_cap
        # Raw request headers are bytes: their names are looked up without decoding them.
        self._header_names = self.names | {
            name.encode("utf-8", "surrogateescape") for name in self.names
        }
        self._query_names = self.names | SECRET_QUERY_PARAMS

    def clean(self, entry: Entry) -> Entry:
        """Return `entry` with secrets masked and bodies capped; the same tuple when nothing
        needs either. This runs once per call: look first, change only what must."""
        names = self._header_names
        for header, _ in entry[REQUEST_HEADERS]:
            if header.lower() in names:
                return self._cleaned(entry)
        for header, _ in entry[RESPONSE_HEADERS]:
            if header.lower() in names:
                return self._cleaned(entry)
        if entry[QUERY] and self._query_may_hold_secrets(entry[QUERY]):
            return self._cleaned(entry)
        cap = self.body_cap  # a body never has more characters than bytes:
        if cap >= 0 and (len(entry[REQUEST_BODY]) > cap or len(entry[RESPONSE_BODY]) > cap):
            return self._cleaned(entry)
        return entry

    def _cleaned(self, entry: Entry) -> Entry:
        fields = list(entry)
        names = self._header_names
        req_h, res_h = entry[REQUEST_HEADERS], entry[RESPONSE_HEADERS]
        if any(header.lower() in names for header, _ in req_h):
            fields[REQUEST_HEADERS] = self._masked(pairs(req_h))
        if any(header.lower() in names for header, _ in res_h):
            fields[RESPONSE_HEADERS] = self._masked(res_h)
        fields[QUERY] = masked_query(entry[QUERY], self.names)
        cap = self.body_cap
        if cap >= 0 and len(entry[REQUEST_BODY]) > cap:
            fields[REQUEST_BODY] = cap_body(body_text(entry[REQUEST_BODY]), cap)
        if cap >= 0 and len(entry[RESPONSE_BODY]) > cap:
            fields[RESPONSE_BODY] = cap_body(body_text(entry[RESPONSE_BODY]), cap)
        return cast(Entry, tuple(fields))

    def _query_may_hold_secrets(self, query: str) -> bool:
        # Without escapes (`api%5Fkey`, `+`) a name is the text before `=`: no need for
        # `masked_query`'s full decoding, per call.
        if "%" in query or "+" in query:
            return True
        names = self._query_names
        for part in query.split("&"):
            if part.partition("=")[0].lower() in names:
                return True
        return False

    def _masked(self, headers: Headers) -> Headers:
        return tuple((k, mask_header(k, v, self.names)) for k, v in headers)
