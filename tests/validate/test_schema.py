"""postmock's collection JSON Schemas: verdicts, error paths and messages, and agreement
with Postman's official draft-07 schema (the oracle) on the corpus and on mutated documents.
"""

from __future__ import annotations

import codecs
import copy
import json
import os
import random
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from postmock.validate.run import validate_file
from postmock.validate.schema import (
    Version,
    is_valid,
    json_path,
    load_schema,
    schema_issues,
    schema_version,
    validator,
)

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
V20 = "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"


def collection(*items: Any, schema: str = V21, **extra: Any) -> dict[str, Any]:
    return {"info": {"name": "t", "schema": schema}, "item": list(items), **extra}


def request_item(request: Any = "https://x.io/a", **extra: Any) -> dict[str, Any]:
    return {"name": "r", "request": request, **extra}


def example(**fields: Any) -> dict[str, Any]:
    return request_item({"method": "GET", "url": "https://x.io/a"}, response=[fields])


def body(**fields: Any) -> dict[str, Any]:
    return request_item({"method": "POST", "url": "https://x.io/a", "body": fields})


# (id, document, problems: [(JSON path, words in the message)] — empty means valid)
CASES: list[tuple[str, Any, list[tuple[str, str]]]] = [
    ("minimal-v2.1", collection(), []),
    ("minimal-v2.0", collection(schema=V20), []),
    ("no-schema-url", {"info": {"name": "t"}, "item": []}, [("info", "'schema'")]),
    ("missing-info", {"item": []}, [("", "'info'")]),
    ("missing-item", {"info": {"name": "t", "schema": V21}}, [("", "'item'")]),
    ("top-level-list", [], [("", "expected an object")]),
    ("info-version-string", collection(info={"name": "t", "schema": V21, "version": "1"}), []),
    (
        "info-version-empty-object",
        {"info": {"name": "t", "schema": V21, "version": {}}, "item": []},
        [("info.version", "'major', 'minor', 'patch'")],
    ),
    (
        "info-version-null",
        {"info": {"name": "t", "schema": V21, "version": None}, "item": []},
        [("info.version", "got null")],
    ),
    ("variable-null", collection(variable=None), [("variable", "expected a list, got null")]),
    ("variable-with-id-only", collection(variable=[{"id": "a", "value": 1}]), []),
    ("variable-without-key", collection(variable=[{"value": 1}]), [("variable[0]", "'key'")]),
    (
        "variable-bad-type",
        collection(variable=[{"key": "a", "type": "text"}]),
        [("variable[0].type", "not one of")],
    ),
    ("string-request", collection(request_item("https://x.io/a")), []),
    ("request-number", collection(request_item(7)), [("item[0].request", "got a number (7)")]),
    ("string-url", collection(request_item({"url": "{{base}}/a"})), []),
    (
        "object-url",
        collection(
            request_item(
                {
                    "url": {
                        "raw": "https://x.io/a/:id?q=1",
                        "host": ["x", "io"],
                        "path": ["a", {"type": "string", "value": ":id"}],
                        "query": [{"key": "q", "value": None}],
                        "variable": [{"key": "id", "value": "1"}],
                    }
                }
            )
        ),
        [],
    ),
    (
        "url-host-number",
        collection(request_item({"url": {"host": 3}})),
        [("item[0].request.url.host", "expected a list or a string")],
    ),
    (
        "url-path-segment-number",
        collection(request_item({"url": {"path": ["a", 1]}})),
        [("item[0].request.url.path[1]", "got a number (1)")],
    ),
    (
        "url-port-number",
        collection(request_item({"url": {"port": 8080}})),
        [("item[0].request.url.port", "expected a string")],
    ),
    ("header-as-string", collection(request_item({"header": "A: b\nC: d"})), []),
    (
        "header-null",
        collection(request_item({"header": None})),
        [("item[0].request.header", "got null")],
    ),
    (
        "header-without-value",
        collection(request_item({"header": [{"key": "A"}]})),
        [("item[0].request.header[0]", "'value'")],
    ),
    ("method-custom", collection(request_item({"method": "SEARCH"})), []),
    (
        "method-number",
        collection(request_item({"method": 1})),
        [("item[0].request.method", "expected a string")],
    ),
    ("body-null", collection(request_item({"body": None})), []),
    ("body-raw", collection(body(mode="raw", raw="{}", options={"raw": {"language": "json"}})), []),
    (
        "body-unknown-mode",
        collection(body(mode="binary")),
        [("item[0].request.body.mode", "not one of")],
    ),
    (
        "body-urlencoded",
        collection(body(mode="urlencoded", urlencoded=[{"key": "a", "value": "b"}])),
        [],
    ),
    (
        "body-urlencoded-no-key",
        collection(body(mode="urlencoded", urlencoded=[{"value": "b"}])),
        [("item[0].request.body.urlencoded[0]", "'key'")],
    ),
    (
        "body-formdata-text",
        collection(body(mode="formdata", formdata=[{"key": "a", "value": "b", "type": "text"}])),
        [],
    ),
    (
        "body-formdata-file-list",
        collection(
            body(mode="formdata", formdata=[{"key": "f", "src": ["a", "b"], "type": "file"}])
        ),
        [],
    ),
    (
        "body-formdata-text-number",
        collection(body(mode="formdata", formdata=[{"key": "a", "value": 1, "type": "text"}])),
        [("item[0].request.body.formdata[0].value", "expected a string")],
    ),
    (
        "body-formdata-untyped-number",
        collection(body(mode="formdata", formdata=[{"key": "a", "value": 1}])),
        [],
    ),
    (
        "body-formdata-untyped-both-bad",
        collection(body(mode="formdata", formdata=[{"key": "a", "value": 1, "src": 2}])),
        [("item[0].request.body.formdata[0]", "needs a string 'value'")],
    ),
    (
        "body-formdata-bad-type",
        collection(body(mode="formdata", formdata=[{"key": "a", "type": "default"}])),
        [("item[0].request.body.formdata[0].type", "not one of")],
    ),
    ("body-file-null-src", collection(body(mode="file", file={"src": None})), []),
    ("body-graphql", collection(body(mode="graphql", graphql={"query": "{a}"})), []),
    (
        "body-graphql-string",
        collection(body(mode="graphql", graphql="{a}")),
        [("item[0].request.body.graphql", "expected an object")],
    ),
    ("example-minimal", collection(example()), []),
    (
        "example-code-string",
        collection(example(code="200")),
        [("item[0].response[0].code", 'got a string ("200")')],
    ),
    ("example-code-float", collection(example(code=200.0)), []),
    ("example-body-null", collection(example(body=None)), []),
    (
        "example-body-object",
        collection(example(body={"a": 1})),
        [("item[0].response[0].body", "a string or null")],
    ),
    (
        "example-header-strings",
        collection(example(header=["A: b", {"key": "C", "value": "d"}])),
        [],
    ),
    ("example-header-string", collection(example(header="A: b")), []),
    (
        "example-header-value-number",
        collection(example(header=[{"key": "A", "value": 3}])),
        [("item[0].response[0].header[0].value", "got a number (3)")],
    ),
    ("example-not-an-object", collection(request_item(response=["text"])), []),
    (
        "example-cookie-no-domain",
        collection(example(cookie=[{"name": "a", "path": "/"}])),
        [("item[0].response[0].cookie[0]", "'domain'")],
    ),
    ("example-string-original-request", collection(example(originalRequest="https://x.io/a")), []),
    ("example-response-time-string", collection(example(responseTime="12")), []),
    ("folder", collection({"name": "f", "item": [request_item()]}), []),
    (
        "folder-items-not-list",
        collection({"name": "f", "item": {}}),
        [("item[0].item", "expected a list")],
    ),
    ("entry-neither", collection({"name": "x"}), [("item[0]", "neither a request item")]),
    ("entry-not-object", collection("x"), [("item[0]", "expected an object")]),
    (
        "top-level-both-valid",
        collection({"name": "x", "request": "https://x.io", "item": []}),
        [("item[0]", "valid both as a request item and as a folder")],
    ),
    (
        "nested-both-valid",
        collection({"name": "f", "item": [{"request": "https://x.io", "item": []}]}),
        [],
    ),
    ("top-level-both-one-valid", collection({"request": 1, "item": []}), []),
    (
        "event-without-listen",
        collection(event=[{"script": {"exec": ["x"]}}]),
        [("event[0]", "'listen'")],
    ),
    ("script-exec-string", collection(event=[{"listen": "test", "script": {"exec": "x"}}]), []),
    (
        "script-as-string",
        collection(event=[{"listen": "test", "script": "x"}]),
        [("event[0].script", "expected an object")],
    ),
    ("auth-null", collection(auth=None), []),
    (
        "auth-v2.1-list",
        collection(auth={"type": "basic", "basic": [{"key": "username", "value": "u"}]}),
        [],
    ),
    (
        "auth-v2.1-object",
        collection(auth={"type": "basic", "basic": {"username": "u"}}),
        [("auth.basic", "v2.1 collection an auth helper is a list")],
    ),
    (
        "auth-v2.0-object",
        collection(schema=V20, auth={"type": "basic", "basic": {"username": "u"}}),
        [],
    ),
    (
        "auth-v2.0-list",
        collection(schema=V20, auth={"type": "basic", "basic": [{"key": "u"}]}),
        [("auth.basic", "v2.0 collection an auth helper is an object")],
    ),
    ("auth-unknown-type", collection(auth={"type": "jwt"}), [("auth.type", "not one of")]),
    ("description-object", collection(description={"content": "x", "type": "text/markdown"}), []),
    (
        "description-number",
        collection({"name": "f", "item": [], "description": 1}),
        [("item[0].description", "expected an object, a string or null")],
    ),
    (
        "odd-key-path",
        collection(request_item({"url": {"query": [{"key": 1}]}})),
        [("item[0].request.url.query[0].key", "a string or null")],
    ),
]


@pytest.mark.parametrize(("doc", "problems"), [pytest.param(d, p, id=i) for i, d, p in CASES])
def test_schema_verdicts_and_messages(doc: Any, problems: list[tuple[str, str]]) -> None:
    issues = schema_issues(doc, schema_version(doc))
    assert is_valid(doc, schema_version(doc)) is (not problems)
    assert len(issues) == len(problems), issues
    for issue, (path, words) in zip(issues, problems, strict=True):
        assert issue.path == path
        assert words in issue.message
        assert "\n" not in issue.message and len(issue.message) < 220


@pytest.mark.parametrize(
    ("data", "version"),
    [
        pytest.param({"info": {"schema": V20}}, "2.0", id="v2.0-url"),
        pytest.param({"info": {"schema": V21}}, "2.1", id="v2.1-url"),
        pytest.param({"info": {"_postman_schema": "…/v2.0.0/"}}, "2.0", id="old-key"),
        pytest.param({"info": {"schema": "https://example.com"}}, "2.1", id="unknown"),
        pytest.param({"info": {"schema": 3}}, "2.1", id="not-a-string"),
        pytest.param([], "2.1", id="not-an-object"),
    ],
)
def test_schema_version(data: Any, version: str) -> None:
    assert schema_version(data) == version


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        pytest.param((), "", id="root"),
        pytest.param(("item", 2, "response", 0, "code"), "item[2].response[0].code", id="nested"),
        pytest.param(("info", "_postman_id"), "info._postman_id", id="underscore"),
        pytest.param(("a b", 1), '["a b"][1]', id="quoted"),
    ],
)
def test_json_path(parts: tuple[str | int, ...], path: str) -> None:
    assert json_path(parts) == path


def test_envelope_paths_are_prefixed(tmp_path: Path) -> None:
    doc = {"collection": collection(example(code="x"))}
    file = tmp_path / "api.json"
    file.write_text(json.dumps(doc))
    [finding] = [f for f in validate_file(file).findings if f.code == "schema"]
    assert finding.path == "collection.item[0].response[0].code"


# -- equivalence with the plain Draft7Validator and with Postman's official schema ----------

CORPUS = os.environ.get("POSTMOCK_CORPUS")
NO_CORPUS = pytest.param(None, marks=pytest.mark.skip(reason="POSTMOCK_CORPUS is not set"))


def corpus_files() -> list[Any]:
    if not CORPUS:
        return [NO_CORPUS]
    root = Path(CORPUS)
    files = sorted(root.glob("collections/*.json")) + sorted(root.glob("invalid/*.json"))
    return [
        pytest.param(f, id=f"{f.parent.name}/{f.name}", marks=pytest.mark.corpus) for f in files
    ]


@cache
def official(version: Version) -> Draft7Validator:
    assert CORPUS
    bundle = Path(CORPUS) / "schema" / f"collection-v{version}.0.draft-07.bundled.json"
    return Draft7Validator(json.loads(bundle.read_text("utf-8")))


def parsed(file: Path) -> Any:
    """The document as a JSON reader that handles BOMs and UTF-16 sees it; None if not JSON."""
    data = file.read_bytes()
    try:
        bom16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        return json.loads(data.decode("utf-16") if bom16 else data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


@pytest.mark.parametrize("file", corpus_files())
def test_corpus_verdict_agrees_with_official_draft07(file: Path) -> None:
    doc = parsed(file)
    version = schema_version(doc)
    oracle = doc is not None and official(version).is_valid(doc)
    report = validate_file(file)
    assert (report.errors == 0) == oracle, [
        f.message for f in report.findings if f.severity == "error"
    ]
    if doc is not None:
        assert is_valid(doc, version) == oracle


@pytest.mark.parametrize("file", corpus_files())
def test_fast_validator_gives_the_plain_validators_errors(file: Path) -> None:
    doc = parsed(file)
    if doc is None:
        pytest.skip("not JSON")
    version = schema_version(doc)
    plain = Draft7Validator(load_schema(version))

    def key(e: Any) -> tuple[str, str, str]:
        return (json_path(e.absolute_path), str(e.validator), e.message)

    assert sorted(map(key, validator(version).iter_errors(doc))) == sorted(
        map(key, plain.iter_errors(doc))
    )


REPLACEMENTS: list[Any] = [None, True, 0, 1.5, "x", "", [], {}, ["x"], [{}], {"key": "k"}]


def mutate(doc: Any, rng: random.Random) -> Any:
    """A copy of `doc` with one node replaced, one key removed, or a key added."""
    doc = copy.deepcopy(doc)
    nodes: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in list(children):
            nodes.append((node, key))
            if isinstance(child, (dict, list)):
                walk(child)

    walk(doc)
    parent, key = rng.choice(nodes)
    action = rng.random()
    if action < 0.2 and isinstance(parent, dict):
        del parent[key]
    elif action < 0.35 and isinstance(parent[key], dict):
        parent[key][rng.choice(["request", "item", "type", "src", "value", "id", "key"])] = (
            rng.choice(REPLACEMENTS)
        )
    else:
        parent[key] = rng.choice(REPLACEMENTS)
    return doc


SEEDS = 150


@pytest.mark.parametrize(
    "case", [pytest.param(d, id=i) for i, d, p in CASES if isinstance(d, dict) and d.get("item")]
)
def test_mutated_documents_agree_with_official_draft07(case: dict[str, Any]) -> None:
    if not CORPUS:
        pytest.skip("POSTMOCK_CORPUS is not set")
    rng = random.Random(json.dumps(case, sort_keys=True))
    for _ in range(SEEDS):
        doc = mutate(case, rng)
        version = schema_version(doc)
        assert is_valid(doc, version) == official(version).is_valid(doc), json.dumps(doc)


@pytest.mark.parametrize(("doc", "problems"), [pytest.param(d, p, id=i) for i, d, p in CASES])
def test_table_agrees_with_official_draft07(doc: Any, problems: list[tuple[str, str]]) -> None:
    if not CORPUS:
        pytest.skip("POSTMOCK_CORPUS is not set")
    assert official(schema_version(doc)).is_valid(doc) is (not problems)
