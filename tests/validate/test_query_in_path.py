"""The `query-in-path` lint: a query string written into a structured path segment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from postmock.collection import collection_from_json, load_collection
from postmock.templating.variables import VariableScope
from postmock.validate.lints import LintContext, lint

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def findings(doc: dict[str, Any]) -> list[tuple[str, str]]:
    coll = collection_from_json(doc, "c.json")
    return [
        (f.path, f.message)
        for f in lint(LintContext(coll, VariableScope.build(coll)))
        if f.code == "query-in-path"
    ]


def url(path: list[str], raw: str = "") -> dict[str, Any]:
    return {"raw": raw, "host": ["api"], "path": path}


def test_query_in_a_path_segment_is_reported_once_per_url() -> None:
    bad = url(["stats", "usage_by_service?from=1&to=2"])
    doc = {
        "info": {"name": "t", "schema": SCHEMA},
        "item": [
            {
                "name": "usage",
                "request": {"method": "GET", "url": bad},
                "response": [
                    {"name": "saved", "code": 200, "body": "",
                     "originalRequest": {"method": "GET", "url": bad}},
                    {"name": "no original request", "code": 200, "body": ""},
                    {"name": "fine", "code": 200, "body": "", "originalRequest":
                     {"method": "GET", "url": {**url(["stats", "usage_by_service"]),
                                               "query": [{"key": "from", "value": "1"}]}}},
                ],
            },
            {"name": "string url", "request": {"method": "GET", "url": "api/a?b=c"},
             "response": []},
        ],
    }  # fmt: skip
    found = findings(doc)
    assert [path for path, _ in found] == [
        "item[0].request.url.path",
        "item[0].response[0].originalRequest.url.path",
    ]
    assert "'usage_by_service?from=1&to=2'" in found[0][1]
    assert "url.query" in found[0][1]


def test_fastly_corpus_examples_are_flagged(corpus_dir: Path) -> None:
    coll = load_collection(
        corpus_dir / "collections" / "kevinswiber__postman2openapi__fastly.postman.json"
    )
    found = [
        f for f in lint(LintContext(coll, VariableScope.build(coll))) if f.code == "query-in-path"
    ]
    assert len(found) == 29
    assert all("?" in f.message for f in found)
