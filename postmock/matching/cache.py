"""Answers for repeated identical calls (matching is pure, so a result can be kept)."""

from __future__ import annotations

from collections.abc import Mapping

from postmock.matching import IncomingRequest, Match, MatchIndex, Miss

CONTROL_HEADERS = (
    "x-mock-response-code",
    "x-mock-response-id",
    "x-mock-response-name",
    "x-mock-match-request-body",
)


CACHE_SIZE = 4096
CACHE_MAX_BODY = 4096  # bodies up to this size are part of the key; bigger ones skip it


class MatchCache:
    """Answers for repeated identical calls: matching is pure, so its result can be kept.

    The key holds everything the engine looks at: method, raw path and query, the control
    headers, the headers configured for matching, the Content-Type and the body. Calls
    that name headers to match per request (`x-mock-match-request-headers`) or carry big
    bodies skip the cache. A reload builds a new MockState, so a new, empty cache.
    """

    def __init__(self, index: MatchIndex) -> None:
        self.index = index
        self.match_headers = index.config.match_headers
        self.entries: dict[tuple[object, ...], Match | Miss] = {}

    def match(
        self, method: str, path_qs: str, headers: Mapping[str, str], body: bytes
    ) -> Match | Miss:
        if len(body) > CACHE_MAX_BODY or "x-mock-match-request-headers" in headers:
            return self._compute(method, path_qs, headers, body)
        key = (
            method,
            path_qs,
            body,
            headers.get("content-type") if body else None,
            *[headers.get(h) for h in CONTROL_HEADERS],
            *[headers.get(h) for h in self.match_headers],
        )
        found = self.entries.get(key)
        if found is None:
            found = self._compute(method, path_qs, headers, body)
            if len(self.entries) >= CACHE_SIZE:
                del self.entries[next(iter(self.entries))]  # oldest first
            self.entries[key] = found
        return found

    def _compute(
        self, method: str, path_qs: str, headers: Mapping[str, str], body: bytes
    ) -> Match | Miss:
        found = self.index.match(IncomingRequest.from_parts(method, path_qs, headers, body))
        if isinstance(found, Miss) and method == "HEAD":
            # HEAD mirrors GET, as HTTP servers do; Postman's docs say nothing.
            found = self.index.match(IncomingRequest.from_parts("GET", path_qs, headers, body))
        return found
