"""Human paths, JSON pointers and one-line escaping of findings."""

from __future__ import annotations

from typing import Any

import pytest

from postmock.collection.loader import collection_from_json
from postmock.validate.locate import Locator, escape, line_numbers, line_of, parts, pointer

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def request(name: str, *examples: str) -> dict[str, Any]:
    return {
        "name": name,
        "request": {"method": "GET", "url": "https://x.io/a"},
        "response": [{"name": e, "code": 200, "body": ""} for e in examples],
    }


DOC = {
    "info": {"name": "t", "schema": V21},
    "item": [
        {
            "name": "Pets",
            "item": [
                request("List pets", "OK"),
                {"name": "Admin", "item": [request("Update pet", "OK", "Storage\nfailure")]},
            ],
        },
        request("Health", ""),
    ],
}


@pytest.mark.parametrize(
    ("path", "human"),
    [
        pytest.param("item[0]", "Pets", id="folder"),
        pytest.param("item[0].item[0]", "Pets › List pets", id="request"),
        pytest.param("item[0].item[0].response[0].code", "Pets › List pets › OK", id="field"),
        pytest.param(
            "item[0].item[1].item[0].response[1]",
            "Pets › Admin › Update pet › Storage\\nfailure",
            id="nested-and-escaped",
        ),
        pytest.param("item[1].response[0]", "Health › (unnamed 200 example)", id="unnamed"),
        pytest.param("collection.item[1]", "Health", id="api-envelope"),
        pytest.param("info.version", "", id="not-an-item"),
        pytest.param("", "", id="root"),
    ],
)
def test_human_path(path: str, human: str) -> None:
    assert Locator(collection_from_json(DOC, "c.json")).human(path) == human


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("", "", id="root"),
        pytest.param("item[2].response[0].code", "/item/2/response/0/code", id="nested"),
        pytest.param('variable["a/b~c"]', "/variable/a~1b~0c", id="escaped"),
        pytest.param('["a b"][1]', "/a b/1", id="quoted-first"),
        pytest.param("info._postman_id", "/info/_postman_id", id="underscore"),
    ],
)
def test_pointer(path: str, expected: str) -> None:
    assert pointer(path) == expected


def test_parts_rejects_what_is_not_a_json_path() -> None:
    assert parts("item[0]x") is None
    assert pointer("item[0]x") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain › text", "plain › text"),
        ("two\nlines", "two\\nlines"),
        ("cr\r\ttab", "cr\\r\\ttab"),
        ("bell\x07", "bell\\u0007"),
        ("sep\u2028", "sep\\u2028"),
    ],
)
def test_escape_keeps_one_line(text: str, expected: str) -> None:
    assert escape(text) == expected


TEXT = """{
  "info": {"name": "x"},
  "item": [
    {"name": "a", "response": [
      {"code": "200", "body": "{\\"item\\": [1]}"}
    ]}
  ],
  "a b": [1,
    2]
}"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        pytest.param("", 1, id="root"),
        pytest.param("item[0].response[0].code", 5, id="value"),
        pytest.param("item[0].response[0].header", 5, id="missing-falls-back-to-parent"),
        pytest.param("info.schema", 2, id="missing-property"),
        pytest.param('["a b"][1]', 9, id="quoted-key"),
        pytest.param("item[3]", 3, id="missing-index"),
    ],
)
def test_line_of(path: str, line: int) -> None:
    assert line_of(line_numbers(TEXT, {path}), path) == line


def test_line_inside_the_api_envelope() -> None:
    text = '{"collection": {\n  "info": {},\n  "item": [\n    {"x": 1}]}}'
    lines = line_numbers(text, {"item[0].x", "collection.info"})
    assert line_of(lines, "item[0].x") == 4  # a lint's path, written without the envelope
    assert line_of(lines, "collection.info") == 2  # a schema path, written with it
