"""Properties of the matching engine (hypothesis) and its behaviour on the real corpus."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_matching_support import SCHEMA, index

from postmock.collection import Example, KeyValue, collection_from_json, load_collection
from postmock.matching import IncomingRequest, Match, MatchConfig
from postmock.matching.query import ExampleQuery, score_query
from postmock.templating.variables import VariableScope

TEXT = st.text(alphabet="abcXYZ019 -_.é/", min_size=1, max_size=8)
KEY = st.text(alphabet="abkq_", min_size=1, max_size=3)
# (segment as written in the example, strategy of what a client sends for it)
SEGMENTS: list[tuple[str, st.SearchStrategy[str]]] = [
    ("users", st.just("users")),
    ("Posts", st.just("Posts")),
    ("42", st.just("42")),
    ("a%20b", st.just("a%20b")),
    ("{{id}}", TEXT.map(lambda t: quote(t, safe=""))),
    (":slug", TEXT.map(lambda t: quote(t, safe=""))),
    ("{{name}}.json", TEXT.map(lambda t: quote(t, safe="") + ".json")),
]


@st.composite
def collections(draw: st.DrawFn) -> dict[str, Any]:
    """Items with distinct literal first segments; each example has its own query and code."""
    items = []
    for n in range(draw(st.integers(1, 4))):
        method = draw(st.sampled_from(["GET", "POST", "DELETE"]))
        segs = ["res" + "abcd"[n]] + [
            s for s, _ in draw(st.lists(st.sampled_from(SEGMENTS), max_size=3))
        ]
        examples = []
        for _ in range(draw(st.integers(1, 3))):
            params = draw(st.lists(st.tuples(KEY, TEXT, st.booleans()), max_size=3))
            query = [{"key": k, "value": quote(v), "disabled": off} for k, v, off in params]
            request: dict[str, Any] = {
                "method": method,
                "url": {"raw": "x", "host": ["{{baseUrl}}"], "path": segs, "query": query},
            }
            if method == "POST":
                payload = draw(st.dictionaries(KEY, st.integers() | TEXT, max_size=3))
                request["body"] = {
                    "mode": "raw",
                    "raw": json.dumps(payload, indent=draw(st.sampled_from([None, 2]))),
                    "options": {"raw": {"language": "json"}},
                }
            code = draw(st.sampled_from([200, 201, 404, 500]))
            examples.append({"name": f"e{n}", "code": code, "originalRequest": request})
        items.append(
            {"name": f"i{n}", "request": examples[0]["originalRequest"], "response": examples}
        )
    return {"info": {"name": "p", "schema": SCHEMA}, "item": items}


def _send_segment(draw: st.DrawFn, written: str) -> str:
    for seg, strategy in SEGMENTS:
        if seg == written:
            return draw(strategy)
    return quote(written, safe="%")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), collections(), st.booleans())
def test_own_request_with_code_selects_its_item(
    data: st.DataObject, doc: dict[str, Any], match_body: bool
) -> None:
    """Any example's own request, sent with its code, is answered by an example of its item."""
    coll = collection_from_json(doc)
    idx = index(coll, MatchConfig(match_body=match_body))
    for example in coll.examples:
        url = example.request.url
        path = "/" + "/".join(_send_segment(data.draw, s) for s in url.path)
        pairs = [(q.key, q.value.replace("%20", " ")) for q in url.query if not q.disabled]
        data.draw(st.randoms()).shuffle(pairs)  # order never matters
        target = path + ("?" + urlencode(pairs) if pairs else "")
        headers = {"x-mock-response-code": str(example.code)}
        if example.request.body.mode == "raw":
            headers["Content-Type"] = "application/json"
        body = json.dumps(json.loads(example.request.body.raw)) if example.request.body.raw else ""
        result = idx.match(
            IncomingRequest.from_parts(example.request.method, target, headers, body)
        )
        assert isinstance(result, Match), (target, result)
        assert result.example.item_location == example.item_location
        assert result.example.code == example.code


PAIRS = st.lists(st.tuples(KEY, st.text(alphabet="ab1", max_size=2)), max_size=6)


@settings(max_examples=200, deadline=None)
@given(PAIRS, PAIRS, st.randoms())
def test_query_score_bounds_and_order(
    example: list[tuple[str, str]], sent: list[tuple[str, str]], rnd: Any
) -> None:
    """The query score stays in [-10, 10], ignores order, and is +10 exactly when all match."""
    eq = ExampleQuery.build([KeyValue(k, v) for k, v in example], VariableScope())
    result = score_query(eq, tuple(sent))
    assert -10 <= result.score <= 10
    shuffled = list(sent)
    rnd.shuffle(shuffled)
    assert score_query(eq, tuple(shuffled)) == result
    assert (result.score == 10) == (Counter(example) == Counter(sent))
    # Each match or partial pairs one parameter of each side; a missing one has no partner.
    assert 2 * (result.matches + result.partials) + result.missing == len(example) + len(sent)


# -- the corpus --------------------------------------------------------------------------


def _corpus_files() -> list[Path]:
    root = os.environ.get("POSTMOCK_CORPUS")
    if not root or not (Path(root) / "collections").is_dir():
        return []
    return sorted((Path(root) / "collections").glob("*.json"))


def _segments(example: Example, scope: VariableScope) -> list[str]:
    """The example's resolved path as a client would send it (baseUrl path included)."""
    host = scope.resolve(example.request.url.host)
    out: list[str] = []
    if "/" in host and "{{" not in host.split("/", 1)[0]:
        rest = host.split("://", 1)[-1]
        out += [s for s in rest.split("/")[1:] if s]
    for seg in example.request.url.path:
        out += scope.resolve(seg).split("/") if not seg.startswith(":") else [seg]
    return out


# What Postman's app sends as Content-Type when the request declares none.
_SENT_TYPES = {"urlencoded": "application/x-www-form-urlencoded", "graphql": "application/json"}
_RAW_TYPES = {"json": "application/json", "xml": "application/xml", "html": "text/html"}


def _own_request(example: Example, scope: VariableScope) -> IncomingRequest:
    """The example's originalRequest as Postman's app would send it, with its code."""
    req = example.request
    path = "/" + "/".join(quote(s, safe="%:@!$'()*,;={}+&") for s in _segments(example, scope))
    query = "&".join(
        quote(scope.resolve(q.key), safe="%+:@!$'()*,;{}/?[]")
        + "="
        + quote(scope.resolve(q.value), safe="%+:@!$'()*,;={}/?[]")
        for q in req.url.query
        if not q.disabled
    )
    headers = {h.key: scope.resolve(h.value) for h in req.headers if not h.disabled and h.key}
    headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-mock-")}
    headers["x-mock-response-code"] = str(example.code)
    body = b""
    sent_type = _SENT_TYPES.get(req.body.mode, "")
    if req.body.mode == "raw" and req.body.raw:
        body = scope.resolve(req.body.raw).encode()
        sent_type = _RAW_TYPES.get(req.body.language, "text/plain")
    elif req.body.mode == "urlencoded":
        fields = [
            (scope.resolve(f.key), scope.resolve(f.value))
            for f in req.body.fields
            if not f.disabled
        ]
        body = urlencode(fields).encode()
    elif req.body.mode == "formdata":
        parts = [
            f'--B\r\nContent-Disposition: form-data; name="{scope.resolve(f.key)}"\r\n\r\n'
            f"{scope.resolve(f.value)}\r\n"
            for f in req.body.fields
            if not f.disabled and f.type == "text"
        ]
        body = ("".join(parts) + "--B--\r\n").encode()
        sent_type = "multipart/form-data; boundary=B"
    elif req.body.mode == "graphql":
        variables = json.loads(req.body.graphql_variables or "null")
        body = json.dumps({"query": req.body.graphql_query, "variables": variables}).encode()
    declared = [k for k in headers if k.lower() == "content-type"]
    if req.body.mode == "formdata":  # the app replaces it: the boundary must be in it
        for k in declared:
            del headers[k]
        declared = []
    if sent_type and not declared and body:
        headers["Content-Type"] = sent_type
    return IncomingRequest.from_parts(
        req.method, path + ("?" + query if query else ""), headers, body
    )


@pytest.mark.corpus
@pytest.mark.parametrize("match_body", [False, True], ids=["default", "match-body"])
@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name[:60])
def test_corpus_own_requests_match(path: Path, match_body: bool, corpus_dir: Path) -> None:
    """Every corpus example's own request (with its code) is answered by a same-code example
    of its item, or at least one of the same method and path shape."""
    coll = load_collection(path)
    scope = VariableScope.build(coll)
    idx = index(coll, MatchConfig(match_body=match_body), scope=scope)
    failures = []
    for example in coll.examples:
        result = idx.match(_own_request(example, scope))
        if not isinstance(result, Match) or result.example.code != example.code:
            failures.append((example.location, result))
            continue
        got = result.example
        same_shape = got.request.method == example.request.method and len(
            [s for s in _segments(got, scope) if s]
        ) == len([s for s in _segments(example, scope) if s])
        if got.item_location != example.item_location and not same_shape:
            failures.append((example.location, got.location))
    assert not failures, failures[:5]
