"""MatchIndex: examples compiled once, then the §3 algorithm per request, and miss reports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from multidict import CIMultiDict, CIMultiDictProxy

from postmock.collection.model import Collection, Example, KeyValue
from postmock.matching.bodies import (
    BOUNDARY,
    ExampleBody,
    RequestBody,
    bodies_equal,
    declared_type,
    header_difference,
    header_map,
)
from postmock.matching.candidates import PathIndex
from postmock.matching.model import (
    IncomingRequest,
    Match,
    MatchConfig,
    MatchRule,
    Miss,
    MissReason,
    Rejection,
    Stage,
)
from postmock.matching.paths import PENALTY, PathTemplate, RequestPath, levenshtein, path_rule
from postmock.matching.query import FULL_QUERY, ExampleQuery, score_query
from postmock.templating.variables import VariableScope

NEAREST = 5
DEFAULT_CONFIG = MatchConfig()
BODY_BONUS = 5.0
#: The base score of every candidate (Postman's algorithm starts each example at 100).
BASE_SCORE = 100.0
#: The best a candidate can score before its path rule and body bonus: the base plus a
#: full query match (`query.FULL_QUERY`).
BEST_BEFORE_PATH = BASE_SCORE + FULL_QUERY
_UID = re.compile(r"^[0-9]+-(.+)$")  # `<owner>-<id>`, Postman's uid form
# Rank of a rejection: the later the stage that dropped an example, the nearer it came.
_STAGE_RANK: dict[Stage, int] = {
    "body": 0,
    "header": 1,
    "query": 2,
    "code": 3,
    "method": 4,
    "path": 5,
}


@dataclass(eq=False)
class Compiled:
    """One example with everything matching needs, resolved once."""

    example: Example
    method: str
    path: PathTemplate
    query: ExampleQuery
    headers: dict[str, tuple[str, ...]]
    body: ExampleBody

    @classmethod
    def build(cls, example: Example, scope: VariableScope) -> Compiled:
        req = example.request
        return cls(
            example=example,
            method=req.method.upper(),
            path=PathTemplate.build(req.url.host, req.url.path, scope, _saved(req.url.variables)),
            query=ExampleQuery.build(req.url.query, scope),
            headers=header_map(req.headers, scope),
            body=ExampleBody(req.body, declared_type(req.headers, req.body, scope), scope),
        )


def _saved(variables: Iterable[KeyValue]) -> dict[str, str]:
    """Saved path-variable values by name (the first enabled one of a name)."""
    out: dict[str, str] = {}
    for v in variables:
        if not v.disabled:
            out.setdefault(v.key, v.value)
    return out


@dataclass
class _Ctx:
    """Per-request state: parsed path, options after the x-mock-* overrides."""

    request: IncomingRequest
    path: RequestPath
    headers: Mapping[str, str]  # lower-cased keys
    body: RequestBody
    match_body: bool
    match_headers: tuple[str, ...]


def _lower_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    if isinstance(headers, (CIMultiDict, CIMultiDictProxy)):
        return headers  # already case-insensitive
    out: dict[str, str] = {}
    for key, value in headers.items():
        out.setdefault(key.lower(), value)
    return out


def _tie_key(c: Compiled) -> tuple[bool, int]:
    return (c.example.code != 200, c.example.index)


def _first(cands: Iterable[Compiled]) -> Compiled | None:
    """The first with code 200, else the first, in file order."""
    return min(cands, key=_tie_key, default=None)


class MatchIndex:
    """Every example of a collection, indexed by method and path shape."""

    def __init__(self, compiled: list[Compiled], config: MatchConfig) -> None:
        self.config = config
        self._compiled = compiled
        self._paths: dict[str, PathIndex[Compiled]] = {}
        self._ids: dict[str, list[Compiled]] = {}
        self._names: dict[str, list[Compiled]] = {}
        self._by_example = {id(c.example): c for c in compiled}
        for c in compiled:
            self._paths.setdefault(c.method, PathIndex()).add(c.path, c)
            self._names.setdefault(c.example.name, []).append(c)
            if c.example.id:
                self._ids.setdefault(c.example.id, []).append(c)
                uid = _UID.match(c.example.id)
                if uid is not None:  # stored as a uid: the bare id names it too
                    self._ids.setdefault(uid.group(1), []).append(c)

    @classmethod
    def compile(
        cls, collection: Collection, scope: VariableScope, config: MatchConfig = DEFAULT_CONFIG
    ) -> MatchIndex:
        """Resolve and index every example of the collection once."""
        return cls([Compiled.build(ex, scope) for ex in collection.examples], config)

    @property
    def examples(self) -> tuple[Example, ...]:
        """Every indexed example, in file order."""
        return tuple(c.example for c in self._compiled)

    def find_name(self, name: str) -> Example | None:
        """The example with that name (any method): the first with code 200, else the first."""
        found = _first(self._names.get(name, ()))
        return None if found is None else found.example

    def find_id(self, wanted: str) -> Example | None:
        """The example with that id (bare or `<owner>-<id>` uid form), as x-mock-response-id."""
        found = _first(self._by_id(wanted.strip()))
        return None if found is None else found.example

    # -- matching ---------------------------------------------------------------------

    def match(self, request: IncomingRequest) -> Match | Miss:
        """Choose the example that answers `request`, or explain why none does."""
        method = request.method.upper()
        headers = _lower_headers(request.headers)
        code: int | None = None
        code_text = headers.get("x-mock-response-code")
        if code_text is not None:
            try:
                code = int(code_text.strip())
            except ValueError:
                return Miss("noMatch", f"x-mock-response-code {code_text!r} is not a status code")
        ctx = _Ctx(
            request=request,
            path=RequestPath.parse(request.path),
            headers=headers,
            body=RequestBody(request.body, request.content_type or headers.get("content-type", "")),
            match_body=self.config.match_body,
            match_headers=tuple(h.strip().lower() for h in self.config.match_headers if h.strip()),
        )
        flag = headers.get("x-mock-match-request-body")
        if flag is not None and flag.strip().lower() in ("true", "false"):
            ctx.match_body = flag.strip().lower() == "true"
        listed = headers.get("x-mock-match-request-headers")
        if listed is not None:
            ctx.match_headers = tuple(h.strip().lower() for h in listed.split(",") if h.strip())

        wanted_id = headers.get("x-mock-response-id")
        if wanted_id is not None:
            return self._pick(ctx, method, code, self._by_id(wanted_id.strip()), "responseId")
        wanted_name = headers.get("x-mock-response-name")
        if wanted_name is not None:
            named = self._names.get(wanted_name.strip(), [])
            return self._pick(ctx, method, code, named, "responseName")
        return self._search(ctx, method, code)

    def _by_id(self, wanted: str) -> list[Compiled]:
        found = self._ids.get(wanted)
        if found is None:
            uid = _UID.match(wanted)
            found = self._ids.get(uid.group(1)) if uid is not None else None
        return found or []

    def _pick(
        self, ctx: _Ctx, method: str, code: int | None, named: list[Compiled], rule: MatchRule
    ) -> Match | Miss:
        """x-mock-response-id/-name: that example, after the method and code filters."""
        kept = [c for c in named if c.method == method and (code is None or c.example.code == code)]
        chosen = _first(kept)
        if chosen is None:
            what = "id" if rule == "responseId" else "name"
            asked = ctx.headers.get(f"x-mock-response-{what}", "")
            rejections = tuple(
                Rejection(c.example, "method", f"method {c.method}, request is {method}")
                if c.method != method
                else Rejection(c.example, "code", f"code {c.example.code}, asked for {code}")
                for c in named[:NEAREST]
            )
            reason: MissReason = "unknownId" if rule == "responseId" else "unknownName"
            return Miss(reason, f"no {method} example with {what} {asked.strip()!r}", rejections)
        # Scored like any match when the path also fits, so captures still work.
        found = self._score(ctx, chosen, path_rule(chosen.path, ctx.path), check=False)
        if isinstance(found, Match):
            return Match(chosen.example, found.score, rule, found.captures)
        return Match(chosen.example, 0.0, rule, {})

    def _rank(self, m: Match) -> tuple[float, bool, int, int]:
        """Highest score; tie: code 200 first, then the most literal path, then file order.

        The "most literal" step is postmock's (docs/decisions.md): without it
        `/runners/downloads` and `/runners/:id` tie on a wildcard match and the first in
        the file wins, so a literal route written after a wildcard one is unreachable.
        """
        wild = self._by_example[id(m.example)].path.wild_count
        return (-m.score, m.example.code != 200, wild, m.example.index)

    def _search(self, ctx: _Ctx, method: str, code: int | None) -> Match | Miss:
        paths = self._paths.get(method)
        rejections: list[Rejection] = []
        winners: list[Match] = []
        if paths is not None:
            seen: set[int] = set()
            bonus = 0.0 if ctx.match_body else BODY_BONUS
            tiers = ((paths.literal, 0), (paths.wildcard, -20), (paths.ids, -21))
            for lookup, best_penalty in tiers:
                # A tier whose best possible score cannot beat the leader is skipped
                # (a tie is still looked at: the tie-break may favour it).
                if (
                    winners
                    and max(m.score for m in winners) > BEST_BEFORE_PATH + best_penalty + bonus
                ):
                    break
                for c in sorted(lookup(ctx.path), key=lambda c: c.example.index):
                    if id(c) in seen:
                        continue
                    seen.add(id(c))
                    rule = path_rule(c.path, ctx.path)
                    if rule is not None:
                        self._consider(ctx, c, rule, code, winners, rejections)
            if not winners and self.config.fuzzy:  # document distance: a last resort
                for c in sorted(paths.fuzzy(ctx.path), key=lambda c: c.example.index):
                    self._consider(ctx, c, "documentDistance", code, winners, rejections)
        if winners:
            return min(winners, key=self._rank)
        nearest = self._nearest(ctx, method, paths, rejections)
        message = f"no example matches {method} {ctx.path.display}"
        return Miss("noMatch", message, nearest)

    def _consider(
        self,
        ctx: _Ctx,
        c: Compiled,
        rule: MatchRule,
        code: int | None,
        winners: list[Match],
        rejections: list[Rejection],
    ) -> None:
        if code is not None and c.example.code != code:
            rejections.append(
                Rejection(c.example, "code", f"code {c.example.code}, asked for {code}")
            )
            return
        found = self._score(ctx, c, rule, check=True)
        if isinstance(found, Match):
            winners.append(found)
        else:
            rejections.append(found)

    def _score(
        self, ctx: _Ctx, c: Compiled, rule: MatchRule | None, *, check: bool
    ) -> Match | Rejection:
        """100 + path rule + query (+ body bonus); with `check`, header/body filters first."""
        if check and ctx.match_headers:
            diff = header_difference(c.headers, ctx.headers, ctx.match_headers)
            if diff is not None:
                return Rejection(c.example, "header", diff)
        equal = bodies_equal(c.body, ctx.body)
        # No body on either side: there is no Content-Type to compare (a GET whose saved
        # request says "raw, json" but is empty must still match a bodiless GET).
        no_bodies = c.body.empty and not ctx.body.body
        if check and ctx.match_body and not no_bodies:
            if c.body.media != ctx.body.media and (c.body.comparable or c.body.media):
                shown = c.body.media or "none"
                detail = f"body content type {shown} differs from {ctx.body.media or 'none'}"
                return Rejection(c.example, "body", detail)
            if not equal and c.body.comparable:
                return Rejection(c.example, "body", "body differs from the example's request body")
        if rule is None:
            return Rejection(c.example, "path", "path differs")
        query = score_query(c.query, ctx.request.query)
        score = BASE_SCORE + PENALTY[rule] + query.score
        if equal and not ctx.match_body:
            score += BODY_BONUS
        captures = c.path.captures(ctx.path)
        for name, value in query.captures:
            captures.setdefault(name, value)
        return Match(c.example, score, rule, captures)

    def _nearest(
        self,
        ctx: _Ctx,
        method: str,
        paths: PathIndex[Compiled] | None,
        rejections: list[Rejection],
    ) -> tuple[Rejection, ...]:
        """Up to NEAREST examples that came closest, each with the reason it lost.

        Order: those dropped at a later stage first (body, header, code), then other
        methods on the same path, then same-method paths nearest by segment edit
        distance, then other methods' nearest paths.
        """
        found = sorted(rejections, key=lambda r: _STAGE_RANK[r.stage])
        for other, index in self._paths.items():
            if other != method:
                for c in index.literal(ctx.path) + index.wildcard(ctx.path):
                    if path_rule(c.path, ctx.path) is not None:
                        found.append(
                            Rejection(
                                c.example, "method", f"method {c.method}, request is {method}"
                            )
                        )
        if len(found) < NEAREST:
            here = ctx.path.display
            near = paths.near(ctx.path, NEAREST) if paths is not None else []
            found += [
                Rejection(c.example, "path", f"path {here} differs from {c.path.display}")
                for c in self._by_distance(ctx, near)
            ]
        if len(found) < NEAREST:
            near = [
                c for m, i in self._paths.items() if m != method for c in i.near(ctx.path, NEAREST)
            ]
            found += [
                Rejection(
                    c.example,
                    "method",
                    f"method {c.method}, request is {method}; path {c.path.display} differs",
                )
                for c in self._by_distance(ctx, near)
            ]
        seen: set[int] = set()
        out: list[Rejection] = []
        for r in found:
            if r.example.index not in seen:
                seen.add(r.example.index)
                out.append(r)
        return tuple(out[:NEAREST])

    @staticmethod
    def _by_distance(ctx: _Ctx, near: list[Compiled]) -> list[Compiled]:
        # Segment-level edit distance: cheap, and "one segment differs" is what users see.
        return sorted(
            near, key=lambda c: (levenshtein(c.path.folds, ctx.path.folds), c.example.index)
        )

    # -- an example's own request ---------------------------------------------------------

    def route_of(self, example: Example) -> tuple[str, str]:
        """The method and path an example answers, variables resolved (`GET /v1/pets/:petId`)."""
        c = self._by_example[id(example)]
        return c.method, c.path.display

    def request_for(self, example: Example) -> IncomingRequest:
        """The request an example answers, as a client would send it (no x-mock-* headers)."""
        return _own_request(self._by_example[id(example)])


def _own_request(c: Compiled) -> IncomingRequest:
    path = "/" + "/".join(quote(t, safe="") for t in c.path.texts)
    query = c.query.pairs + tuple((k, "{{" + name + "}}") for k, name in c.query.wild)
    headers: CIMultiDict[str] = CIMultiDict()
    for key, values in c.headers.items():
        if not key.startswith("x-mock-"):
            headers[key] = values[0]
    content_type = headers.get("content-type", "")
    if c.body.mode == "formdata":
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
    elif not content_type and not c.body.empty:
        content_type = c.body.media
    if content_type:
        headers["content-type"] = content_type
    target = path + ("?" + urlencode(query) if query else "")
    return IncomingRequest.from_parts(c.method, target, headers, c.body.to_bytes())


def shadowed_examples(index: MatchIndex) -> list[tuple[Example, Example]]:
    """Examples never chosen without an x-mock-* header: (the shadowed one, the winner).

    Only examples sharing method, path and query can shadow each other; for each one its
    own request is matched and, when another example of that group wins, it is shadowed.
    """
    groups: dict[tuple[object, ...], list[Compiled]] = {}
    for c in index._compiled:
        key = (c.method, c.path.texts, tuple(sorted(c.query.pairs)), tuple(sorted(c.query.wild)))
        groups.setdefault(key, []).append(c)
    out: list[tuple[Example, Example]] = []
    for group in groups.values():
        if len(group) < 2:
            continue
        members = {id(c.example) for c in group}
        for c in group:
            result = index.match(_own_request(c))
            if (
                isinstance(result, Match)
                and result.example is not c.example
                and id(result.example) in members
            ):
                out.append((c.example, result.example))
    return out
