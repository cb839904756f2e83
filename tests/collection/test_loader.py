"""The lenient collection/environment loader, table-driven on small collections."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path
from typing import Any

import pytest

from postmock.collection import (
    Body,
    Collection,
    Example,
    FormField,
    KeyValue,
    Url,
    collection_from_json,
    environment_from_json,
    load_collection,
    load_environment,
)
from postmock.collection.convert import parse_url_string
from postmock.errors import LoadError

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
V20 = "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"


def collection(*items: Any, schema: str | None = V21, **extra: Any) -> dict[str, Any]:
    """A collection document with the given top-level items."""
    info: dict[str, Any] = {"name": "Test", "_postman_id": "c0ffee"}
    if schema is not None:
        info["schema"] = schema
    return {"info": info, "item": list(items), **extra}


def item(request: Any = "https://api.example.com/x", *examples: Any, name: str = "req") -> dict:
    return {"name": name, "request": request, "response": list(examples)}


def folder(name: str, *items: Any) -> dict[str, Any]:
    return {"name": name, "item": list(items)}


def load(data: Any) -> Collection:
    return collection_from_json(data, "c.json")


def only_example(request: Any, example: Any) -> tuple[Example, Collection]:
    coll = load(collection(item(request, example)))
    (ex,) = coll.examples
    return ex, coll


def warnings_of(coll: Collection) -> list[tuple[str, str]]:
    return [(w.where, w.message) for w in coll.warnings]


def write(path: Path, content: Any) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


# -- schema versions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("info_extra", "expected", "warned"),
    [
        pytest.param({"schema": V21}, "2.1", False, id="v2.1-url"),
        pytest.param({"schema": V20}, "2.0", False, id="v2.0-url"),
        pytest.param(
            {
                "schema": "https://schema.postman.com/json/draft-07/collection/v2.1.0/collection.json"
            },
            "2.1",
            False,
            id="draft-07-url",
        ),
        pytest.param(
            {"_postman_schema": "https://schema.getpostman.com/#2.0.0"},
            "2.0",
            False,
            id="sdk-_postman_schema",
        ),
        pytest.param({}, "unknown", True, id="no-schema"),
        pytest.param({"schema": "https://example.com/whatever"}, "unknown", True, id="odd-schema"),
    ],
)
def test_schema_version(info_extra: dict, expected: str, warned: bool) -> None:
    data = {"info": {"name": "S", **info_extra}, "item": [item()]}
    coll = load(data)
    assert coll.schema_version == expected
    assert len(coll.items) == 1
    assert (("info.schema", "no v2.0/v2.1 schema URL; read as v2.1") in warnings_of(coll)) is warned


def test_name_falls_back_to_file_stem() -> None:
    data = collection(item())
    data["info"].pop("name")
    assert collection_from_json(data, "/tmp/My API.postman_collection.json").name == (
        "My API.postman_collection"
    )


def test_postman_api_envelope_is_unwrapped() -> None:
    coll = load({"collection": collection(item("https://h/x", {"name": "ok", "body": "1"}))})
    assert coll.name == "Test"
    assert [ex.name for ex in coll.examples] == ["ok"]


# -- where things are: folders, JSON paths, file order ------------------------------------


def test_nested_folders_locations_folders_and_order() -> None:
    ex = {"code": 200, "body": ""}
    data = collection(
        item("https://h/a", dict(ex, name="a0"), name="A"),
        folder(
            "F1",
            item("https://h/b", *(dict(ex, name=f"b{n}") for n in range(3)), name="B"),
            folder("F2", item("https://h/c", dict(ex, name="c0"), name="C")),
            folder("Empty"),
        ),
        item("https://h/d", name="D"),
    )
    coll = load(data)
    assert coll.warnings == ()
    assert [(i.name, i.location, i.folders) for i in coll.items] == [
        ("A", "item[0]", ()),
        ("B", "item[1].item[0]", ("F1",)),
        ("C", "item[1].item[1].item[0]", ("F1", "F2")),
        ("D", "item[2]", ()),
    ]
    assert [(e.name, e.location, e.index, e.item_location) for e in coll.examples] == [
        ("a0", "item[0].response[0]", 0, "item[0]"),
        ("b0", "item[1].item[0].response[0]", 1, "item[1].item[0]"),
        ("b1", "item[1].item[0].response[1]", 2, "item[1].item[0]"),
        ("b2", "item[1].item[0].response[2]", 3, "item[1].item[0]"),
        ("c0", "item[1].item[1].item[0].response[0]", 4, "item[1].item[1].item[0]"),
    ]
    assert coll.items[1].examples[2].item_name == "B"


def test_index_skips_unusable_examples() -> None:
    coll = load(collection(item("https://h/a", {"name": "x"}, "junk", {"name": "y"})))
    assert [(e.name, e.index, e.location) for e in coll.examples] == [
        ("x", 0, "item[0].response[0]"),
        ("y", 1, "item[0].response[2]"),
    ]


# -- requests and URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "method", "host", "path"),
    [
        pytest.param(
            "https://api.example.com/v1/users",
            "GET",
            "api.example.com",
            ("v1", "users"),
            id="bare-string",
        ),
        pytest.param(
            {"method": "post", "url": "{{baseUrl}}/users"},
            "POST",
            "{{baseUrl}}",
            ("users",),
            id="lowercase-method",
        ),
        pytest.param(
            {"url": "{{baseUrl}}/users"}, "GET", "{{baseUrl}}", ("users",), id="method-missing"
        ),
        pytest.param({"method": None, "url": "/x"}, "GET", "", ("x",), id="method-null"),
        pytest.param({"method": " delete ", "url": "/x"}, "DELETE", "", ("x",), id="method-spaces"),
        pytest.param({"method": "PATCH"}, "PATCH", "", (), id="url-missing"),
    ],
)
def test_request_forms(request_: Any, method: str, host: str, path: tuple[str, ...]) -> None:
    coll = load(collection(item(request_)))
    (it,) = coll.items
    assert (it.request.method, it.request.url.host, it.request.url.path) == (method, host, path)
    assert coll.warnings == ()


def kv(*triples: tuple) -> tuple[KeyValue, ...]:
    return tuple(KeyValue(*t) for t in triples)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "http://localhost:3000/api/items/:id?a=1&b=&c",
            Url(
                raw="http://localhost:3000/api/items/:id?a=1&b=&c",
                host="localhost",
                path=("api", "items", ":id"),
                query=kv(("a", "1"), ("b", ""), ("c", "")),
                protocol="http",
                port="3000",
            ),
            id="string-protocol-port-query",
        ),
        pytest.param(
            "{{baseUrl}}/pets/{{petId}}#section",
            Url(
                raw="{{baseUrl}}/pets/{{petId}}#section",
                host="{{baseUrl}}",
                path=("pets", "{{petId}}"),
            ),
            id="string-variable-host-fragment",
        ),
        pytest.param(
            "{{baseUrl}}", Url(raw="{{baseUrl}}", host="{{baseUrl}}"), id="string-host-only"
        ),
        pytest.param("/pets/1", Url(raw="/pets/1", path=("pets", "1")), id="string-path-only"),
        pytest.param(
            "https://h.io/a%2Fb/c?x=1&x=2",
            Url(
                raw="https://h.io/a%2Fb/c?x=1&x=2",
                host="h.io",
                path=("a%2Fb", "c"),
                query=kv(("x", "1"), ("x", "2")),
                protocol="https",
            ),
            id="string-escapes-kept-repeated-query",
        ),
        pytest.param(
            {
                "raw": "https://api.example.com:8443/v1/pets?status=sold",
                "protocol": "https",
                "host": ["api", "example", "com"],
                "port": "8443",
                "path": ["v1", "pets"],
                "query": [{"key": "status", "value": "sold"}],
            },
            Url(
                raw="https://api.example.com:8443/v1/pets?status=sold",
                host="api.example.com",
                path=("v1", "pets"),
                query=kv(("status", "sold")),
                protocol="https",
                port="8443",
            ),
            id="object-host-array",
        ),
        pytest.param(
            {"raw": "{{baseUrl}}/pets/:petId/", "host": "{{baseUrl}}", "path": "/pets/:petId/"},
            Url(raw="{{baseUrl}}/pets/:petId/", host="{{baseUrl}}", path=("pets", ":petId", "")),
            id="object-host-string-path-string",
        ),
        pytest.param(
            {
                "host": ["{{baseUrl}}"],
                "path": [{"type": "string", "value": "pets"}, {"type": "any", "value": ":id"}, 2],
            },
            Url(raw="", host="{{baseUrl}}", path=("pets", ":id", "2")),
            id="object-path-type-value-objects",
        ),
        pytest.param(
            {
                "raw": "{{baseUrl}}/s?a=1&c=3",
                "host": ["{{baseUrl}}"],
                "path": ["s"],
                "query": [
                    {"key": "a", "value": "1"},
                    {"key": "b", "value": "2", "disabled": True},
                    {"key": "c", "value": None},
                    {"key": None, "value": None},
                    {"key": "n", "value": 5},
                ],
            },
            Url(
                raw="{{baseUrl}}/s?a=1&c=3",
                host="{{baseUrl}}",
                path=("s",),
                query=kv(("a", "1"), ("b", "2", True), ("c", ""), ("n", "5")),
            ),
            id="object-query-disabled-null",
        ),
        pytest.param(
            {
                "raw": "{{baseUrl}}/users/:id",
                "host": ["{{baseUrl}}"],
                "path": ["users", ":id"],
                "variable": [{"key": "id", "value": 7, "description": "the user"}],
            },
            Url(
                raw="{{baseUrl}}/users/:id",
                host="{{baseUrl}}",
                path=("users", ":id"),
                variables=kv(("id", "7")),
            ),
            id="object-path-variable",
        ),
        pytest.param(
            {"raw": "https://h.io/a/b?q=1"},
            Url(
                raw="https://h.io/a/b?q=1",
                host="h.io",
                path=("a", "b"),
                query=kv(("q", "1")),
                protocol="https",
            ),
            id="object-raw-only",
        ),
        pytest.param(
            {"raw": "https://h.io/a?q=1", "query": [{"key": "q", "value": "2", "disabled": True}]},
            Url(
                raw="https://h.io/a?q=1",
                host="h.io",
                path=("a",),
                query=kv(("q", "2", True)),
                protocol="https",
            ),
            id="object-raw-with-explicit-query",
        ),
        pytest.param(None, Url(raw=""), id="null"),
    ],
)
def test_url_forms(url: Any, expected: Url) -> None:
    coll = load(collection(item({"method": "GET", "url": url})))
    assert coll.items[0].request.url == expected
    assert coll.warnings == ()


def test_url_string_parsing_matches_object_loading() -> None:
    raw = "https://h.io/a/b?x=1"
    assert parse_url_string(raw) == load(collection(item(raw))).items[0].request.url


@pytest.mark.parametrize(
    ("url", "where", "message"),
    [
        pytest.param(
            42, "item[0].request.url", "URL must be a string or an object, got int", id="url-number"
        ),
        pytest.param(
            {"host": "h", "path": 5},
            "item[0].request.url.path",
            "path must be a string or a list, got int",
            id="path-number",
        ),
        pytest.param(
            {"host": "h", "path": ["a", ["b"], "c"]},
            "item[0].request.url.path[1]",
            "path segment is not a string; skipped",
            id="path-segment-list",
        ),
        pytest.param(
            {"host": "h", "query": {"a": 1}},
            "item[0].request.url.query",
            "expected a list, got dict; ignored",
            id="query-object",
        ),
    ],
)
def test_unusable_url_parts_warn(url: Any, where: str, message: str) -> None:
    coll = load(collection(item({"url": url})))
    assert len(coll.items) == 1
    assert warnings_of(coll) == [(where, message)]


# -- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            [
                {"key": "Accept", "value": "application/json"},
                {"key": "X-Off", "value": "1", "disabled": True},
                {"key": "X-Also-Off", "value": "1", "enabled": False},
                {"key": "X-Num", "value": 3, "type": "text"},
            ],
            kv(
                ("Accept", "application/json"),
                ("X-Off", "1", True),
                ("X-Also-Off", "1", True),
                ("X-Num", "3"),
            ),
            id="list",
        ),
        pytest.param(
            "Accept: application/json\r\n//X-Off: 1\nX-Colon: a:b\n\nno colon here\n: nokey",
            kv(("Accept", "application/json"), ("X-Off", "1", True), ("X-Colon", "a:b")),
            id="string",
        ),
        pytest.param(None, (), id="null"),
        pytest.param([], (), id="empty-list"),
    ],
)
def test_headers(header: Any, expected: tuple[KeyValue, ...]) -> None:
    coll = load(collection(item({"url": "/x", "header": header}, {"name": "e", "header": header})))
    assert coll.items[0].request.headers == expected
    assert coll.examples[0].headers == expected
    assert coll.warnings == ()


def test_header_entries_that_are_not_objects_are_skipped() -> None:
    coll = load(collection(item({"url": "/x", "header": [{"key": "A", "value": "1"}, "B: 2"]})))
    assert coll.items[0].request.headers == kv(("A", "1"))
    assert warnings_of(coll) == [("item[0].request.header[1]", "not an object; skipped")]


# -- bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"mode": "raw", "raw": '{"a": 1}', "options": {"raw": {"language": "json"}}},
            Body(mode="raw", raw='{"a": 1}', language="json"),
            id="raw-json",
        ),
        pytest.param(
            {"mode": "raw", "raw": "<a/>"}, Body(mode="raw", raw="<a/>"), id="raw-no-options"
        ),
        pytest.param({"mode": "raw", "raw": None}, Body(mode="raw"), id="raw-null"),
        pytest.param(
            {
                "mode": "urlencoded",
                "urlencoded": [
                    {"key": "grant_type", "value": "password"},
                    {"key": "scope", "value": "read", "disabled": True},
                    {"key": "n", "value": 1, "type": "text"},
                ],
            },
            Body(
                mode="urlencoded",
                fields=(
                    FormField("grant_type", "password"),
                    FormField("scope", "read", disabled=True),
                    FormField("n", "1"),
                ),
            ),
            id="urlencoded",
        ),
        pytest.param(
            {
                "mode": "formdata",
                "formdata": [
                    {"key": "caption", "value": "hi", "type": "text"},
                    {"key": "doc", "src": "/tmp/a.pdf", "type": "file"},
                    {"key": "many", "src": ["/a.png", "/b.png"], "type": "file"},
                    {"key": "none", "src": None, "type": "file"},
                    {"key": "untyped", "value": "v"},
                    {"key": "off", "value": "v", "type": "text", "disabled": True},
                ],
            },
            Body(
                mode="formdata",
                fields=(
                    FormField("caption", "hi"),
                    FormField("doc", "/tmp/a.pdf", "file"),
                    FormField("many", "/a.png,/b.png", "file"),
                    FormField("none", "", "file"),
                    FormField("untyped", "v"),
                    FormField("off", "v", disabled=True),
                ),
            ),
            id="formdata-text-and-file",
        ),
        pytest.param(
            {"mode": "file", "file": {"src": "/data/up.bin"}},
            Body(mode="file", file_src="/data/up.bin"),
            id="file",
        ),
        pytest.param({"mode": "file", "file": {}}, Body(mode="file"), id="file-no-src"),
        pytest.param(
            {"mode": "graphql", "graphql": {"query": "{ me { id } }", "variables": {"x": False}}},
            Body(mode="graphql", graphql_query="{ me { id } }", graphql_variables='{"x": false}'),
            id="graphql-variables-object",
        ),
        pytest.param(
            {"mode": "graphql", "graphql": {"query": "q", "variables": '{"x": 1}'}},
            Body(mode="graphql", graphql_query="q", graphql_variables='{"x": 1}'),
            id="graphql-variables-string",
        ),
        pytest.param({"mode": "graphql"}, Body(mode="graphql"), id="graphql-missing"),
        pytest.param({"mode": "raw", "raw": "x", "disabled": True}, Body(), id="disabled"),
        pytest.param({}, Body(), id="empty-object"),
        pytest.param(None, Body(), id="null"),
        pytest.param({"mode": None, "raw": "x"}, Body(), id="mode-null"),
    ],
)
def test_body_modes(body: Any, expected: Body) -> None:
    request = {"method": "POST", "url": "/x", "body": body}
    ex, coll = only_example(request, {"name": "e", "originalRequest": request})
    assert coll.items[0].request.body == expected
    assert ex.request.body == expected
    assert coll.warnings == ()


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        pytest.param(
            {"mode": "binary"},
            "item[0].request.body",
            "unknown body mode 'binary'; ignored",
            id="unknown-mode",
        ),
        pytest.param(
            "a=1",
            "item[0].request.body",
            "body must be an object, got str; ignored",
            id="string-body",
        ),
        pytest.param(
            {"mode": "urlencoded", "urlencoded": "a=1"},
            "item[0].request.body.urlencoded",
            "form fields must be a list; ignored",
            id="fields-string",
        ),
        pytest.param(
            {"mode": "formdata", "formdata": [1]},
            "item[0].request.body.formdata[0]",
            "not an object; skipped",
            id="field-not-object",
        ),
    ],
)
def test_unusable_bodies_warn(body: Any, where: str, message: str) -> None:
    coll = load(collection(item({"method": "POST", "url": "/x", "body": body})))
    assert coll.items[0].request.method == "POST"
    assert warnings_of(coll) == [(where, message)]


# -- examples -----------------------------------------------------------------------------

ITEM_REQUEST = {
    "method": "POST",
    "url": "{{baseUrl}}/items",
    "header": [{"key": "A", "value": "1"}],
}


@pytest.mark.parametrize(
    ("example", "field", "expected"),
    [
        pytest.param({"name": "e"}, "code", 200, id="code-missing"),
        pytest.param({"code": None}, "code", 200, id="code-null"),
        pytest.param({"code": 404}, "code", 404, id="code-int"),
        pytest.param({"code": "201"}, "code", 201, id="code-string"),
        pytest.param({"code": 204.0}, "code", 204, id="code-float"),
        pytest.param({"name": "e"}, "code_given", False, id="code-missing-not-given"),
        pytest.param({"code": "409"}, "code_given", True, id="code-string-given"),
        pytest.param({"status": "Created"}, "status", "Created", id="status"),
        pytest.param({"body": '{"a":1}'}, "body", '{"a":1}', id="body-string"),
        pytest.param({"body": ""}, "body", "", id="body-empty"),
        pytest.param({"body": None}, "body", None, id="body-null"),
        pytest.param({}, "body", None, id="body-missing"),
        pytest.param({"data": "legacy"}, "body", "legacy", id="legacy-data"),
        pytest.param({"body": "new", "data": "old"}, "body", "new", id="body-beats-data"),
        pytest.param(
            {"_postman_previewlanguage": "json"}, "preview_language", "json", id="preview"
        ),
        pytest.param({"id": "abc-1"}, "id", "abc-1", id="id"),
        pytest.param({"_postman_id": "pid-2"}, "id", "pid-2", id="_postman_id"),
        pytest.param({"name": 5}, "name", "5", id="name-number"),
        pytest.param({}, "has_original_request", False, id="no-original"),
        pytest.param({"originalRequest": "/y"}, "has_original_request", True, id="original-string"),
    ],
)
def test_example_fields(example: dict, field: str, expected: Any) -> None:
    ex, coll = only_example(ITEM_REQUEST, example)
    assert getattr(ex, field) == expected
    assert coll.warnings == ()


@pytest.mark.parametrize(
    ("original", "method", "path", "headers"),
    [
        pytest.param(None, "POST", ("items",), kv(("A", "1")), id="missing-uses-item-request"),
        pytest.param("{{baseUrl}}/items/9", "GET", ("items", "9"), (), id="string"),
        pytest.param(
            {"method": "PUT", "url": "{{baseUrl}}/items/1", "header": [{"key": "B", "value": "2"}]},
            "PUT",
            ("items", "1"),
            kv(("B", "2")),
            id="object",
        ),
        pytest.param(
            {"method": "DELETE", "header": []},
            "DELETE",
            ("items",),
            (),
            id="object-without-url-keeps-item-url",
        ),
    ],
)
def test_original_request(
    original: Any, method: str, path: tuple[str, ...], headers: tuple[KeyValue, ...]
) -> None:
    example: dict[str, Any] = {"name": "e"}
    if original is not None:
        example["originalRequest"] = original
    ex, _ = only_example(ITEM_REQUEST, example)
    assert (ex.request.method, ex.request.url.path, ex.request.headers) == (method, path, headers)


@pytest.mark.parametrize(
    ("example", "where", "message", "field", "expected"),
    [
        pytest.param(
            {"code": "abc"},
            "item[0].response[0].code",
            "status code 'abc' is not a number; using 200",
            "code",
            200,
            id="code-text",
        ),
        pytest.param(
            {"code": [200]},
            "item[0].response[0].code",
            "status code [200] is not a number; using 200",
            "code",
            200,
            id="code-list",
        ),
        pytest.param(
            {"code": float("inf")},
            "item[0].response[0].code",
            "status code inf is not a number; using 200",
            "code",
            200,
            id="code-infinity",
        ),
        pytest.param(
            {"code": 999},
            "item[0].response[0].code",
            "status code 999 is out of range; using 200",
            "code",
            200,
            id="code-999",
        ),
        pytest.param(
            {"code": 0},
            "item[0].response[0].code",
            "status code 0 is out of range; using 200",
            "code_given",
            False,
            id="code-0",
        ),
        pytest.param(
            {"body": {"a": "é"}},
            "item[0].response[0].body",
            "body is not a string; served as its JSON text",
            "body",
            '{"a": "é"}',
            id="body-object",
        ),
        pytest.param(
            {"body": 12},
            "item[0].response[0].body",
            "body is not a string; served as its JSON text",
            "body",
            "12",
            id="body-number",
        ),
        pytest.param(
            {"originalRequest": 7},
            "item[0].response[0].originalRequest",
            "request must be a string or an object, got int",
            "request",
            load(collection(item(ITEM_REQUEST))).items[0].request,
            id="original-unusable-falls-back",
        ),
        pytest.param(
            {"originalRequest": 7},
            "item[0].response[0].originalRequest",
            "request must be a string or an object, got int",
            "has_original_request",
            False,
            id="original-unusable-not-counted",
        ),
        pytest.param(
            {"header": 3},
            "item[0].response[0].header",
            "expected a list, got int; ignored",
            "headers",
            (),
            id="header-number",
        ),
    ],
)
def test_example_problems_warn_and_keep_the_example(
    example: dict, where: str, message: str, field: str, expected: Any
) -> None:
    ex, coll = only_example(ITEM_REQUEST, {"name": "e", **example})
    assert getattr(ex, field) == expected
    assert warnings_of(coll) == [(where, message)]


# -- unusable parts are skipped, with a warning that says where ---------------------------


@pytest.mark.parametrize(
    ("items", "where", "message", "served"),
    [
        pytest.param(
            [
                item("/a"),
                item("/b"),
                item("/c"),
                item("/d", {"name": "ok"}, "junk", {"name": "ok2"}),
            ],
            "item[3].response[1]",
            "example must be an object, got str; skipped",
            ["ok", "ok2"],
            id="example-not-object",
        ),
        pytest.param(
            [item("/a", {"name": "ok"}), 5],
            "item[1]",
            "item is not an object; skipped",
            ["ok"],
            id="item-not-object",
        ),
        pytest.param(
            [{"name": "r", "request": "/a", "response": {"name": "x"}}, item("/b", {"name": "ok"})],
            "item[0].response",
            "examples must be a list; ignored",
            ["ok"],
            id="responses-not-list",
        ),
        pytest.param(
            [item(42, {"name": "lost"}), item("/b", {"name": "ok"})],
            "item[0].request",
            "request must be a string or an object, got int",
            ["ok"],
            id="request-unusable",
        ),
        pytest.param(
            [item("/b", {"name": "ok"}), {"name": "stray", "description": "nothing"}],
            "item[1]",
            "neither a request nor a folder; skipped",
            ["ok"],
            id="neither-item-nor-folder",
        ),
        pytest.param(
            [folder("F", item("/a"), folder("G", item("/b", {"name": "ok"}), True))],
            "item[0].item[1].item[1]",
            "item is not an object; skipped",
            ["ok"],
            id="deep-item-not-object",
        ),
        pytest.param(
            [{"name": "Old folder", "items": [item("/a", {"name": "ok"})]}],
            "item[0]",
            "folder uses 'items' instead of 'item'; read as 'item'",
            ["ok"],
            id="folder-items-key",
        ),
    ],
)
def test_unusable_parts_are_skipped_with_a_warning(
    items: list, where: str, message: str, served: list[str]
) -> None:
    coll = load(collection(*items))
    assert [e.name for e in coll.examples] == served
    assert warnings_of(coll) == [(where, message)]
    assert str(coll.warnings[0]) == f"c.json: {where}: {message}"


def test_items_key_at_top_level_is_read_with_a_warning() -> None:
    data = collection()
    data["items"] = data.pop("item") + [item("/a", {"name": "ok"})]
    coll = load(data)
    assert [e.location for e in coll.examples] == ["items[0].response[0]"]
    assert warnings_of(coll) == [
        ("items", "collection uses 'items' instead of 'item'; read as 'item'")
    ]


def test_collection_without_items_warns() -> None:
    coll = load({"info": {"name": "x", "schema": V21}})
    assert coll.items == ()
    assert warnings_of(coll) == [("", "collection has no 'item' list; it serves nothing")]


@pytest.mark.parametrize(
    ("variable", "expected", "warnings"),
    [
        pytest.param(None, (), [], id="null"),
        pytest.param(
            [
                {"key": "baseUrl", "value": "https://h/v1", "type": "string"},
                {"id": "legacyId", "value": "by-id"},
                {"key": "n", "value": 3},
                {"key": "off", "value": "x", "disabled": True},
                {"value": "no key"},
                "junk",
            ],
            [
                ("baseUrl", "https://h/v1", False),
                ("legacyId", "by-id", False),
                ("n", "3", False),
                ("off", "x", True),
            ],
            [
                ("variable[4]", "variable without a key; skipped"),
                ("variable[5]", "variable without a key; skipped"),
            ],
            id="list",
        ),
        pytest.param(
            {"baseUrl": "x"},
            (),
            [("variable", "expected a list of variables, got dict; ignored")],
            id="object",
        ),
    ],
)
def test_collection_variables(variable: Any, expected: Any, warnings: list) -> None:
    coll = load(collection(item(), variable=variable))
    assert [(v.key, v.value, v.disabled) for v in coll.variables] == list(expected)
    assert warnings_of(coll) == warnings


# -- v2.0 and v2.1 side by side -------------------------------------------------------------


def test_v20_and_v21_load_to_the_same_model() -> None:
    ex = {
        "name": "ok",
        "code": 200,
        "body": "{}",
        "header": [{"key": "Content-Type", "value": "application/json"}],
    }
    v20 = {
        "name": "Get",
        "request": {
            "url": "{{baseUrl}}/users/:id",
            "method": "GET",
            "header": "Accept: application/json",
            "auth": {"type": "basic", "basic": {"username": "u", "password": "p"}},
        },
        "response": [ex],
    }
    v21 = {
        "name": "Get",
        "request": {
            "url": {
                "raw": "{{baseUrl}}/users/:id",
                "host": ["{{baseUrl}}"],
                "path": ["users", ":id"],
            },
            "method": "GET",
            "header": [{"key": "Accept", "value": "application/json"}],
            "auth": {"type": "basic", "basic": [{"key": "username", "value": "u"}]},
        },
        "response": [ex],
    }
    a = load(collection(v20, schema=V20))
    b = load(collection(v21, schema=V21))
    assert (a.schema_version, b.schema_version) == ("2.0", "2.1")
    ra, rb = a.examples[0].request, b.examples[0].request
    assert (ra.method, ra.url.host, ra.url.path, ra.headers) == (
        rb.method,
        rb.url.host,
        rb.url.path,
        rb.headers,
    )
    assert a.examples[0].body == b.examples[0].body == "{}"


# -- files: encodings and errors a user can hit -------------------------------------------


SMALL = collection(item("/hello", {"name": "hi", "body": "héllo ✓"}))
ENV = {
    "name": "Env",
    "values": [{"key": "tenant", "value": "acmé", "enabled": True}],
    "_postman_variable_scope": "environment",
}


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda s: s.encode("utf-8"), id="utf-8"),
        pytest.param(lambda s: codecs.BOM_UTF8 + s.encode("utf-8"), id="utf-8-bom"),
        pytest.param(lambda s: s.encode("utf-16"), id="utf-16-bom-native"),
        pytest.param(lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"), id="utf-16-le-bom"),
        pytest.param(lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"), id="utf-16-be-bom"),
    ],
)
def test_encodings(tmp_path: Path, encode: Any) -> None:
    cpath = write(tmp_path / "c.json", encode(json.dumps(SMALL, ensure_ascii=False)))
    epath = write(tmp_path / "e.json", encode(json.dumps(ENV, ensure_ascii=False)))
    coll = load_collection(cpath)
    assert coll.source == str(cpath)
    assert coll.examples[0].body == "héllo ✓"
    env = load_environment(epath)
    assert [(v.key, v.value) for v in env.values] == [("tenant", "acmé")]


def _not_json(tmp_path: Path) -> Path:
    return write(tmp_path / "broken.json", '{\n  "info": {"name": "x"},\n  "item": [,]\n}\n')


COLLECTION_ERRORS = [
    pytest.param(lambda p: p / "missing.json", "collection not found", id="missing-file"),
    pytest.param(lambda p: p, "is a directory, not a collection", id="directory"),
    pytest.param(lambda p: write(p / "e.json", ""), "empty file, not a collection", id="empty"),
    pytest.param(
        lambda p: write(p / "w.json", "  \n\t"), "empty file, not a collection", id="blank"
    ),
    pytest.param(_not_json, "not valid JSON: Expecting value at line 3 column 12", id="not-json"),
    pytest.param(
        lambda p: write(p / "l.json", b'{"info": "caf\xe9"}'),
        "not UTF-8 text (byte 13)",
        id="latin-1",
    ),
    pytest.param(
        lambda p: write(p / "a.json", [1, 2]),
        "not a Postman collection (the top level is not an object)",
        id="top-level-array",
    ),
    pytest.param(
        lambda p: write(p / "o.json", {"openapi": "3.0.0", "paths": {}}),
        "this is an OpenAPI/Swagger description, not a Postman collection",
        id="openapi-file",
    ),
    pytest.param(
        lambda p: write(p / "v1.json", {"id": "1", "name": "Old", "order": [], "requests": []}),
        "this is a Postman Collection v1 file; postmock reads v2.0 and v2.1. Re-export it from "
        "Postman as v2.1, or convert it with: npx postman-collection-transformer convert",
        id="v1-requests",
    ),
    pytest.param(
        lambda p: write(
            p / "v1s.json",
            {
                "info": {
                    "name": "x",
                    "schema": "https://schema.getpostman.com/json/collection/v1.0.0/collection.json",
                }
            },
        ),
        "Postman Collection v1 file",
        id="v1-schema-url",
    ),
    pytest.param(
        lambda p: write(p / "env.json", ENV),
        "this is an environment file, not a collection",
        id="environment-as-collection",
    ),
    pytest.param(
        lambda p: write(p / "g.json", {"values": [], "_postman_variable_scope": "globals"}),
        "this is an environment file, not a collection",
        id="globals-as-collection",
    ),
]


@pytest.mark.parametrize(("make", "message"), COLLECTION_ERRORS)
def test_collection_errors(tmp_path: Path, make: Any, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(LoadError) as info:
        load_collection(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    assert message in text
    assert info.value.file == str(path)


ENVIRONMENT_ERRORS = [
    pytest.param(
        lambda p: write(p / "plain.txt", "x") / "env.json",
        "cannot read environment file: Not a directory",
        id="unreadable-parent-is-a-file",
    ),
    pytest.param(lambda p: p / "nope.json", "environment file not found", id="missing-file"),
    pytest.param(lambda p: p, "is a directory, not a environment file", id="directory"),
    pytest.param(_not_json, "not valid JSON", id="not-json"),
    pytest.param(
        lambda p: write(p / "s.json", '"just a string"'),
        "not a Postman environment file (the top level is not an object)",
        id="string",
    ),
    pytest.param(
        lambda p: write(p / "c.json", SMALL),
        "this is a collection, not an environment file",
        id="collection-as-environment",
    ),
    pytest.param(
        lambda p: write(p / "x.json", {"name": "x"}),
        "not a Postman environment file (no 'values' list)",
        id="no-values",
    ),
]


@pytest.mark.parametrize(("make", "message"), ENVIRONMENT_ERRORS)
def test_environment_errors(tmp_path: Path, make: Any, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(LoadError) as info:
        load_environment(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    assert message in text


@pytest.mark.skipif(
    os.geteuid() == 0 if hasattr(os, "geteuid") else True,
    reason="root reads any file; needs POSIX permissions",
)
def test_unreadable_environment_file(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.json", ENV)
    path.chmod(0)
    try:
        with pytest.raises(
            LoadError, match=r"locked\.json: cannot read environment file: Permission denied$"
        ):
            load_environment(path)
    finally:
        path.chmod(0o600)


# -- environments and globals ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "scope_arg", "scope", "values"),
    [
        pytest.param(
            {
                "id": "e1",
                "name": "Staging",
                "values": [
                    {"key": "a", "value": "1", "type": "default", "enabled": True},
                    {"key": "b", "value": "2", "enabled": False},
                    {"key": "c", "value": "3", "disabled": True},
                    {"key": "a", "value": "1b", "type": "secret", "enabled": True},
                    {"key": "n", "value": 4, "type": "any"},
                    {"key": "t", "value": True},
                    {"key": "nul", "value": None},
                ],
                "_postman_variable_scope": "environment",
            },
            "environment",
            "environment",
            [
                ("a", "1", False),
                ("b", "2", True),
                ("c", "3", True),
                ("a", "1b", False),
                ("n", "4", False),
                ("t", "true", False),
                ("nul", "", False),
            ],
            id="disabled-duplicates-types",
        ),
        pytest.param(
            [
                {"key": "g", "value": "1", "enabled": True},
                {"key": "h", "value": "2", "enabled": False},
            ],
            "globals",
            "globals",
            [("g", "1", False), ("h", "2", True)],
            id="globals-bare-array",
        ),
        pytest.param(
            {"values": [{"key": "g", "value": "1"}], "_postman_variable_scope": "globals"},
            "environment",
            "globals",
            [("g", "1", False)],
            id="declared-globals",
        ),
        pytest.param({"values": []}, "globals", "globals", [], id="undeclared-loaded-as-globals"),
        pytest.param({"values": None}, "environment", "environment", [], id="values-null"),
    ],
)
def test_environments(data: Any, scope_arg: str, scope: str, values: list) -> None:
    env = environment_from_json(data, "/x/Staging env.json", scope_arg)
    assert env.scope == scope
    assert [(v.key, v.value, v.disabled) for v in env.values] == values
    assert env.warnings == ()


def test_environment_name_falls_back_to_file_stem(tmp_path: Path) -> None:
    env = load_environment(write(tmp_path / "dev.postman_environment.json", {"values": []}))
    assert env.name == "dev.postman_environment"
    assert env.source == str(tmp_path / "dev.postman_environment.json")


def test_environment_values_not_a_list_warns() -> None:
    env = environment_from_json({"values": {"a": 1}}, "e.json")
    assert env.values == ()
    assert [(w.where, w.message) for w in env.warnings] == [
        ("values", "expected a list of variables, got dict; ignored")
    ]


# -- the sample collections shipped with the project ----------------------------------------

SAMPLES = Path(__file__).resolve().parents[2] / "sample_collections"


@pytest.mark.parametrize(
    ("name", "version", "items", "examples", "wildcards"),
    [
        pytest.param("petstore.postman_collection.json", "2.1", 11, 20, {"ownerId"}, id="petstore"),
        pytest.param("notes.postman_collection.json", "2.0", 7, 16, set(), id="notes"),
    ],
)
def test_sample_collections_load_cleanly(
    name: str, version: str, items: int, examples: int, wildcards: set[str]
) -> None:
    from postmock.templating.variables import VariableScope

    coll = load_collection(SAMPLES / name)
    env = load_environment(SAMPLES / "petstore.postman_environment.json")
    assert coll.warnings == () and env.warnings == ()
    assert (coll.schema_version, len(coll.items), len(coll.examples)) == (version, items, examples)
    scope = VariableScope.build(coll, env)
    unresolved = {
        n
        for ex in coll.examples
        for part in (ex.request.url.host, *ex.request.url.path)
        for n in scope.unresolved(part)
    }
    assert unresolved == wildcards
    hosts = {scope.resolve(ex.request.url.host) for ex in coll.examples}
    assert len(hosts) == 1 and hosts.pop().endswith("/v1")
    assert len({ex.name for ex in coll.examples}) == len(coll.examples)


def test_sample_environment() -> None:
    env = load_environment(SAMPLES / "petstore.postman_environment.json")
    assert env.scope == "environment"
    assert [(v.key, v.disabled) for v in env.values] == [
        ("apiVersion", False),
        ("tenant", False),
        ("apiKey", False),
        ("debug", True),
    ]
