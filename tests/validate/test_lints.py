"""Mock-readiness lints: each fires on the case it is about and stays quiet otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from postmock.collection.loader import collection_from_json
from postmock.collection.model import Environment, Variable
from postmock.templating.variables import VariableScope
from postmock.validate.findings import Finding
from postmock.validate.lints import (
    LintContext,
    content_encodings,
    duplicate_names,
    invalid_json_bodies,
    lint,
    load_warnings,
    no_examples,
    shadowed,
    unresolved_variables,
)

Lint = Callable[[LintContext], Iterator[Finding]]
JSON = "application/json"


def ex(
    name: str = "OK",
    code: int = 200,
    url: Any = "https://x.io/users",
    method: str = "GET",
    body: Any = "",
    headers: list[dict[str, Any]] | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "code": code,
        "originalRequest": {"method": method, "url": url},
        "header": headers or [],
        "body": body,
    }
    if language is not None:
        out["_postman_previewlanguage"] = language
    return out


def item(
    *examples: dict[str, Any], url: Any = "https://x.io/users", name: str = "r"
) -> dict[str, Any]:
    return {"name": name, "request": {"method": "GET", "url": url}, "response": list(examples)}


def doc(*items: dict[str, Any], variables: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "info": {"name": "t", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/"},
        "item": list(items),
    }
    if variables:
        out["variable"] = [{"key": k, "value": v} for k, v in variables.items()]
    return out


def tenant(name: str, value: str) -> dict[str, Any]:
    out = ex(name)
    out["originalRequest"]["header"] = [{"key": "X-Tenant", "value": value}]
    return out


def ct(value: str) -> list[dict[str, Any]]:
    return [{"key": "Content-Type", "value": value}]


# (id, lint, document, environment values, expected [(JSON path, words in the message)])
CASES: list[tuple[str, Lint, dict[str, Any], dict[str, str], list[tuple[str, str]]]] = [
    (
        "no-examples-fires",
        no_examples,
        doc(item(ex()), item(name="bare")),
        {},
        [("item[1]", "'bare' has no saved examples")],
    ),
    ("no-examples-quiet", no_examples, doc(item(ex())), {}, []),
    (
        "no-examples-in-folder",
        no_examples,
        doc({"name": "f", "item": [item()]}),
        {},
        [("item[0].item[0]", "no saved examples")],
    ),
    (
        "duplicate-name-fires",
        duplicate_names,
        doc(
            item(ex("OK")),
            item(ex("OK"), url="https://x.io/b"),
            item(ex("OK"), url="https://x.io/c"),
        ),
        {},
        [
            (
                "item[0].response[0]",
                "3 GET examples are named 'OK' (also item[1].response[0], item[2].response[0])",
            )
        ],
    ),
    (
        "duplicate-name-other-method",
        duplicate_names,
        doc(item(ex("OK")), item(ex("OK", method="POST"))),
        {},
        [],
    ),
    ("duplicate-name-unique", duplicate_names, doc(item(ex("A"), ex("B"))), {}, []),
    ("duplicate-name-unnamed", duplicate_names, doc(item(ex(""), ex(""))), {}, []),
    (
        # A 404 beside a 200 is what x-mock-response-code is for: not reported.
        "shadowed-quiet-reached-by-code",
        shadowed,
        doc(item(ex("Found", 200), ex("Missing", 404))),
        {},
        [],
    ),
    (
        "shadowed-fires-same-code",
        shadowed,
        doc(item(ex("Found", 200), ex("Missing", 404), ex("Gone", 404))),
        {},
        [
            (
                "item[0].response[2]",
                "'Gone' (404) is never chosen by matching: 'Missing' (item[0].response[1]) has "
                "the same route and code and always wins; only 'x-mock-response-name: Gone' "
                "reaches it",
            )
        ],
    ),
    (
        "shadowed-fires-by-id-when-name-is-shared",
        shadowed,
        doc(item(ex("A", 200), {**ex("A", 200), "id": "e-2"})),
        {},
        [("item[0].response[1]", "only 'x-mock-response-id: e-2' reaches it")],
    ),
    (
        "shadowed-fires-nothing-reaches",
        shadowed,
        doc(item(ex("A", 200), ex("A", 200))),
        {},
        [("item[0].response[1]", "no x-mock-response-* header reaches it")],
    ),
    (
        # Told apart by a request header: x-mock-match-request-headers reaches the second.
        "shadowed-quiet-reached-by-header-matching",
        shadowed,
        doc(item(tenant("A", "a"), tenant("B", "b"))),
        {},
        [],
    ),
    (
        "shadowed-quiet-different-paths",
        shadowed,
        doc(item(ex("All", url="https://x.io/users"), ex("One", url="https://x.io/users/1"))),
        {},
        [],
    ),
    (
        "shadowed-quiet-different-query",
        shadowed,
        doc(
            item(
                ex("P1", url="https://x.io/users?page=1"), ex("P2", url="https://x.io/users?page=2")
            )
        ),
        {},
        [],
    ),
    (
        "unresolved-host",
        unresolved_variables,
        doc(item(ex(url="{{baseUrl}}/users"), ex("B", url="{{baseUrl}}/users/1"))),
        {},
        [
            (
                "item[0].response[0].originalRequest.url",
                "{{baseUrl}} in the URL host is not defined in the collection's variables; "
                "the mock ignores the host, but a base URL that carries a path "
                "(https://api.example.com/v1) would be missed (also in 1 other place)",
            )
        ],
    ),
    (
        "resolved-by-collection",
        unresolved_variables,
        doc(item(ex(url="{{baseUrl}}/users")), variables={"baseUrl": "https://x.io"}),
        {},
        [],
    ),
    (
        "resolved-by-environment",
        unresolved_variables,
        doc(item(ex(url="{{baseUrl}}/users"))),
        {"baseUrl": "https://x.io"},
        [],
    ),
    (
        "unresolved-nested",
        unresolved_variables,
        doc(item(ex(url="{{baseUrl}}/users")), variables={"baseUrl": "{{scheme}}://x.io"}),
        {},
        [("item[0].response[0].originalRequest.url", "{{scheme}} in the URL host")],
    ),
    (
        "unresolved-path-wildcard",
        unresolved_variables,
        doc(item(ex(url="https://x.io/users/{{userId}}", body='{"id": "{{userId}}"}'))),
        {},
        [
            (
                "item[0].response[0].originalRequest.url",
                "{{userId}} in the URL path is not defined in the collection's variables; "
                "this segment becomes a wildcard",
            )
        ],
    ),
    (
        "unresolved-path-partial",
        unresolved_variables,
        doc(item(ex(url="https://x.io/v{{ver}}/users"))),
        {},
        [("item[0].response[0].originalRequest.url", "{{ver}} in path segment 'v{{ver}}'")],
    ),
    (
        "path-variable-captures",
        unresolved_variables,
        doc(item(ex(url="https://x.io/users/:id", body='{"id": "{{id}}"}'))),
        {},
        [],
    ),
    (
        "dynamic-skipped",
        unresolved_variables,
        doc(item(ex(body='{"id": "{{$randomUUID}}"}'))),
        {},
        [],
    ),
    (
        "unresolved-query",
        unresolved_variables,
        doc(item(ex(url="https://x.io/users?page={{page}}"))),
        {},
        [("item[0].response[0].originalRequest.url", "{{page}} in query parameter 'page'")],
    ),
    (
        "unresolved-header-and-body",
        unresolved_variables,
        doc(item(ex(headers=[{"key": "X-Trace", "value": "{{trace}}"}], body="hi {{who}}"))),
        {"unused": "1"},
        [
            (
                "item[0].response[0].header",
                "{{trace}} in response header 'X-Trace' is not defined in the collection's "
                "variables or the environment",
            ),
            ("item[0].response[0].body", "{{who}} in the example body"),
        ],
    ),
    (
        "unresolved-in-item-request",
        unresolved_variables,
        doc(
            {"name": "r", "request": {"url": "{{host}}/a"}, "response": [{"name": "n", "body": ""}]}
        ),
        {},
        [("item[0].request.url", "{{host}} in the URL host")],
    ),
    (
        "disabled-header-ignored",
        unresolved_variables,
        doc(item(ex(headers=[{"key": "A", "value": "{{x}}", "disabled": True}]))),
        {},
        [],
    ),
    (
        "invalid-json-by-content-type",
        invalid_json_bodies,
        doc(item(ex(body='{"a": 1,}', headers=ct("application/vnd.api+json")))),
        {},
        [
            (
                "item[0].response[0].body",
                "says it is JSON but its body is not: "
                "Expecting property name enclosed in double quotes at line 1 column 9",
            )
        ],
    ),
    (
        "invalid-json-by-preview",
        invalid_json_bodies,
        doc(item(ex(body="{oops", language="json"))),
        {},
        [("item[0].response[0].body", "says it is JSON but its body is not")],
    ),
    (
        "valid-json",
        invalid_json_bodies,
        doc(item(ex(body='{"a": [1, 2]}', headers=ct(JSON)))),
        {},
        [],
    ),
    (
        "json-with-templates",
        invalid_json_bodies,
        doc(item(ex(body='{"n": {{$randomInt}}, "s": "{{name}}"}', headers=ct(JSON)))),
        {},
        [],
    ),
    ("json-empty-body", invalid_json_bodies, doc(item(ex(body="", headers=ct(JSON)))), {}, []),
    (
        "not-json-typed",
        invalid_json_bodies,
        doc(item(ex(body="<html>", headers=ct("text/html")))),
        {},
        [],
    ),
    (
        "content-encoding-fires",
        content_encodings,
        doc(item(ex(headers=[{"key": "content-encoding", "value": "gzip"}]))),
        {},
        [
            (
                "item[0].response[0].header",
                "'Content-Encoding: gzip' was recorded with example 'OK'; postmock drops it",
            )
        ],
    ),
    (
        "content-encoding-disabled",
        content_encodings,
        doc(item(ex(headers=[{"key": "Content-Encoding", "value": "br", "disabled": True}]))),
        {},
        [],
    ),
    ("content-encoding-absent", content_encodings, doc(item(ex(headers=ct(JSON)))), {}, []),
    (
        "load-warning",
        load_warnings,
        {**doc(item(ex())), "variable": [{"value": "no key"}]},
        {},
        [("variable[0]", "variable without a key; skipped")],
    ),
    ("load-quiet", load_warnings, doc(item(ex())), {}, []),
]


def context(document: dict[str, Any], env: dict[str, str]) -> LintContext:
    collection = collection_from_json(document, "c.json")
    environment = (
        Environment("e", "e.json", tuple(Variable(k, v) for k, v in env.items())) if env else None
    )
    scope = VariableScope.build(collection, environment)
    return LintContext(collection, scope, environment_given=environment is not None)


@pytest.mark.parametrize(
    ("check", "document", "env", "expected"),
    [pytest.param(c, d, e, x, id=i) for i, c, d, e, x in CASES],
)
def test_lint(
    check: Lint, document: dict[str, Any], env: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    findings = list(check(context(document, env)))
    assert [(f.path, f.severity, f.file) for f in findings] == [
        (p, "warning", "c.json") for p, _ in expected
    ]
    for finding, (_, words) in zip(findings, expected, strict=True):
        assert words in finding.message


def test_each_lint_has_its_code() -> None:
    document = doc(
        item(
            ex(
                "Dup",
                body="{bad",
                headers=[*ct(JSON), {"key": "Content-Encoding", "value": "gzip"}],
            ),
            ex("Dup", 404, url="{{base}}/users"),
            ex("Other", 404, url="{{base}}/users"),
        ),
        item(name="bare"),
    )
    codes = {f.code for f in lint(context(document, {}))}
    assert codes == {
        "no-examples",
        "duplicate-name",
        "shadowed",
        "unresolved-variable",
        "invalid-json-body",
        "content-encoding",
    }
