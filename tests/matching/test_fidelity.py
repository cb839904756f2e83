"""The last fidelity gaps: saved path-variable values, a saved `+` in a query value, an
example whose URL is `""`. Table-driven, plus the corpus collections that showed them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_matching_support import collection, ex, index, request, winner

from postmock.collection import collection_from_json, load_collection
from postmock.matching import Match, shadowed_examples
from postmock.templating.variables import VariableScope

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def user_url(saved: str) -> dict[str, Any]:
    return {
        "raw": "{{baseUrl}}/2/users/:id",
        "host": ["{{baseUrl}}"],
        "path": ["2", "users", ":id"],
        "variable": [{"key": "id", "value": saved}],
    }


@pytest.mark.parametrize(
    ("target", "expected", "rule"),
    [
        ("/2/users/2244994945", "Default Payload", "exact"),
        ("/2/users/2244994946", "User Not Found", "exact"),
        ("/2/users/42", "Default Payload", "wildcard"),  # a tie: file order, as before
        ("/2/users/anyone", "Default Payload", "wildcard"),
    ],
)
def test_saved_path_variable_value_selects_its_example(
    target: str, expected: str, rule: str
) -> None:
    idx = index(
        collection(
            ex("Default Payload", user_url("2244994945")),
            ex("User Not Found", user_url("2244994946")),
        )
    )
    found = idx.match(request("GET", target))
    assert winner(found) == expected
    assert isinstance(found, Match) and found.rule == rule
    assert found.captures["id"] == target.rsplit("/", 1)[1]  # still a capture


@pytest.mark.parametrize("saved", ["", "{{userId}}", "a/b"])
def test_empty_or_variable_saved_value_is_a_plain_wildcard(saved: str) -> None:
    idx = index(collection(ex("First", user_url(saved)), ex("Second", user_url("7"))))
    assert winner(idx.match(request("GET", "/2/users/7"))) == "Second"
    # any other id: the tie-break (code, literalness, file order) picks the first
    assert winner(idx.match(request("GET", "/2/users/8"))) == "First"


def test_literal_route_still_beats_saved_variable_of_another_request() -> None:
    idx = index(
        collection(
            ex("By id", user_url("me")),
            ex("Me", "{{baseUrl}}/2/users/me/settings"),
        )
    )
    assert winner(idx.match(request("GET", "/2/users/me"))) == "By id"
    assert winner(idx.match(request("GET", "/2/users/me/settings"))) == "Me"


@pytest.mark.parametrize(
    "name", ["kevinswiber__postman2openapi__twitter-api.postman.json",
             "paypal__postman-collections__PayPal_Partner_APIs.json",
             "paypal__postman-collections__PayPal_Public_APIs.json"],
)  # fmt: skip
def test_corpus_examples_told_apart_by_saved_values_are_not_shadowed(
    corpus_dir: Path, name: str
) -> None:
    coll = load_collection(corpus_dir / "collections" / name)
    idx = index(coll, scope=VariableScope.build(coll))
    wrong = [
        (lost.location, won.location)
        for lost, won in shadowed_examples(idx)
        if _saved(lost) != _saved(won)  # the saved values alone tell them apart
    ]
    assert wrong == []


def _saved(example: Any) -> dict[str, str]:
    return {
        v.key: v.value for v in example.request.url.variables if v.value and "{{" not in v.value
    }


def test_twitter_corpus_ids_pick_their_examples(corpus_dir: Path) -> None:
    coll = load_collection(
        corpus_dir / "collections" / "kevinswiber__postman2openapi__twitter-api.postman.json"
    )
    idx = index(coll, scope=VariableScope.build(coll))
    assert winner(idx.match(request("GET", "/2/users/2244994945"))).endswith("Default Payload")
    assert winner(idx.match(request("GET", "/2/users/2244994946"))).endswith("User Not Found")


# -- `+` in a saved query value ------------------------------------------------------------


@pytest.mark.parametrize(
    ("saved", "sent", "matches"),
    [
        ("+15551234", "%2B15551234", True),  # URLSearchParams / encodeURIComponent
        ("+15551234", "+15551234", True),  # sent raw, as Postman's client does
        ("%2B15551234", "%2B15551234", True),
        ("a b", "a+b", True),  # an incoming + may be a space
        ("a b", "a%20b", True),
        ("+15551234", "15551234", False),
        ("+15551234", "%2015551234", True),  # the + sent as form-encoded space: may be one
    ],
)
def test_saved_plus_is_a_plus(saved: str, sent: str, matches: bool) -> None:
    idx = index(
        collection(
            ex("Phone", f"{{{{baseUrl}}}}/lookup?n={saved}"),
            ex("Other", "{{baseUrl}}/lookup?n=0"),
        )
    )
    found = idx.match(request("GET", f"/lookup?n={sent}"))
    assert isinstance(found, Match)
    assert (found.example.name == "Phone" and found.score >= 110) is matches


def test_query_wildcard_captures_the_value_as_sent() -> None:
    idx = index(collection(ex("Lookup", "{{baseUrl}}/lookup?n={{phone}}")))
    found = idx.match(request("GET", "/lookup?n=%2B1555"))
    assert isinstance(found, Match) and found.captures["phone"] == "+1555"


# -- an empty example URL -----------------------------------------------------------------


def test_example_with_empty_url_answers_its_items_url() -> None:
    item_request = {"method": "GET", "url": "{{baseUrl}}/pets/list"}
    doc = {
        "info": {"name": "t", "schema": SCHEMA},
        "item": [
            {
                "name": "pets",
                "request": item_request,
                "response": [
                    {"name": "Empty URL", "code": 200, "body": "x",
                     "originalRequest": {"method": "GET", "url": ""}},
                ],
            },
            {
                "name": "root",
                "request": {"method": "GET", "url": "{{baseUrl}}/"},
                "response": [{"name": "Root", "code": 200, "body": "r"}],
            },
        ],
    }  # fmt: skip
    idx = index(collection_from_json(doc))
    assert winner(idx.match(request("GET", "/pets/list"))) == "Empty URL"
    assert winner(idx.match(request("GET", "/"))) == "Root"
