"""Small builders for matching tests: collections as dicts, requests from parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postmock.collection import Collection, collection_from_json
from postmock.matching import IncomingRequest, Match, MatchConfig, MatchIndex, Miss
from postmock.templating.variables import VariableScope

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def ex(
    name: str,
    url: str | dict[str, Any],
    *,
    method: str = "GET",
    code: int = 200,
    id: str = "",
    header: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One saved example with its originalRequest."""
    request: dict[str, Any] = {"method": method, "url": url, "header": header or []}
    if body is not None:
        request["body"] = body
    out: dict[str, Any] = {"name": name, "code": code, "originalRequest": request, "body": name}
    if id:
        out["id"] = id
    return out


def raw_json(text: str) -> dict[str, Any]:
    return {"mode": "raw", "raw": text, "options": {"raw": {"language": "json"}}}


def collection(*examples: dict[str, Any], variables: Mapping[str, str] | None = None) -> Collection:
    """A collection with one item per example (the item's request is the example's)."""
    items = [
        {"name": f"item {n}", "request": e["originalRequest"], "response": [e]}
        for n, e in enumerate(examples)
    ]
    doc: dict[str, Any] = {"info": {"name": "t", "schema": SCHEMA}, "item": items}
    if variables:
        doc["variable"] = [{"key": k, "value": v} for k, v in variables.items()]
    return collection_from_json(doc)


def index(
    coll: Collection,
    config: MatchConfig | None = None,
    scope: VariableScope | None = None,
) -> MatchIndex:
    return MatchIndex.compile(coll, scope or VariableScope.build(coll), config or MatchConfig())


def request(
    method: str, target: str, headers: Mapping[str, str] | None = None, body: bytes | str = b""
) -> IncomingRequest:
    return IncomingRequest.from_parts(method, target, headers or {}, body)


def winner(result: Match | Miss) -> str:
    assert isinstance(result, Match), result
    return result.example.name
