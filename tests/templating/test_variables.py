"""Variable scopes: priority, disabled and duplicate entries, `{{name}}` resolution."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postmock.collection import Collection, Environment, Variable, environment_from_json
from postmock.templating.variables import (
    MAX_DEPTH,
    MAX_GROWTH,
    VariableScope,
    layer,
    parse_assignment,
)


def coll(*pairs: tuple[str, str]) -> Collection:
    return Collection("c", "c.json", "2.1", variables=tuple(Variable(k, v) for k, v in pairs))


def env(*pairs: tuple[str, str], scope: Any = "environment") -> Environment:
    return Environment("e", "e.json", tuple(Variable(k, v) for k, v in pairs), scope=scope)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        pytest.param([Variable("a", "1")], {"a": "1"}, id="one"),
        pytest.param([Variable("a", "1", disabled=True)], {}, id="disabled-ignored"),
        pytest.param(
            [Variable("a", "1"), Variable("a", "2")], {"a": "2"}, id="last-duplicate-wins"
        ),
        pytest.param(
            [Variable("a", "1"), Variable("a", "2", disabled=True)],
            {"a": "1"},
            id="disabled-duplicate-does-not-win",
        ),
        pytest.param(
            [
                Variable("a", "1", disabled=True),
                Variable("a", "2"),
                Variable("a", "3", disabled=True),
            ],
            {"a": "2"},
            id="only-enabled-duplicate",
        ),
        pytest.param([Variable("a", "")], {"a": ""}, id="empty-value-is-a-value"),
    ],
)
def test_layer(variables: list[Variable], expected: dict[str, str]) -> None:
    assert layer(variables) == expected


@pytest.mark.parametrize(
    ("collection", "globals_", "environment", "overrides", "expected"),
    [
        pytest.param(coll(("x", "c")), None, None, None, "c", id="collection-only"),
        pytest.param(
            coll(("x", "c")),
            env(("x", "g"), scope="globals"),
            None,
            None,
            "g",
            id="globals-beat-collection",
        ),
        pytest.param(
            coll(("x", "c")),
            env(("x", "g"), scope="globals"),
            env(("x", "e")),
            None,
            "e",
            id="environment-beats-globals",
        ),
        pytest.param(
            coll(("x", "c")),
            env(("x", "g"), scope="globals"),
            env(("x", "e")),
            {"x": "o"},
            "o",
            id="overrides-beat-all",
        ),
        pytest.param(
            coll(("x", "c")), None, env(("y", "e")), None, "c", id="environment-other-key"
        ),
        pytest.param(
            coll(("x", "c")),
            None,
            Environment("e", "e.json", (Variable("x", "e", disabled=True),)),
            None,
            "c",
            id="disabled-environment-entry-falls-through",
        ),
        pytest.param(None, None, None, {"x": ""}, "", id="empty-override"),
        pytest.param(None, None, None, None, None, id="nothing"),
    ],
)
def test_priority(
    collection: Collection | None,
    globals_: Environment | None,
    environment: Environment | None,
    overrides: dict[str, str] | None,
    expected: str | None,
) -> None:
    scope = VariableScope.build(collection, environment, globals_, overrides)
    assert scope.get("x") == expected


def test_environment_file_with_disabled_and_duplicates() -> None:
    data = {
        "name": "dups",
        "values": [
            {"key": "var1", "value": "alpha", "enabled": True},
            {"key": "var1", "value": "beta", "enabled": True},
            {"key": "var2", "value": "gamma", "enabled": True},
            {"key": "var2", "value": "delta", "enabled": False},
            {"key": "var3", "value": "eps", "disabled": True},
        ],
    }
    scope = VariableScope.build(environment=environment_from_json(data))
    assert dict(scope.values) == {"var1": "beta", "var2": "gamma"}


SCOPE = VariableScope(
    {
        "baseUrl": "{{scheme}}://{{host}}/{{version}}",
        "scheme": "https",
        "host": "api.example.com",
        "version": "v1",
        "ver": "2",
        "api2": "second",
        "self": "{{self}}",
        "grow": "x{{grow}}",
        "ping": "{{pong}}",
        "pong": "{{ping}}",
        "empty": "",
        "dollar": "$1 \\1 \\g<0>",
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain text", "plain text", id="no-variables"),
        pytest.param("{{host}}", "api.example.com", id="simple"),
        pytest.param("{{baseUrl}}/pets", "https://api.example.com/v1/pets", id="nested"),
        pytest.param("{{unknown}}/x", "{{unknown}}/x", id="unknown-stays-literal"),
        pytest.param("{{$guid}}", "{{$guid}}", id="dynamic-stays"),
        pytest.param("{{ host }}", "{{ host }}", id="spaces-are-part-of-the-name"),
        pytest.param("{{api{{ver}}}}", "second", id="name-built-from-variable"),
        pytest.param("{{self}}", "{{self}}", id="self-reference"),
        pytest.param("{{grow}}", "x" * MAX_DEPTH + "{{grow}}", id="growing-self-reference-bounded"),
        pytest.param("a{{empty}}b", "ab", id="empty-value"),
        pytest.param("{{dollar}}", "$1 \\1 \\g<0>", id="regex-escapes-in-value-are-literal"),
        pytest.param("{{host}", "{{host}", id="unbalanced"),
        pytest.param("{{}}", "{{}}", id="empty-name"),
    ],
)
def test_resolve(text: str, expected: str) -> None:
    assert SCOPE.resolve(text) == expected


def test_mutual_reference_terminates() -> None:
    assert SCOPE.resolve("{{ping}}") in ("{{ping}}", "{{pong}}")


def test_resolve_extra_values_beat_the_scope() -> None:
    assert SCOPE.resolve("{{host}}/{{userId}}", {"host": "h", "userId": "7"}) == "h/7"
    assert SCOPE.resolve("{{userId}}") == "{{userId}}"


@pytest.mark.parametrize("copies", [2, 3, 50])
def test_self_reference_that_multiplies_is_bounded(copies: int) -> None:
    scope = VariableScope({"a": "{{a}}" * copies})
    result = scope.resolve("<{{a}}>")
    assert len(result) <= len("<{{a}}>") + MAX_GROWTH
    assert result.startswith("<{{a}}") and result.endswith("{{a}}>")


def test_unresolved_names() -> None:
    assert SCOPE.unresolved("{{baseUrl}}/{{userId}}/{{$guid}}/{{self}}") == ["userId", "self"]


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        pytest.param("k=v", ("k", "v"), id="simple"),
        pytest.param("k=", ("k", ""), id="empty-value"),
        pytest.param("url=https://h/?a=b", ("url", "https://h/?a=b"), id="value-with-equals"),
        pytest.param(" k = v ", (" k ", " v "), id="spaces-kept"),
    ],
)
def test_parse_assignment(pair: str, expected: tuple[str, str]) -> None:
    assert parse_assignment(pair) == expected


@pytest.mark.parametrize("pair", ["novalue", "=v", ""])
def test_parse_assignment_rejects(pair: str) -> None:
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_assignment(pair)


braceless = st.text(st.characters(exclude_characters="{}"), max_size=8)


@given(
    st.dictionaries(braceless, st.text(max_size=12), max_size=6),
    st.lists(st.text(max_size=8), max_size=6),
)
def test_resolve_terminates_on_any_input(mapping: dict[str, str], parts: list[str]) -> None:
    text = "".join("{{" + p + "}}" if i % 2 else p for i, p in enumerate(parts))
    result = VariableScope(mapping).resolve(text)
    assert len(result) <= len(text) + MAX_GROWTH
    assert VariableScope().resolve(text) == text


@given(
    st.dictionaries(braceless, braceless, max_size=6),
    st.lists(braceless, max_size=6),
)
def test_known_names_without_braces_are_all_replaced(
    mapping: dict[str, str], parts: list[str]
) -> None:
    text = "".join("{{" + p + "}}" if i % 2 else p for i, p in enumerate(parts))
    result = VariableScope(mapping).resolve(text)
    for name in mapping:
        assert "{{" + name + "}}" not in result
    for i, part in enumerate(parts):
        if i % 2 and part not in mapping:
            assert "{{" + part + "}}" in result
