"""The cache of match results: same answer as the engine, keyed on all the engine reads."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from postmock.collection import collection_from_json
from postmock.matching import Match, MatchConfig, MatchIndex, Miss
from postmock.matching.cache import CACHE_SIZE, MatchCache
from postmock.templating.variables import VariableScope

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def example(
    name: str,
    url: str,
    code: int = 200,
    headers: list[Any] | None = None,
    body: str | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    req: dict[str, Any] = {"method": method, "url": url, "header": headers or []}
    if body is not None:
        req["body"] = {"mode": "raw", "raw": body, "options": {"raw": {"language": "json"}}}
    return {
        "name": name,
        "request": req,
        "response": [{"name": name, "code": code, "originalRequest": req, "body": name}],
    }


def make_cache(*items: dict[str, Any], match_headers: tuple[str, ...] = ()) -> MatchCache:
    coll = collection_from_json({"info": {"name": "t", "schema": SCHEMA}, "item": list(items)})
    index = MatchIndex.compile(
        coll, VariableScope.build(coll), MatchConfig(match_headers=match_headers)
    )
    return MatchCache(index)


def name_of(result: Match | Miss) -> str | None:
    return result.example.name if isinstance(result, Match) else None


@pytest.mark.parametrize(
    ("first", "second", "match_headers"),
    [
        ({"x-mock-response-code": "200"}, {"x-mock-response-code": "404"}, ()),
        ({}, {"x-mock-response-name": "gone"}, ()),
        ({"X-Tenant": "a"}, {"X-Tenant": "b"}, ("X-Tenant",)),
    ],
    ids=["code", "name", "matched-header"],
)
def test_key_includes_what_the_engine_reads(
    first: dict[str, str], second: dict[str, str], match_headers: tuple[str, ...]
) -> None:
    cache = make_cache(
        example("ok", "/users", 200, [{"key": "X-Tenant", "value": "a"}]),
        example("gone", "/users", 404, [{"key": "X-Tenant", "value": "b"}]),
        match_headers=match_headers,
    )
    a = cache.match("GET", "/users", CIMultiDict(first), b"")
    b = cache.match("GET", "/users", CIMultiDict(second), b"")
    assert name_of(a) != name_of(b)
    assert name_of(cache.match("GET", "/users", CIMultiDict(first), b"")) == name_of(a)


def test_body_is_part_of_the_key() -> None:
    cache = make_cache(
        example("alice", "/login", body='{"user": "alice"}', method="POST"),
        example("bob", "/login", body='{"user": "bob"}', method="POST"),
    )
    json_type = CIMultiDict({"Content-Type": "application/json"})
    assert name_of(cache.match("POST", "/login", json_type, b'{"user": "bob"}')) == "bob"
    assert name_of(cache.match("POST", "/login", json_type, b'{"user": "alice"}')) == "alice"
    assert name_of(cache.match("POST", "/login", json_type, b'{"user": "bob"}')) == "bob"


def test_per_request_header_matching_bypasses_the_cache() -> None:
    cache = make_cache(example("ok", "/users"))
    headers = CIMultiDict({"x-mock-match-request-headers": "x-a"})
    cache.match("GET", "/users", headers, b"")
    assert cache.entries == {}


def test_head_falls_back_to_get_and_misses_are_kept() -> None:
    cache = make_cache(example("ok", "/users"))
    assert name_of(cache.match("HEAD", "/users", CIMultiDict(), b"")) == "ok"
    assert isinstance(cache.match("GET", "/nothing", CIMultiDict(), b""), Miss)
    assert len(cache.entries) == 2


def test_cache_is_bounded() -> None:
    cache = make_cache(example("ok", "/users/:id"))
    for n in range(CACHE_SIZE + 10):
        cache.match("GET", f"/users/{n}", CIMultiDict(), b"")
    assert len(cache.entries) == CACHE_SIZE
    assert ("GET", "/users/0") not in {k[:2] for k in cache.entries}
