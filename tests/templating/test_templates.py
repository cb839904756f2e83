"""Response templates: scope variables, captures, dynamic variables and request helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from postmock.templating.dynamic import DynamicValues
from postmock.templating.templates import RenderContext, RequestData, Template, split_path
from postmock.templating.variables import VariableScope

SCOPE = VariableScope(
    {
        "host": "api.example.com",
        "base": "https://{{host}}/v1",  # nested
        "nested": "{{base}}/users/{{userId}}",  # userId stays for the capture
        "userId": "",  # overridden below per test when needed
        "dyn": "{{$randomInt}}",
        "self": "{{self}}",  # a loop must not hang
    }
)
SCOPE_NO_USER = VariableScope({k: v for k, v in SCOPE.values.items() if k != "userId"})

BODY = {
    "username": "carol",
    "age": 42,
    "ratio": 0.5,
    "active": True,
    "nothing": None,
    "tags": ["a", "b", {"deep": "x"}],
    "a": {"b": {"c": "abc"}},
    "dotted.key": {"inner": "dot"},
    "0": "zero-key",
    "unicode": "żółw",
    "obj": {"k": [1, 2]},
}
HEADERS = CIMultiDictProxy(
    CIMultiDict(
        [
            ("Content-Type", "application/json"),
            ("X-Trace-Id", "t-1"),
            ("Accept", "a/1"),
            ("Accept", "a/2"),
        ]
    )
)
QUERY = (("page", "2"), ("tag", "x"), ("tag", "y"), ("empty", ""), ("sp ace", "v w"))


def request(
    body: bytes = json.dumps(BODY).encode(),
    headers: Mapping[str, str] = HEADERS,
    path: str = "/product/12345/details%20x",
    query: tuple[tuple[str, str], ...] = QUERY,
) -> RequestData:
    return RequestData("POST", path, query, headers, body)


def context(
    req: RequestData | None = None, captures: dict[str, str] | None = None
) -> RenderContext:
    return RenderContext(captures or {"userId": "7"}, req or request(), DynamicValues(seed=5))


def render(text: str, req: RequestData | None = None, scope: VariableScope = SCOPE_NO_USER) -> str:
    return Template.compile(text, scope).render(context(req))


HELPERS = [
    # $body
    ("body-whole", "{{$body}}", json.dumps(BODY)),
    ("body-string", "{{$body 'username'}}", "carol"),
    ("body-raw-not-quoted", "{\"u\": {{$body 'username'}}}", '{"u": carol}'),
    ("body-number", "{{$body 'age'}}", "42"),
    ("body-float", "{{$body 'ratio'}}", "0.5"),
    ("body-bool", "{{$body 'active'}}", "true"),
    ("body-null", "{{$body 'nothing'}}", "null"),
    ("body-array-as-json", "{{$body 'tags'}}", '["a","b",{"deep":"x"}]'),
    ("body-object-as-json", "{{$body 'obj'}}", '{"k":[1,2]}'),
    ("body-nested", "{{$body 'a.b.c'}}", "abc"),
    ("body-index", "{{$body 'tags.1'}}", "b"),
    ("body-index-then-key", "{{$body 'tags.2.deep'}}", "x"),
    ("body-escaped-dot", r"{{$body 'dotted\.key.inner'}}", "dot"),
    ("body-numeric-key-on-object", "{{$body '0'}}", "zero-key"),
    ("body-unicode", "{{$body 'unicode'}}", "żółw"),
    ("body-double-quotes", '{{$body "a.b.c"}}', "abc"),
    ("body-missing-literal", "{{$body 'nope'}}", "{{$body 'nope'}}"),
    ("body-missing-fallback", "{{$body 'nope' 'dflt'}}", "dflt"),
    ("body-missing-deep", "{{$body 'a.x.c' 'dflt'}}", "dflt"),
    ("body-index-out-of-range", "{{$body 'tags.9' 'dflt'}}", "dflt"),
    ("body-negative-index", "{{$body 'tags.-1' 'dflt'}}", "dflt"),
    ("body-key-into-string", "{{$body 'username.x' 'dflt'}}", "dflt"),
    ("body-found-ignores-fallback", "{{$body 'username' 'dflt'}}", "carol"),
    ("body-empty-fallback", "{{$body 'nope' ''}}", ""),
    ("body-fallback-escaped-quote", r"{{$body 'nope' 'it\'s'}}", "it's"),
    ("body-mixed-quotes", "{{$body \"nope\" 'fb'}}", "fb"),
    ("body-extra-spaces", "{{$body   'username'  }}", "carol"),
    # $queryParams
    ("query-key", "{{$queryParams 'page'}}", "2"),
    ("query-repeated-first", "{{$queryParams 'tag'}}", "x"),
    ("query-empty-value", "{{$queryParams 'empty' 'fb'}}", ""),
    ("query-decoded-key", "{{$queryParams 'sp ace'}}", "v w"),
    ("query-missing-literal", "{{$queryParams 'nope'}}", "{{$queryParams 'nope'}}"),
    ("query-missing-fallback", "{{$queryParams 'nope' 'fb'}}", "fb"),
    ("query-case-sensitive", "{{$queryParams 'PAGE' 'fb'}}", "fb"),
    (
        "query-whole",
        "{{$queryParams}}",
        '{"page":"2","tag":["x","y"],"empty":"","sp ace":"v w"}',
    ),
    # $headers
    ("headers-key", "{{$headers 'X-Trace-Id'}}", "t-1"),
    ("headers-case-insensitive", "{{$headers 'x-trace-id'}}", "t-1"),
    ("headers-repeated-first", "{{$headers 'accept'}}", "a/1"),
    ("headers-missing-literal", "{{$headers 'nope'}}", "{{$headers 'nope'}}"),
    ("headers-missing-fallback", '{{$headers "nope" "fb"}}', "fb"),
    (
        "headers-whole",
        "{{$headers}}",
        '{"Content-Type":"application/json","X-Trace-Id":"t-1","Accept":"a/1"}',
    ),
    # $pathSegments
    ("segments-0", "{{$pathSegments '0'}}", "product"),
    ("segments-1", "{{$pathSegments '1'}}", "12345"),
    ("segments-decoded", "{{$pathSegments '2'}}", "details x"),
    ("segments-out-of-range", "{{$pathSegments '3'}}", "{{$pathSegments '3'}}"),
    ("segments-fallback", "{{$pathSegments '3' 'none'}}", "none"),
    ("segments-not-a-number", "{{$pathSegments 'one' 'none'}}", "none"),
    ("segments-whole", "{{$pathSegments}}", '["product","12345","details x"]'),
    # malformed helpers stay literal
    ("unquoted-arg", "{{$body username}}", "{{$body username}}"),
    ("no-space", "{{$body'username'}}", "{{$body'username'}}"),
    ("three-args", "{{$body 'a' 'b' 'c'}}", "{{$body 'a' 'b' 'c'}}"),
    ("unclosed-quote", "{{$body 'username}}", "{{$body 'username}}"),
    ("wrong-case", "{{$Body 'username'}}", "{{$Body 'username'}}"),
    ("unknown-helper", "{{$cookies 'a'}}", "{{$cookies 'a'}}"),
    ("unknown-dynamic", "{{$randomThing}}", "{{$randomThing}}"),
    ("not-a-placeholder", "{ {$body} }", "{ {$body} }"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in HELPERS], ids=[c[0] for c in HELPERS]
)
def test_helpers(text: str, expected: str) -> None:
    assert render(text) == expected


def test_headers_lookup_works_on_a_plain_dict() -> None:
    req = request(headers={"X-Trace-Id": "t-2"})
    assert render("{{$headers 'x-TRACE-id'}}", req) == "t-2"


NOT_JSON = [
    ("path-literal", "{{$body 'username'}}", "{{$body 'username'}}"),
    ("path-fallback", "{{$body 'username' 'anon'}}", "anon"),
    ("whole-is-raw-text", "{{$body}}", "username=carol&x=1&x=2"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in NOT_JSON], ids=[c[0] for c in NOT_JSON]
)
def test_body_that_is_not_json(text: str, expected: str) -> None:
    req = request(body=b"username=carol&x=1&x=2", headers={"Content-Type": "text/plain"})
    assert render(text, req) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{{$body 'username'}}", "carol"), ("{{$body 'x'}}", "1"), ("{{$body 'y' 'fb'}}", "fb")],
    ids=["field", "repeated-first", "missing"],
)
def test_form_body_fields(text: str, expected: str) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    assert render(text, request(body=b"username=carol&x=1&x=2", headers=form)) == expected


def test_invalid_utf8_body_does_not_raise() -> None:
    assert render("{{$body}}|{{$body 'a' 'fb'}}", request(body=b"\xff\xfe")) == "\ufffd\ufffd|fb"


def test_empty_body() -> None:
    assert render("[{{$body}}][{{$body 'a' 'fb'}}]", request(body=b"")) == "[][fb]"


SCOPE_CASES = [
    ("plain", "{{host}}", "api.example.com", True),
    ("nested", "{{base}}", "https://api.example.com/v1", True),
    ("unknown-stays", "{{nobody}}", "{{nobody}}", False),
    ("self-reference-stays", "{{self}}", "{{self}}", True),
    ("capture-through-nested", "{{nested}}", "https://api.example.com/v1/users/7", False),
    ("scope-value-with-dynamic", "{{dyn}}", re.compile(r"\d{1,4}"), False),
    ("no-placeholders", '{"id": 1}', '{"id": 1}', True),
    ("only-unknown-dollar", "{{$nope}} {{host}}", "{{$nope}} api.example.com", True),
    ("empty", "", "", True),
    ("empty-braces", "{{}}", "{{}}", False),
]


@pytest.mark.parametrize(
    ("text", "expected", "static"), [c[1:] for c in SCOPE_CASES], ids=[c[0] for c in SCOPE_CASES]
)
def test_scope_variables(text: str, expected: str | re.Pattern[str], static: bool) -> None:
    template = Template.compile(text, SCOPE_NO_USER)
    assert template.is_static is static
    rendered = template.render(context())
    if isinstance(expected, str):
        assert rendered == expected
    else:
        assert expected.fullmatch(rendered)


def test_render_static() -> None:
    assert Template.compile("{{host}}!", SCOPE).render_static() == "api.example.com!"
    with pytest.raises(ValueError, match="needs a request"):
        Template.compile("{{$randomInt}}", SCOPE).render_static()


def test_scope_beats_captures() -> None:
    """A name the scope defines was resolved at compile time: it never was a wildcard."""
    scope = VariableScope({"userId": "from-env"})
    template = Template.compile("{{userId}}", scope)
    assert template.is_static and template.capture_names == frozenset()
    assert template.render(context(captures={"userId": "captured"})) == "from-env"


def test_captures_fill_unresolved_names() -> None:
    template = Template.compile("/users/{{userId}}/{{other}}/{{postId}}", SCOPE_NO_USER)
    assert template.capture_names == {"userId", "other", "postId"}
    ctx = context(captures={"userId": "7", "postId": "p 1"})
    assert template.render(ctx) == "/users/7/{{other}}/p 1"


def test_capture_values_are_not_templates_themselves() -> None:
    ctx = context(captures={"userId": "{{host}} {{$randomInt}}"})
    assert Template.compile("{{userId}}", SCOPE_NO_USER).render(ctx) == "{{host}} {{$randomInt}}"


def test_each_dynamic_occurrence_draws_a_fresh_value() -> None:
    template = Template.compile(" ".join(["{{$guid}}"] * 20), SCOPE_NO_USER)
    assert not template.is_static
    ctx = context()
    first, second = template.render(ctx).split(), template.render(ctx).split()
    assert len(set(first + second)) == 40


def test_seeded_dynamic_values_repeat() -> None:
    template = Template.compile("{{$randomInt}}-{{$randomFirstName}}-{{$guid}}", SCOPE)
    req = request()
    first = template.render(RenderContext({}, req, DynamicValues(seed=1)))
    assert first == template.render(RenderContext({}, req, DynamicValues(seed=1)))
    assert first != template.render(RenderContext({}, req, DynamicValues(seed=2)))


def test_body_is_parsed_once_per_context() -> None:
    ctx = context()
    Template.compile("{{$body 'a.b.c'}}", SCOPE).render(ctx)
    parsed = ctx.body_data
    assert Template.compile("{{$body 'username'}}", SCOPE).render(ctx) == "carol"
    assert ctx.body_data is parsed
    assert context().body_data is not parsed


def test_mixed_template() -> None:
    text = (
        '{"id": "{{userId}}", "name": "{{$body \'username\'}}", "host": "{{host}}", '
        "\"n\": {{$randomInt}}, \"page\": {{$queryParams 'page' '1'}}}"
    )
    out = json.loads(render(text))
    assert out["id"] == "7" and out["name"] == "carol" and out["host"] == "api.example.com"
    assert 0 <= out["n"] <= 1000 and out["page"] == 2


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("a", ("a",)),
        ("a.b.0", ("a", "b", "0")),
        (r"a\.b.c", ("a.b", "c")),
        (r"a\b", (r"a\b",)),
        ("", ("",)),
        ("a.", ("a", "")),
    ],
    ids=["one", "three", "escaped-dot", "other-backslash", "empty", "trailing-dot"],
)
def test_split_path(path: str, keys: tuple[str, ...]) -> None:
    assert split_path(path) == keys


@given(st.text().filter(lambda s: "{{" not in s))
def test_text_without_placeholders_renders_to_itself(text: str) -> None:
    template = Template.compile(text, VariableScope({}))
    assert template.is_static
    assert template.render(context()) == text


@given(st.text(alphabet=st.sampled_from("{}$'\"\\. abx0")) | st.text())
def test_compile_and_render_never_raise(text: str) -> None:
    template = Template.compile(text, SCOPE)
    assert isinstance(template.render(context()), str)


def test_raw_query_string_is_decoded_on_demand() -> None:
    data = RequestData("GET", "/x", query_string="a=1&b=two+words&a=2&c=%41")
    ctx = RenderContext({}, data, DynamicValues(seed=1))
    template = Template.compile(
        "{{$queryParams 'a'}}|{{$queryParams 'b'}}|{{$queryParams 'c'}}|{{$queryParams}}",
        VariableScope(),
    )
    assert template.render(ctx) == '1|two words|A|{"a":["1","2"],"b":"two words","c":"A"}'
