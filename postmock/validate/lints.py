"""Mock-readiness lints: things that are valid Postman but will not serve the way one expects.

Every lint is a generator of warnings over the loaded model (never raw JSON); `lint` runs
them all. Codes: no-examples, duplicate-name, shadowed, unresolved-variable,
invalid-json-body, content-encoding, query-in-path, load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from postmock.collection.model import Collection, Example, Url
from postmock.matching import MatchConfig, MatchIndex
from postmock.templating.variables import VARIABLE, VariableScope
from postmock.validate.findings import Finding
from postmock.validate.reach import unreachable

_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_LIST_AT_MOST = 3


@dataclass(frozen=True)
class LintContext:
    """What every lint may look at: the collection and the variables a mock would use."""

    collection: Collection
    scope: VariableScope
    environment_given: bool = False

    @property
    def file(self) -> str:
        return self.collection.source

    def warning(self, path: str, code: str, message: str) -> Finding:
        return Finding(self.file, path, message, "warning", code)


def load_warnings(ctx: LintContext) -> Iterator[Finding]:
    """The loader's own warnings: parts of the file it had to skip or reinterpret."""
    for w in ctx.collection.warnings:
        yield ctx.warning(w.where, "load", w.message)


def no_examples(ctx: LintContext) -> Iterator[Finding]:
    """Requests without a saved example: the mock has nothing to answer them with."""
    for item in ctx.collection.items:
        if not item.examples:
            yield ctx.warning(
                item.location,
                "no-examples",
                f"request {item.name!r} has no saved examples; the mock cannot answer it",
            )


def duplicate_names(ctx: LintContext) -> Iterator[Finding]:
    """Example names shared by examples of one method: `x-mock-response-name` is ambiguous."""
    groups: dict[tuple[str, str], list[Example]] = {}
    for ex in ctx.collection.examples:
        if ex.name:
            groups.setdefault((ex.request.method, ex.name), []).append(ex)
    for (method, name), examples in groups.items():
        if len(examples) < 2:
            continue
        others = [ex.location for ex in examples[1 : _LIST_AT_MOST + 1]]
        more = len(examples) - 1 - len(others)
        listed = ", ".join(others) + (f" and {more} more" if more > 0 else "")
        yield ctx.warning(
            examples[0].location,
            "duplicate-name",
            f"{len(examples)} {method} examples are named {name!r} (also {listed}); "
            f"'x-mock-response-name: {name}' cannot tell them apart",
        )


def shadowed(ctx: LintContext) -> Iterator[Finding]:
    """Examples no routine control header reaches: same route and code as one that wins.

    An example reached by `x-mock-response-code` (or body/header matching) is how Postman
    mocks are meant to be used and is not reported (`validate/reach.py`).
    """
    index = MatchIndex.compile(ctx.collection, ctx.scope, MatchConfig())
    for found in unreachable(index):
        loser, winner = found.example, found.winner
        if found.headers:
            only = f"only '{found.how}' reaches it"
        else:
            only = "no x-mock-response-* header reaches it (its name is shared and it has no id)"
        yield ctx.warning(
            loser.location,
            "shadowed",
            f"example {loser.name!r} ({loser.code}) is never chosen by matching: "
            f"{winner.name!r} ({winner.location}) has the same route and code and always wins; "
            f"{only}",
        )


def unresolved_variables(ctx: LintContext) -> Iterator[Finding]:
    """`{{names}}` in example URLs, headers and bodies that no variable defines.

    One warning per name and kind of place, at its first occurrence, with a count of the rest.
    """
    where = "the collection's variables" + (" or the environment" if ctx.environment_given else "")
    found: dict[tuple[str, str], tuple[str, str, set[str]]] = {}

    def add(path: str, kind: str, name: str, message: str) -> None:
        first = found.setdefault((kind, name), (path, message, set()))
        if path != first[0]:
            first[2].add(path)

    for item in ctx.collection.items:
        for ex in item.examples:
            request = "originalRequest" if ex.has_original_request else None
            url_path = f"{ex.location}.{request}.url" if request else f"{item.location}.request.url"
            captures: set[str] = set()
            for kind, name, message in _url_findings(ex.request.url, ctx.scope, where, captures):
                add(url_path, kind, name, message)
            for header in ex.headers:
                for name in [] if header.disabled else ctx.scope.unresolved(header.value):
                    if name not in captures:
                        message = (
                            f"{{{{{name}}}}} in response header {header.key!r} is not defined "
                            f"in {where}; it is served literally"
                        )
                        add(f"{ex.location}.header", "header", name, message)
            for name in ctx.scope.unresolved(ex.body or ""):
                if name not in captures:
                    message = (
                        f"{{{{{name}}}}} in the example body is not defined in {where} "
                        "(nor captured from the URL path); it is served literally"
                    )
                    add(f"{ex.location}.body", "body", name, message)
    for path, message, others in found.values():
        if others:
            message += f" (also in {len(others)} other place{'s' if len(others) > 1 else ''})"
        yield ctx.warning(path, "unresolved-variable", message)


def _url_findings(
    url: Url, scope: VariableScope, where: str, captures: set[str]
) -> Iterator[tuple[str, str, str]]:
    """(part, name, message) for the unresolved names of one example URL; fills `captures`."""
    for name in scope.unresolved(url.host):
        yield (
            "host",
            name,
            f"{{{{{name}}}}} in the URL host is not defined in {where}; the mock ignores the "
            "host, but a base URL that carries a path (https://api.example.com/v1) would be missed",
        )
    for segment in url.path:
        if segment.startswith(":") and len(segment) > 1:
            captures.add(segment[1:])
            continue
        names = scope.unresolved(segment)
        whole = VARIABLE.fullmatch(scope.resolve(segment))
        for name in names:
            if whole is not None and whole.group(1) == name:
                captures.add(name)
                yield (
                    "path-wildcard",
                    name,
                    f"{{{{{name}}}}} in the URL path is not defined in {where}; "
                    "this segment becomes a wildcard that matches any single segment",
                )
            else:
                yield (
                    "path",
                    name,
                    f"{{{{{name}}}}} in path segment {segment!r} is not defined in {where}; "
                    "the segment is matched literally",
                )
    for param in url.query:
        if param.disabled:
            continue
        for name in scope.unresolved(f"{param.key}={param.value}"):
            yield (
                f"query:{param.key}",
                name,
                f"{{{{{name}}}}} in query parameter {param.key!r} is not defined in {where}; "
                "it is compared literally",
            )


def invalid_json_bodies(ctx: LintContext) -> Iterator[Finding]:
    """JSON-typed example bodies that do not parse, even with `{{templates}}` filled in."""
    for ex in ctx.collection.examples:
        body = ex.body or ""
        if not body.strip() or not _is_json(ex):
            continue
        error = _json_error(body)
        if error is not None:
            yield ctx.warning(
                f"{ex.location}.body",
                "invalid-json-body",
                f"example {ex.name!r} says it is JSON but its body is not: {error}",
            )


def _is_json(ex: Example) -> bool:
    content_type = ""
    for header in ex.headers:
        if not header.disabled and header.key.strip().lower() == "content-type":
            content_type = header.value.lower()
    media = content_type.split(";", 1)[0].strip()
    return media.endswith("/json") or media.endswith("+json") or ex.preview_language == "json"


def _json_error(body: str) -> str | None:
    """None when `body` is JSON once every `{{...}}` is read as a number; else the error."""
    try:
        json.loads(body)
        return None
    except json.JSONDecodeError:
        pass
    try:
        json.loads(_TEMPLATE.sub("0", body))
        return None
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"


def content_encodings(ctx: LintContext) -> Iterator[Finding]:
    """Recorded Content-Encoding headers: the saved body is decoded text, so they are dropped."""
    for ex in ctx.collection.examples:
        for header in ex.headers:
            if not header.disabled and header.key.strip().lower() == "content-encoding":
                yield ctx.warning(
                    f"{ex.location}.header",
                    "content-encoding",
                    f"'Content-Encoding: {header.value}' was recorded with example {ex.name!r}; "
                    "postmock drops it because the saved body is already decoded",
                )


def query_in_path(ctx: LintContext) -> Iterator[Finding]:
    """A `?` inside a structured path segment: the query was written into the path.

    Converters sometimes produce `"path": ["stats", "usage_by_service?from=…"]`; the mock
    then expects a literal `?` (sent as `%3F`) in the path, so the URL a user reads never
    reaches that example.
    """
    for item in ctx.collection.items:
        requests = [(f"{item.location}.request.url", item.request)]
        requests += [
            (f"{ex.location}.originalRequest.url", ex.request)
            for ex in item.examples
            if ex.request is not item.request  # no originalRequest: reported with the item
        ]
        for where, request in requests:
            bad = next((seg for seg in request.url.path if "?" in seg), None)
            if bad is None:
                continue
            shown = bad if len(bad) <= 60 else bad[:59] + "…"
            yield ctx.warning(
                f"{where}.path",
                "query-in-path",
                f"path segment {shown!r} holds a query string: the mock reads its '?' as "
                "part of the path, so the URL users read never reaches this example; "
                "move the part after '?' to url.query",
            )


#: Every lint, with the one code its findings carry.
LINTS: tuple[tuple[str, Callable[[LintContext], Iterator[Finding]]], ...] = (
    ("load", load_warnings),
    ("no-examples", no_examples),
    ("duplicate-name", duplicate_names),
    ("shadowed", shadowed),
    ("unresolved-variable", unresolved_variables),
    ("invalid-json-body", invalid_json_bodies),
    ("content-encoding", content_encodings),
    ("query-in-path", query_in_path),
)


def lint(ctx: LintContext, keep: Callable[[str], bool] = lambda code: True) -> list[Finding]:
    """The warnings of every lint whose code `keep` accepts, lint by lint."""
    return [finding for code, check in LINTS if keep(code) for finding in check(ctx)]
