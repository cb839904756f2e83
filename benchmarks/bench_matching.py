"""Micro-benchmark of the matching engine: compile time and per-match cost by collection size.

Run: python benchmarks/bench_matching.py
Builds synthetic collections of 10, 1,000 and 10,000 examples in memory and times
`MatchIndex.match` for a static path, a path-variable path, a query request and a miss
(with document distance on, the default, and off).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from postmock.collection import collection_from_json
from postmock.matching import IncomingRequest, Match, MatchConfig, MatchIndex, Miss
from postmock.templating.variables import VariableScope

SIZES = (10, 1_000, 10_000)
RESOURCES = ("users", "orders", "invoices", "products", "teams", "projects", "files", "events")


def _example(name: str, method: str, url: str, code: int = 200) -> dict[str, Any]:
    return {
        "name": name,
        "code": code,
        "body": '{"ok": true}',
        "originalRequest": {"method": method, "url": url},
    }


def build(size: int) -> dict[str, Any]:
    """A collection of `size` examples: static, path-variable and query examples, 2 per item."""
    items = []
    for n in range(size // 2):
        res = RESOURCES[n % len(RESOURCES)]
        kind = n % 3
        if kind == 0:
            url = f"{{{{baseUrl}}}}/api/v{n % 3 + 1}/{res}{n}/summary"
        elif kind == 1:
            url = f"{{{{baseUrl}}}}/api/v{n % 3 + 1}/{res}{n}/:itemId/details"
        else:
            url = f"{{{{baseUrl}}}}/api/v{n % 3 + 1}/{res}{n}/search?page=1&limit=20&sort=name"
        method = "GET" if n % 4 else "POST"
        items.append(
            {
                "name": f"item {n}",
                "request": {"method": method, "url": url},
                "response": [
                    _example(f"ok {n}", method, url),
                    _example(f"not found {n}", method, url, 404),
                ],
            }
        )
    return {
        "info": {
            "name": f"bench {size}",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [{"key": "baseUrl", "value": "https://api.example.com"}],
        "item": items,
    }


def _last(size: int, kind: int) -> int:
    """The highest item number of a kind, so a linear scan would have to go to the end."""
    n = size // 2 - 1
    while n % 3 != kind or n % 4 == 0:
        n -= 1
    return n


def per_call(fn: Callable[[], object], seconds: float = 0.3) -> float:
    """Mean µs per call over about `seconds` of repeated calls."""
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        calls += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls * 1e6


def main() -> None:
    """Print compile time and per-match cost for each size."""
    header = (
        f"{'examples':>9} {'compile ms':>11} {'static µs':>10} {'path-var µs':>12} "
        f"{'query µs':>9} {'miss µs':>9} {'miss no-fuzzy µs':>17}"
    )
    print(header)
    for size in SIZES:
        collection = collection_from_json(build(size))
        scope = VariableScope.build(collection)
        start = time.perf_counter()
        index = MatchIndex.compile(collection, scope)
        compile_ms = (time.perf_counter() - start) * 1e3
        strict = MatchIndex.compile(collection, scope, MatchConfig(fuzzy=False))
        s, v, q = _last(size, 0), _last(size, 1), _last(size, 2)
        res = RESOURCES
        requests = {
            "static": IncomingRequest.from_parts(
                "GET", f"/api/v{s % 3 + 1}/{res[s % len(res)]}{s}/summary"
            ),
            "path-var": IncomingRequest.from_parts(
                "GET", f"/api/v{v % 3 + 1}/{res[v % len(res)]}{v}/abc-123/details"
            ),
            "query": IncomingRequest.from_parts(
                "GET", f"/api/v{q % 3 + 1}/{res[q % len(res)]}{q}/search?page=2&limit=20"
            ),
            "miss": IncomingRequest.from_parts("GET", "/api/v9/nothing-like-this/at/all"),
        }
        expected = {"static": Match, "path-var": Match, "query": Match, "miss": Miss}
        for name, req in requests.items():
            result = index.match(req)
            assert isinstance(result, expected[name]), (name, result)
        costs = [per_call(partial(index.match, r)) for r in requests.values()]
        no_fuzzy = per_call(partial(strict.match, requests["miss"]))
        print(
            f"{size:>9,} {compile_ms:>11.1f} {costs[0]:>10.1f} {costs[1]:>12.1f} "
            f"{costs[2]:>9.1f} {costs[3]:>9.1f} {no_fuzzy:>17.1f}"
        )


if __name__ == "__main__":
    main()
