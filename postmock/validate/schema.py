"""Precise JSON-Schema validation of a collection document, one readable line per problem.

The schemas are postmock's own (`schemas/collection-v2.X.json`), written so that their
verdicts equal Postman's official draft-07 schema while their errors point at the real
problem: alternatives of different JSON types are type unions and if/then/else rather than
oneOf, so jsonschema rarely has to guess which branch was meant. Where a oneOf/anyOf is
left, the most relevant branch error is kept (jsonschema's `best_match`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from jsonschema import Draft7Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

Version = Literal["2.0", "2.1"]
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation: where (JSON path, "" for the root) and what, in words."""

    path: str
    message: str


def schema_version(data: Any) -> Version:
    """The schema a document declares in `info.schema`; anything else is read as v2.1."""
    info = data.get("info") if isinstance(data, dict) else None
    declared = ""
    if isinstance(info, dict):
        value = info.get("schema") or info.get("_postman_schema")
        declared = value if isinstance(value, str) else ""
    if "v2.1" in declared or "2.1.0" in declared:
        return "2.1"
    if "v2.0" in declared or "2.0.0" in declared:
        return "2.0"
    return "2.1"


@cache
def load_schema(version: Version) -> dict[str, Any]:
    """postmock's JSON Schema of one collection format version (package data)."""
    text = (
        resources.files(__package__)
        .joinpath(f"schemas/collection-v{version}.json")
        .read_text("utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


_ANNOTATIONS = frozenset({"description", "title", "$comment"})
_CONTAINER_ONLY = frozenset({"properties", "required", "items"})
_draft7_items = Draft7Validator.VALIDATORS["items"]


def _only_type_applies(subschema: Any, instance: Any) -> list[str] | None:
    """The allowed types when `type` is the only keyword of `subschema` that can fail here.

    True of type-only leaves (`{"type": "string"}`), and of object/list schemas met by a
    scalar, where `properties`, `required` and `items` do not apply.
    """
    if type(subschema) is not dict or "type" not in subschema:
        return None
    scalar = not isinstance(instance, (dict, list))
    for key in subschema:
        if key != "type" and key not in _ANNOTATIONS and not key.startswith("x-"):
            if not (scalar and key in _CONTAINER_ONLY):
                return None
    expected = subschema["type"]
    return [expected] if isinstance(expected, str) else list(expected)


def _descend(
    validator: Validator, value: Any, subschema: Any, path: str | int | None = None
) -> Iterator[ValidationError]:
    """`validator.descend`, minus jsonschema's per-subschema cost when only `type` applies."""
    wanted = _only_type_applies(subschema, value)
    if wanted is None:
        yield from validator.descend(value, subschema, path=path, schema_path=path)
    elif not any(validator.is_type(value, t) for t in wanted):
        yield ValidationError(
            f"{value!r} is not of type {', '.join(repr(t) for t in wanted)}",
            validator="type",
            validator_value=subschema["type"],
            instance=value,
            schema=subschema,
            path=() if path is None else (path,),
            schema_path=("type",) if path is None else (path, "type"),
            type_checker=validator.TYPE_CHECKER,
        )


def _properties(
    validator: Validator, properties: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """Draft-7 `properties`, same verdicts and errors, through the fast `_descend`."""
    if validator.is_type(instance, "object"):
        for name, subschema in properties.items():
            if name in instance:
                yield from _descend(validator, instance[name], subschema, name)


def _items(
    validator: Validator, items: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """Draft-7 `items` (one schema for every entry), through the fast `_descend`."""
    if not isinstance(items, dict):
        yield from _draft7_items(validator, items, instance, schema)
    elif validator.is_type(instance, "array"):
        for index, entry in enumerate(instance):
            yield from _descend(validator, entry, items, index)


def _local_refs(definitions: dict[str, Any]) -> Any:
    """Draft-7 `$ref` for this schema's own `#/definitions/NAME`, looked up in a dict.

    The schemas have no `$id`s, so a local reference needs no resolver; anything else
    goes to jsonschema's own `$ref`.
    """
    targets = {f"#/definitions/{name}": sub for name, sub in definitions.items()}
    standard = Draft7Validator.VALIDATORS["$ref"]

    def ref(
        validator: Validator, ref: str, instance: Any, schema: dict[str, Any]
    ) -> Iterator[ValidationError]:
        target = targets.get(ref)
        if target is None:
            yield from standard(validator, ref, instance, schema)
        else:
            yield from _descend(validator, instance, target)

    return ref


@cache
def validator(version: Version, definition: str | None = None) -> Validator:
    """The validator of one version (or of one of its definitions), built once per process.

    A Draft7Validator whose `properties`, `items` and `$ref` skip work that cannot change
    the outcome (about 2x faster on multi-megabyte files); tests/test_schema.py checks it
    gives the plain Draft7Validator's errors on every corpus file and generated documents.
    """
    schema = load_schema(version)
    Draft7Validator.check_schema(schema)
    keywords = {"properties": _properties, "items": _items}
    keywords["$ref"] = _local_refs(schema.get("definitions", {}))
    cls = validators.extend(Draft7Validator, keywords)
    if definition is not None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    return cls(schema)


#: Folder levels validated in one piece. jsonschema descends with many Python (and
#: referencing's Rust) frames per level: folders hundreds deep overflowed either stack.
PIECE_DEPTH = 16
_Piece = tuple[Any, tuple[str | int, ...], str | None]  # document, its path, definition


def _pieces(data: Any) -> Iterator[_Piece]:
    """The document with folders deeper than PIECE_DEPTH emptied, then each emptied
    folder's entries as pieces of their own (checked as `entry`), iteratively."""
    pending: list[_Piece] = [(data, (), None)]
    while pending:
        doc, parts, definition = pending.pop()
        cut: list[_Piece] = []
        yield _cut(doc, parts, 0, cut), parts, definition
        pending.extend(reversed(cut))


def _cut(node: Any, parts: tuple[str | int, ...], depth: int, cut: list[_Piece]) -> Any:
    if not isinstance(node, dict) or not isinstance(node.get("item"), list):
        return node
    children = node["item"]
    if depth >= PIECE_DEPTH:
        cut.extend((c, (*parts, "item", n), "entry") for n, c in enumerate(children))
        return {**node, "item": []}
    copies = [_cut(c, (*parts, "item", n), depth + 1, cut) for n, c in enumerate(children)]
    if all(a is b for a, b in zip(copies, children, strict=True)):
        return node
    return {**node, "item": copies}


def schema_issues(data: Any, version: Version, prefix: str = "") -> list[SchemaIssue]:
    """Every schema violation of `data`, collapsed to one issue per problem, paths prefixed.

    Deep folders are validated in pieces (`PIECE_DEPTH`); a folder whose entries were
    checked as their own piece is checked with an empty `item` list.
    """
    issues: list[SchemaIssue] = []
    seen: set[tuple[str, str]] = set()
    for piece, parts, definition in _pieces(data):
        where = json_path(parts, prefix)
        for error in validator(version, definition).iter_errors(piece):
            leaf = _leaf(error)
            issue = SchemaIssue(json_path(leaf.absolute_path, where), describe(leaf))
            if (issue.path, issue.message) not in seen:
                seen.add((issue.path, issue.message))
                issues.append(issue)
    return issues


def is_valid(data: Any, version: Version) -> bool:
    """True when `data` passes the schema of `version`."""
    return bool(validator(version).is_valid(data))


def json_path(parts: Iterable[str | int], prefix: str = "") -> str:
    """`item[2].response[0].code` from ("item", 2, "response", 0, "code")."""
    out = prefix
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _leaf(error: ValidationError) -> ValidationError:
    """Follow a failed oneOf/anyOf down to the branch error that explains it best."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        if isinstance(error.schema, dict) and "x-message" in error.schema:
            return error
        error = best_match(error.context)
    return error


def describe(error: ValidationError) -> str:
    """A short message for one error, without dumping the (possibly huge) instance."""
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "required":
        custom = schema.get("x-required-message")
        if isinstance(custom, str):
            return custom
        missing = [p for p in expected if isinstance(instance, dict) and p not in instance]
        names = ", ".join(f"'{p}'" for p in missing)
        return f"missing required propert{'ies' if len(missing) > 1 else 'y'} {names}"
    if keyword == "type":
        custom = schema.get("x-type-message")
        if isinstance(custom, str):
            return f"{custom}; got {_kind(instance)}"
        wanted = [expected] if isinstance(expected, str) else list(expected)
        order = list(_TYPE_NAMES)
        wanted.sort(key=lambda t: order.index(t) if t in order else len(order))
        kinds = [_TYPE_NAMES.get(t, t) for t in wanted]
        listed = " or ".join(kinds) if len(kinds) < 3 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
        return f"expected {listed}, got {_kind(instance)}"
    if keyword == "enum":
        choices = ", ".join(json.dumps(v) for v in expected)
        return f"{_short(instance)} is not one of {choices}"
    if keyword == "const":
        return f"must be {json.dumps(expected)}, got {_short(instance)}"
    if keyword == "minimum":
        return f"must be at least {expected}, got {_short(instance)}"
    if keyword == "maxLength":
        return f"must be at most {expected} characters long, got {len(instance)}"
    if keyword in ("oneOf", "anyOf"):
        if keyword == "oneOf" and not error.context:  # several branches matched
            custom = schema.get("x-ambiguous-message")
            return custom if isinstance(custom, str) else "matches more than one allowed form"
        custom = schema.get("x-message")
        return custom if isinstance(custom, str) else "matches none of the allowed forms"
    return _truncate(error.message)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, (int, float)):
        return f"a number ({_short(value)})"
    if isinstance(value, str):
        return f"a string ({_short(value)})"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return _truncate(json.dumps(value, ensure_ascii=False), 60)


def _truncate(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
