"""The matching engine, rule by rule and score by score (postman-mock-behavior.md §3)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from test_matching_support import collection, ex, index, raw_json, request, winner

from postmock.collection import environment_from_json
from postmock.matching import IncomingRequest, Match, MatchConfig, Miss, shadowed_examples
from postmock.templating.variables import VariableScope

NO_FUZZY = MatchConfig(fuzzy=False)
JSON = {"Content-Type": "application/json"}
# A GET with no query and no body on both sides: 100 + path rule + 10 (query) + 5 (bodies equal)
BASE = 115.0


def TRAILING(*segments: str) -> dict[str, Any]:  # noqa: N802 - reads as a constant URL
    """A URL object whose path ends with a slash (a trailing "" segment)."""
    return {"raw": "/" + "/".join(segments) + "/", "path": [*segments, ""]}


@dataclass(frozen=True)
class Case:
    examples: tuple[dict[str, Any], ...]
    target: str
    expect: str | None  # the winner's name; None = a miss
    score: float | None = None
    rule: str | None = None
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    config: MatchConfig = NO_FUZZY
    variables: dict[str, str] | None = None
    captures: dict[str, str] | None = None
    miss_stage: str | None = None  # the stage of the nearest rejection of a miss


def case(id: str, *examples: dict[str, Any], target: str, expect: str | None, **kw: Any) -> Any:
    return pytest.param(Case(tuple(examples), target, expect, **kw), id=id)


PATH_RULES = [
    case(
        "exact", ex("A", "/users/list"), target="/users/list", expect="A", score=BASE, rule="exact"
    ),
    case("root", ex("A", "/"), target="/", expect="A", score=BASE, rule="exact"),
    # The loader keeps a trailing slash only as a "" path segment, as Postman exports it.
    case(
        "trailing-slash-example",
        ex("A", TRAILING("users", "list")),
        target="/users/list",
        expect="A",
        score=BASE - 5,
        rule="trailingSlash",
    ),
    case(
        "trailing-slash-request",
        ex("A", "/users/list"),
        target="/users/list/",
        expect="A",
        score=BASE - 5,
        rule="trailingSlash",
    ),
    case(
        "case-insensitive",
        ex("A", "/Users/List"),
        target="/users/list",
        expect="A",
        score=BASE - 10,
        rule="caseInsensitive",
    ),
    case(
        "trailing-and-case",
        ex("A", TRAILING("Users", "List")),
        target="/users/list",
        expect="A",
        score=BASE - 15,
        rule="trailingSlashCaseInsensitive",
    ),
    case(
        "wildcard-var",
        ex("A", "/users/{{userId}}"),
        target="/users/carol",
        expect="A",
        score=BASE - 20,
        rule="wildcard",
        captures={"userId": "carol"},
    ),
    case(
        "wildcard-colon",
        ex("A", "/users/:userId/posts"),
        target="/users/carol/posts",
        expect="A",
        score=BASE - 20,
        rule="wildcard",
        captures={"userId": "carol"},
    ),
    case(
        "wildcard-case-of-literals",
        ex("A", "/Users/{{id}}"),
        target="/users/x",
        expect="A",
        rule="wildcard",
    ),
    case(
        "wildcard-one-segment-only",
        ex("A", "/users/{{id}}"),
        target="/users/a/b",
        expect=None,
        miss_stage="path",
    ),
    case("wildcard-not-empty", ex("A", "/users/{{id}}"), target="/users/", expect=None),
    case(
        "wildcard-percent-decoded",
        ex("A", "/users/{{name}}"),
        target="/users/John%20Doe",
        expect="A",
        captures={"name": "John Doe"},
    ),
    case(
        "partial-segment-suffix",
        ex("A", "/files/{{name}}.json"),
        target="/files/report.json",
        expect="A",
        rule="wildcard",
        captures={"name": "report"},
    ),
    case(
        "partial-segment-prefix",
        ex("A", "/api/v{{ver}}/x"),
        target="/api/v2/x",
        expect="A",
        rule="wildcard",
        captures={"ver": "2"},
    ),
    case(
        "partial-segment-no-match",
        ex("A", "/files/{{name}}.json"),
        target="/files/report.xml",
        expect=None,
    ),
    case(
        "ids-replaced",
        ex("A", "/users/42"),
        target="/users/7",
        expect="A",
        score=BASE - 21,
        rule="idReplaced",
    ),
    case(
        "ids-uuid-without-digits",
        ex("A", "/o/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
        target="/o/ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee",
        expect="A",
        rule="idReplaced",
    ),
    case("ids-word-is-not-id", ex("A", "/users/42"), target="/users/me", expect=None),
    case(
        "ids-and-trailing",
        ex("A", TRAILING("users", "42")),
        target="/users/7",
        expect="A",
        score=BASE - 25,
        rule="trailingSlashIdReplaced",
    ),
    case(
        "wildcard-and-trailing",
        ex("A", TRAILING("users", "{{id}}")),
        target="/users/7",
        expect="A",
        rule="trailingSlashIdReplaced",
        captures={"id": "7"},
    ),
    case(
        "distance",
        ex("A", "/users/profile"),
        target="/users/profil",
        expect="A",
        score=BASE - 30,
        rule="documentDistance",
        config=MatchConfig(),
    ),
    case(
        "distance-off",
        ex("A", "/users/profile"),
        target="/users/profil",
        expect=None,
        miss_stage="path",
    ),
    case(
        "distance-too-far",
        ex("A", "/users/profile"),
        target="/orders/x",
        expect=None,
        config=MatchConfig(),
    ),
    case(
        "distance-same-method-only",
        ex("A", "/users/profile", method="POST"),
        target="/users/profil",
        expect=None,
        config=MatchConfig(),
        miss_stage="method",
    ),
    case(
        "method-filter",
        ex("A", "/users", method="POST"),
        target="/users",
        expect=None,
        miss_stage="method",
    ),
    case(
        "method-case", ex("A", "/users", method="post"), target="/users", method="POST", expect="A"
    ),
]

COMPETING = [
    case(
        "exact-beats-wildcard",
        ex("W", "/users/{{id}}"),
        ex("M", "/users/me"),
        target="/users/me",
        expect="M",
        rule="exact",
    ),
    case(
        "case-beats-wildcard",
        ex("W", "/users/{{id}}"),
        ex("M", "/users/Me"),
        target="/users/me",
        expect="M",
        rule="caseInsensitive",
    ),
    case(
        "wildcard-beats-ids",
        ex("I", "/users/42"),
        ex("W", "/users/{{id}}"),
        target="/users/7",
        expect="W",
        rule="wildcard",
    ),
    case(
        "query-outweighs-path-rule",
        ex("I", "/users/42?page=1"),
        ex("W", "/users/{{id}}"),
        target="/users/7?page=1",
        expect="I",
        score=100 - 21 + 10 + 5,
    ),
    case(
        "distance-only-as-last-resort",
        ex("D", "/users/profil"),
        ex("W", "/users/{{x}}"),
        target="/users/profile",
        expect="W",
        config=MatchConfig(),
    ),
]

TIES = [
    case("tie-200-first", ex("E", "/x", code=404), ex("OK", "/x"), target="/x", expect="OK"),
    case("tie-file-order", ex("A", "/x"), ex("B", "/x"), target="/x", expect="A"),
    case(
        "tie-no-200-first-in-file",
        ex("E5", "/x", code=500),
        ex("E4", "/x", code=404),
        target="/x",
        expect="E5",
    ),
]

CONTROL = [
    case(
        "code-header",
        ex("OK", "/x"),
        ex("NF", "/x", code=404),
        target="/x",
        expect="NF",
        headers={"x-mock-response-code": "404"},
    ),
    case(
        "code-header-none",
        ex("OK", "/x"),
        target="/x",
        expect=None,
        headers={"x-mock-response-code": "500"},
        miss_stage="code",
    ),
    case(
        "code-header-not-a-number",
        ex("OK", "/x"),
        target="/x",
        expect=None,
        headers={"x-mock-response-code": "abc"},
    ),
    case(
        "id",
        ex("A", "/a", id="abc"),
        ex("B", "/b", id="def-1"),
        target="/elsewhere",
        expect="B",
        rule="responseId",
        headers={"x-mock-response-id": "def-1"},
    ),
    case(
        "id-uid-form",
        ex("A", "/a", id="5a6b-77"),
        target="/a",
        expect="A",
        headers={"x-mock-response-id": "1234567-5a6b-77"},
        rule="responseId",
    ),
    case(
        "id-stored-as-uid",
        ex("A", "/a", id="1234567-5a6b-77"),
        target="/a",
        expect="A",
        headers={"x-mock-response-id": "5a6b-77"},
    ),
    case(
        "id-unknown",
        ex("A", "/a", id="abc"),
        target="/a",
        expect=None,
        headers={"x-mock-response-id": "nope"},
    ),
    case(
        "id-other-method",
        ex("A", "/a", id="abc", method="POST"),
        target="/a",
        expect=None,
        headers={"x-mock-response-id": "abc"},
        miss_stage="method",
    ),
    case(
        "id-before-name",
        ex("A", "/a", id="abc"),
        ex("B", "/a"),
        target="/a",
        expect="A",
        headers={"x-mock-response-id": "abc", "x-mock-response-name": "B"},
    ),
    case(
        "name-collection-wide",
        ex("A", "/a"),
        ex("B", "/deep/other"),
        target="/a",
        expect="B",
        rule="responseName",
        headers={"x-mock-response-name": "B"},
    ),
    case(
        "name-duplicates-200-first",
        ex("N", "/a", code=404),
        ex("N", "/b"),
        ex("X", "/c"),
        target="/a",
        expect="N",
        headers={"x-mock-response-name": "N"},
        score=None,
    ),
    case(
        "name-unknown",
        ex("A", "/a"),
        target="/a",
        expect=None,
        headers={"x-mock-response-name": "B"},
    ),
    case(
        "name-after-code",
        ex("N", "/a"),
        ex("N", "/a", code=500),
        target="/a",
        expect="N",
        headers={"x-mock-response-name": "N", "x-mock-response-code": "500"},
    ),
    case(
        "name-captures",
        ex("A", "/users/{{id}}"),
        target="/users/9",
        expect="A",
        headers={"x-mock-response-name": "A"},
        captures={"id": "9"},
    ),
]

QUERY = [
    case("query-none-both", ex("A", "/q"), target="/q", expect="A", score=BASE),
    case("query-all-match", ex("A", "/q?a=1&b=2"), target="/q?b=2&a=1", expect="A", score=BASE),
    case("query-some-partial", ex("A", "/q?a=1&b=2"), target="/q?a=1&b=3", expect="A", score=110.0),
    case("query-some-missing", ex("A", "/q?a=1"), target="/q?a=1&c=9", expect="A", score=110.0),
    case(
        "query-thirds", ex("A", "/q?a=1&b=2&c=3"), target="/q?a=1", expect="A", score=105 + 10 / 3
    ),
    case("query-none-match", ex("A", "/q?a=1&b=2"), target="/q", expect="A", score=103.0),
    case(
        "query-none-capped",
        ex("A", "/q?" + "&".join(f"k{n}=v" for n in range(12))),
        target="/q",
        expect="A",
        score=95.0,
    ),
    case("query-partial-only", ex("A", "/q?a=1"), target="/q?a=2", expect="A", score=105.0),
    case("query-request-only", ex("A", "/q"), target="/q?a=1&b=2", expect="A", score=103.0),
    case(
        "query-percent-plus",
        ex("A", "/q?name=John%20Doe"),
        target="/q?name=John+Doe",
        expect="A",
        score=BASE,
    ),
    case(
        "query-percent-key",
        ex("A", "/q?first%20name=x"),
        target="/q?first+name=x",
        expect="A",
        score=BASE,
    ),
    case(
        "query-repeated-keys",
        ex("A", "/q?tag=a&tag=b"),
        target="/q?tag=b&tag=a",
        expect="A",
        score=BASE,
    ),
    case(
        "query-repeated-one-missing",
        ex("A", "/q?tag=a&tag=b"),
        target="/q?tag=a",
        expect="A",
        score=110.0,
    ),
    case("query-blank-value", ex("A", "/q?flag"), target="/q?flag", expect="A", score=BASE),
    case("query-case-sensitive", ex("A", "/q?a=X"), target="/q?a=x", expect="A", score=105.0),
    case(
        "query-disabled-ignored",
        ex(
            "A",
            {
                "raw": "/q?a=1&b=2",
                "path": ["q"],
                "query": [{"key": "a", "value": "1"}, {"key": "b", "value": "2", "disabled": True}],
            },
        ),
        target="/q?a=1",
        expect="A",
        score=BASE,
    ),
    case(
        "query-picks-example",
        ex("A", "/q?type=a"),
        ex("B", "/q?type=b"),
        target="/q?type=b",
        expect="B",
    ),
    case(
        "query-wildcard-value",
        ex("A", "/q?page={{page}}"),
        target="/q?page=3",
        expect="A",
        score=BASE,
        captures={"page": "3"},
    ),
]

POST_A = {"method": "POST"}
HEADERS = [
    case(
        "headers-config",
        ex("V1", "/h", header=[{"key": "X-Version", "value": "1"}]),
        ex("V2", "/h", header=[{"key": "x-version", "value": "2"}]),
        target="/h",
        headers={"X-VERSION": "2"},
        expect="V2",
        config=MatchConfig(match_headers=("X-Version",)),
    ),
    case(
        "headers-request-header",
        ex("V1", "/h", header=[{"key": "X-Version", "value": "1"}]),
        ex("V2", "/h", header=[{"key": "X-Version", "value": "2"}]),
        target="/h",
        headers={"X-Version": "2", "x-mock-match-request-headers": "x-version"},
        expect="V2",
    ),
    case(
        "headers-mismatch",
        ex("V1", "/h", header=[{"key": "X-Version", "value": "1"}]),
        target="/h",
        headers={"X-Version": "3", "x-mock-match-request-headers": "X-Version"},
        expect=None,
        miss_stage="header",
    ),
    case(
        "headers-both-absent",
        ex("A", "/h"),
        target="/h",
        headers={"x-mock-match-request-headers": "X-Version"},
        expect="A",
    ),
    case(
        "headers-disabled-not-used",
        ex("A", "/h", header=[{"key": "X-V", "value": "1", "disabled": True}]),
        target="/h",
        headers={"X-V": "1", "x-mock-match-request-headers": "x-v"},
        expect=None,
    ),
    case(
        "headers-off-tie",
        ex("V1", "/h", header=[{"key": "X-Version", "value": "1"}]),
        ex("V2", "/h", header=[{"key": "X-Version", "value": "2"}]),
        target="/h",
        headers={"X-Version": "2"},
        expect="V1",
    ),
]

BODIES = [
    case(
        "body-bonus",
        ex("B1", "/b", method="POST", body=raw_json('{"a": 1}')),
        ex("B2", "/b", method="POST", body=raw_json('{"a": 2}')),
        method="POST",
        target="/b",
        headers=JSON,
        body='{"a": 2}',
        expect="B2",
        score=BASE,
    ),
    case(
        "body-no-bonus",
        ex("B1", "/b", method="POST", body=raw_json('{"a": 1}')),
        method="POST",
        target="/b",
        headers=JSON,
        body='{"a": 3}',
        expect="B1",
        score=BASE - 5,
    ),
    case(
        "json-key-order-whitespace",
        ex("A", "/b", method="POST", body=raw_json('{"a": 1,\n "b": [1, 2.0]}')),
        method="POST",
        target="/b",
        headers=JSON,
        body='{"b":[1,2],"a":1}',
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "json-differs",
        ex("A", "/b", method="POST", body=raw_json('{"a": 1}')),
        method="POST",
        target="/b",
        headers=JSON,
        body='{"a": 2}',
        expect=None,
        miss_stage="body",
        config=MatchConfig(match_body=True),
    ),
    case(
        "json-true-is-not-1",
        ex("A", "/b", method="POST", body=raw_json('{"a": true}')),
        method="POST",
        target="/b",
        headers=JSON,
        body='{"a": 1}',
        expect=None,
        config=MatchConfig(match_body=True),
    ),
    case(
        "json-content-type-differs",
        ex("A", "/b", method="POST", body=raw_json('{"a": 1}')),
        method="POST",
        target="/b",
        headers={"Content-Type": "text/plain"},
        body='{"a": 1}',
        expect=None,
        miss_stage="body",
        config=MatchConfig(match_body=True),
    ),
    case(
        "json-content-type-params",
        ex("A", "/b", method="POST", body=raw_json('{"a":1}')),
        method="POST",
        target="/b",
        headers={"Content-Type": "application/json; charset=utf-8"},
        body='{"a": 1}',
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "urlencoded-multiset",
        ex(
            "A",
            "/f",
            method="POST",
            body={
                "mode": "urlencoded",
                "urlencoded": [
                    {"key": "a", "value": "1"},
                    {"key": "b", "value": "x y"},
                    {"key": "c", "value": "off", "disabled": True},
                ],
            },
        ),
        method="POST",
        target="/f",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="b=x+y&a=1",
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "urlencoded-differs",
        ex(
            "A",
            "/f",
            method="POST",
            body={"mode": "urlencoded", "urlencoded": [{"key": "a", "value": "1"}]},
        ),
        method="POST",
        target="/f",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="a=1&a=1",
        expect=None,
        config=MatchConfig(match_body=True),
    ),
    case(
        "formdata-text-fields",
        ex(
            "A",
            "/f",
            method="POST",
            body={
                "mode": "formdata",
                "formdata": [
                    {"key": "name", "value": "carol", "type": "text"},
                    {"key": "pic", "src": "/tmp/a.png", "type": "file"},
                ],
            },
        ),
        method="POST",
        target="/f",
        headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
        body=(
            '--XyZ\r\nContent-Disposition: form-data; name="pic"; filename="b.png"\r\n'
            "Content-Type: image/png\r\n\r\nPNG\r\n"
            '--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\ncarol\r\n--XyZ--\r\n'
        ),
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "graphql",
        ex(
            "A",
            "/graphql",
            method="POST",
            body={
                "mode": "graphql",
                "graphql": {
                    "query": "query {\n  user(id: 1) {\n    name\n  }\n}",
                    "variables": '{"x": 1}',
                },
            },
        ),
        method="POST",
        target="/graphql",
        headers=JSON,
        body=json.dumps({"query": "query{user(id:1){name}}", "variables": {"x": 1}}),
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "graphql-variables-differ",
        ex(
            "A",
            "/graphql",
            method="POST",
            body={
                "mode": "graphql",
                "graphql": {"query": "{ me { id } }", "variables": '{"x": 1}'},
            },
        ),
        method="POST",
        target="/graphql",
        headers=JSON,
        body=json.dumps({"query": "{ me { id } }", "variables": {"x": 2}}),
        expect=None,
        config=MatchConfig(match_body=True),
    ),
    case(
        "text-exact",
        ex("A", "/t", method="POST", body={"mode": "raw", "raw": "hello"}),
        method="POST",
        target="/t",
        headers={"Content-Type": "text/plain"},
        body="hello",
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "text-not-trimmed",
        ex("A", "/t", method="POST", body={"mode": "raw", "raw": "hello"}),
        method="POST",
        target="/t",
        headers={"Content-Type": "text/plain"},
        body="hello ",
        expect=None,
        config=MatchConfig(match_body=True),
    ),
    case(
        "body-header-turns-on",
        ex("A", "/b", method="POST", body=raw_json('{"a": 1}')),
        method="POST",
        target="/b",
        headers={**JSON, "x-mock-match-request-body": "true"},
        body='{"a": 2}',
        expect=None,
    ),
    case(
        "body-header-turns-off",
        ex("A", "/b", method="POST", body=raw_json('{"a": 1}')),
        method="POST",
        target="/b",
        headers={**JSON, "x-mock-match-request-body": "false"},
        body='{"a": 2}',
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "body-matching-picks",
        ex("B1", "/b", method="POST", body=raw_json('{"a": 1}')),
        ex("B2", "/b", method="POST", body=raw_json('{"a": 2}')),
        method="POST",
        target="/b",
        headers=JSON,
        body='{"a":2}',
        expect="B2",
        score=BASE - 5,
        config=MatchConfig(match_body=True),
    ),
]

DECISIONS = [
    case(
        "body-on-both-empty-ignores-content-type",
        ex("A", "/g", body={"mode": "raw", "raw": "", "options": {"raw": {"language": "json"}}}),
        target="/g",
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "file-body-not-compared",
        ex("A", "/up", method="POST", body={"mode": "file", "file": {"src": "/tmp/x.bin"}}),
        method="POST",
        target="/up",
        body="bytes",
        expect="A",
        score=BASE - 5,
        config=MatchConfig(match_body=True),
    ),
    case(
        "formdata-ignores-stale-content-type-header",
        ex(
            "A",
            "/f",
            method="POST",
            header=[{"key": "Content-Type", "value": "application/json"}],
            body={"mode": "formdata", "formdata": [{"key": "k", "value": "v"}]},
        ),
        method="POST",
        target="/f",
        headers={"Content-Type": "multipart/form-data; boundary=Q"},
        body='--Q\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--Q--\r\n',
        expect="A",
        config=MatchConfig(match_body=True),
    ),
    case(
        "unparseable-json-compared-as-text",
        ex("A", "/b", method="POST", body=raw_json('{"a": {{unknown}}}')),
        method="POST",
        target="/b",
        headers=JSON,
        body='{"a": {{unknown}}}',
        expect="A",
        config=MatchConfig(match_body=True),
    ),
]

VARIABLES = [
    case(
        "baseurl-path-prefix",
        ex("A", "{{baseUrl}}/users"),
        target="/v1/users",
        expect="A",
        rule="exact",
        variables={"baseUrl": "https://x.io/v1"},
    ),
    case(
        "baseurl-prefix-required",
        ex("A", "{{baseUrl}}/users"),
        target="/users",
        expect=None,
        variables={"baseUrl": "https://x.io/v1"},
    ),
    case(
        "host-string-with-path",
        ex("A", {"raw": "api.x.io/v2/users", "host": ["api", "x", "io/v2"], "path": ["users"]}),
        target="/v2/users",
        expect="A",
        rule="exact",
    ),
    case(
        "host-unresolved", ex("A", "{{baseUrl}}/users"), target="/users", expect="A", rule="exact"
    ),
    case(
        "path-variable-resolved",
        ex("A", "/api/{{ver}}/x"),
        target="/api/v3/x",
        expect="A",
        rule="exact",
        variables={"ver": "v3"},
    ),
    case(
        "variable-holds-segments",
        ex("A", "/{{prefix}}/c"),
        target="/a/b/c",
        expect="A",
        rule="exact",
        variables={"prefix": "a/b"},
    ),
    case(
        "example-percent-escapes",
        ex("A", "/files/my%20file"),
        target="/files/my%20file",
        expect="A",
        rule="exact",
    ),
    case(
        "encoded-slash-stays-in-segment",
        ex("A", "/files/{{name}}"),
        target="/files/a%2Fb",
        expect="A",
        captures={"name": "a/b"},
    ),
]

ALL = PATH_RULES + COMPETING + TIES + CONTROL + QUERY + HEADERS + BODIES + DECISIONS + VARIABLES


@pytest.mark.parametrize("c", ALL)
def test_rules(c: Case) -> None:
    idx = index(collection(*c.examples, variables=c.variables), c.config)
    result = idx.match(request(c.method, c.target, c.headers, c.body))
    if c.expect is None:
        assert isinstance(result, Miss), result
        if c.miss_stage is not None:
            assert result.nearest, result
            assert result.nearest[0].stage == c.miss_stage, result.nearest
        return
    assert winner(result) == c.expect
    assert isinstance(result, Match)
    if c.score is not None:
        assert result.score == pytest.approx(c.score)
    if c.rule is not None:
        assert result.rule == c.rule
    if c.captures is not None:
        assert dict(result.captures) == c.captures


def test_name_duplicates_prefer_200_then_first() -> None:
    coll = collection(ex("N", "/a", code=404), ex("N", "/b"), ex("N", "/c"))
    result = index(coll).match(request("GET", "/zzz", {"x-mock-response-name": "N"}))
    assert isinstance(result, Match)
    assert result.example.index == 1
    coll = collection(ex("N", "/a", code=404), ex("N", "/b", code=500))
    result = index(coll).match(request("GET", "/zzz", {"x-mock-response-name": "N"}))
    assert isinstance(result, Match) and result.example.index == 0


@pytest.mark.parametrize(
    ("header", "reason"),
    [("x-mock-response-id", "unknownId"), ("x-mock-response-name", "unknownName")],
    ids=["id", "name"],
)
def test_unknown_id_or_name_is_explained(header: str, reason: str) -> None:
    result = index(collection(ex("A", "/a", id="abc"))).match(request("GET", "/a", {header: "zz"}))
    assert isinstance(result, Miss)
    assert result.reason == reason
    assert "'zz'" in result.message


def test_scope_priority_cli_over_env_over_collection() -> None:
    coll = collection(ex("A", "/api/{{ver}}/x"), variables={"ver": "1"})
    env = environment_from_json({"name": "e", "values": [{"key": "ver", "value": "2"}]})
    both = VariableScope.build(coll, env)
    assert winner(index(coll, scope=both).match(request("GET", "/api/2/x"))) == "A"
    assert isinstance(index(coll, scope=both).match(request("GET", "/api/1/x")), Miss) is False
    cli = VariableScope.build(coll, env, overrides={"ver": "3"})
    result = index(coll, scope=cli).match(request("GET", "/api/3/x"))
    assert isinstance(result, Match) and result.rule == "exact"
    result = index(coll, scope=both).match(request("GET", "/api/1/x"))
    assert isinstance(result, Match) and result.rule == "idReplaced"  # 1 vs 2: IDs, not exact


class TestMissExplanations:
    def test_path_detail_names_both_paths(self) -> None:
        coll = collection(ex("A", "/users/{{id}}"), ex("B", "/orders"))
        result = index(coll).match(request("GET", "/users/1/posts"))
        assert isinstance(result, Miss) and result.reason == "noMatch"
        assert result.nearest[0].example.name == "A"
        assert result.nearest[0].stage == "path"
        assert result.nearest[0].detail == "path /users/1/posts differs from /users/{{id}}"
        assert "GET /users/1/posts" in result.message

    def test_at_most_five_and_later_stages_first(self) -> None:
        examples = [ex(f"P{n}", "/items", method="POST") for n in range(4)]
        examples += [ex(f"G{n}", f"/items/{n}x/more") for n in range(6)]
        examples.append(ex("C", "/items", code=201))
        result = index(collection(*examples)).match(
            request("GET", "/items", {"x-mock-response-code": "404"})
        )
        assert isinstance(result, Miss)
        assert len(result.nearest) == 5
        assert [r.stage for r in result.nearest] == ["code", "method", "method", "method", "method"]
        assert result.nearest[0].detail == "code 201, asked for 404"

    def test_body_rejection_detail(self) -> None:
        coll = collection(ex("A", "/b", method="POST", body=raw_json('{"a": 1}')))
        result = index(coll, MatchConfig(match_body=True)).match(
            request("POST", "/b", JSON, '{"a": 2}')
        )
        assert isinstance(result, Miss)
        assert result.nearest[0].stage == "body"
        assert "differs" in result.nearest[0].detail

    def test_no_examples_at_all(self) -> None:
        result = index(collection()).match(request("GET", "/x"))
        assert isinstance(result, Miss) and result.nearest == ()


class TestIncomingRequest:
    def test_from_parts_splits_and_decodes(self) -> None:
        r = IncomingRequest.from_parts(
            "get", "/a%20b/c?x=1&y=&flag&x=2&n=J%C3%B6+D", {"Content-Type": "text/plain"}, b"hi"
        )
        assert r.method == "GET"
        assert r.path == "/a%20b/c"
        assert r.query == (("x", "1"), ("y", ""), ("flag", ""), ("x", "2"), ("n", "Jö D"))
        assert r.headers["content-type"] == "text/plain"
        assert r.content_type == "text/plain"
        assert r.body == b"hi"

    def test_bad_percent_encoding_does_not_raise(self) -> None:
        r = IncomingRequest.from_parts("GET", "/users/%zz%E0?q=%E0%A4&%%=1")
        assert r.path == "/users/%zz%E0"
        assert len(r.query) == 2
        coll = collection(ex("A", "/users/{{id}}"))
        result = index(coll).match(r)
        assert isinstance(result, Match)
        assert result.captures["id"].startswith("%zz")

    def test_absolute_target_and_empty_path(self) -> None:
        assert IncomingRequest.from_parts("GET", "http://h:1/p?q=1").path == "/p"
        assert IncomingRequest.from_parts("GET", "?q=1").path == "/"

    def test_plain_dict_headers_are_case_insensitive_for_matching(self) -> None:
        coll = collection(ex("A", "/x"), ex("B", "/x", code=404))
        r = IncomingRequest("GET", "/x", headers={"X-Mock-Response-Code": "404"})
        assert winner(index(coll).match(r)) == "B"


class TestIndexApi:
    def test_examples_and_find_name(self) -> None:
        coll = collection(ex("A", "/a", method="POST", code=500), ex("A", "/b"), ex("B", "/c"))
        idx = index(coll)
        assert [e.name for e in idx.examples] == ["A", "A", "B"]
        found = idx.find_name("A")
        assert found is not None and found.index == 1
        assert idx.find_name("missing") is None

    def test_request_for_round_trips(self) -> None:
        coll = collection(
            ex(
                "A",
                "/users/{{id}}?q=a%20b",
                method="PUT",
                body=raw_json('{"k": [1]}'),
                header=[{"key": "X-K", "value": "v"}],
            ),
        )
        idx = index(coll, MatchConfig(match_body=True, match_headers=("x-k",)))
        own = idx.request_for(idx.examples[0])
        assert own.method == "PUT" and own.query == (("q", "a b"),)
        result = idx.match(own)
        assert isinstance(result, Match) and result.rule == "exact"


class TestShadowed:
    def test_lower_code_is_shadowed_by_200(self) -> None:
        coll = collection(ex("E", "/x", code=404), ex("OK", "/x"), ex("Other", "/y"))
        pairs = shadowed_examples(index(coll))
        assert [(a.name, b.name) for a, b in pairs] == [("E", "OK")]

    def test_identical_examples_second_is_shadowed(self) -> None:
        coll = collection(ex("A", "/x?a=1"), ex("B", "/x?a=1"))
        assert [(a.name, b.name) for a, b in shadowed_examples(index(coll))] == [("B", "A")]

    def test_different_query_is_not_shadowed(self) -> None:
        coll = collection(ex("A", "/x?a=1"), ex("B", "/x?a=2"))
        assert shadowed_examples(index(coll)) == []

    def test_different_bodies_win_their_own_requests(self) -> None:
        coll = collection(
            ex("A", "/b", method="POST", body=raw_json('{"a": 1}')),
            ex("B", "/b", method="POST", body=raw_json('{"a": 2}')),
        )
        assert shadowed_examples(index(coll)) == []

    def test_header_matching_separates_them(self) -> None:
        coll = collection(
            ex("A", "/h", header=[{"key": "X-V", "value": "1"}]),
            ex("B", "/h", header=[{"key": "X-V", "value": "2"}]),
        )
        assert len(shadowed_examples(index(coll))) == 1
        assert shadowed_examples(index(coll, MatchConfig(match_headers=("X-V",)))) == []


@pytest.mark.parametrize(
    ("target", "rule", "score"),
    [("/users/", "exact", 115), ("/users", "trailingSlash", 110)],
    ids=["slash-exact", "slash-missing"],
)
def test_trailing_slash_of_a_string_url_counts(target: str, rule: str, score: float) -> None:
    # A URL written as a string keeps its trailing slash, as Postman stores it.
    found = index(collection(ex("slash", "{{baseUrl}}/users/"))).match(request("GET", target))
    assert isinstance(found, Match)
    assert (found.rule, found.score) == (rule, score)


def test_tie_prefers_the_more_literal_path() -> None:
    # Both match by the wildcard rule (score 95); the literal `downloads` route must win
    # even though it comes second in the file (docs/decisions.md).
    coll = collection(
        ex("one runner", "/orgs/:org/runners/:id"),
        ex("downloads", "/orgs/:org/runners/downloads"),
    )
    found = index(coll).match(request("GET", "/orgs/acme/runners/downloads"))
    assert isinstance(found, Match)
    assert found.example.name == "downloads"
    other = index(coll).match(request("GET", "/orgs/acme/runners/7"))
    assert isinstance(other, Match)
    assert other.example.name == "one runner"
