"""Load a collection and its variables into everything the server needs per request."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from .collection import Collection, Example, LoadWarning, load_collection, load_environment
from .config import ServeConfig
from .errors import LoadError
from .matching import IncomingRequest, Match, MatchConfig, MatchIndex, Miss
from .responses import ResponsePlan
from .variables import VariableScope

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


@dataclass(frozen=True)
class MockState:
    """One compiled version of the mock; reloading swaps the whole object at once."""

    collection: Collection
    scope: VariableScope
    index: MatchIndex
    plans: Mapping[int, ResponsePlan]  # by Example.index
    server_response: ResponsePlan | None
    warnings: tuple[LoadWarning, ...]
    loaded_at: float
    cache: MatchCache = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cache", MatchCache(self.index))

    @property
    def example_count(self) -> int:
        return len(self.plans)


def load_state(config: ServeConfig) -> MockState:
    """Read the files named in the config and compile them; raises LoadError."""
    started = time.time()  # `loaded_at`: an edit after this may not be in this version
    collection = load_collection(config.collection)
    environment = load_environment(config.environment) if config.environment else None
    globals_ = load_environment(config.globals_file, "globals") if config.globals_file else None
    scope = VariableScope.build(collection, environment, globals_, dict(config.variables))
    index = MatchIndex.compile(
        collection,
        scope,
        MatchConfig(
            match_body=config.match_body,
            match_headers=config.match_headers,
            fuzzy=config.fuzzy,
        ),
    )
    plans = {ex.index: ResponsePlan.compile(ex, scope) for ex in collection.examples}
    server_response = None
    if config.server_response is not None:
        chosen = _find_server_response(collection, index, config.server_response)
        server_response = plans[chosen.index]
    warnings = collection.warnings
    for env in (environment, globals_):
        if env is not None:
            warnings += env.warnings
    return MockState(collection, scope, index, plans, server_response, warnings, started)


def _find_server_response(collection: Collection, index: MatchIndex, name: str) -> Example:
    found = index.find_name(name) or index.find_id(name)
    if found is None:
        errors = sorted({ex.name for ex in collection.examples if ex.code >= 500 and ex.name})
        hint = f"; 5xx examples: {', '.join(errors[:8])}" if errors else ""
        raise LoadError(
            f"--server-response: no example named {name!r}{hint}", file=collection.source
        )
    return found
