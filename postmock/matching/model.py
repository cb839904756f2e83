"""The matching engine's inputs and results: config, incoming request, Match, Miss, Rejection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from multidict import CIMultiDict, CIMultiDictProxy

from postmock.collection.model import Example

MatchRule = Literal[
    "exact",
    "trailingSlash",
    "caseInsensitive",
    "trailingSlashCaseInsensitive",
    "wildcard",
    "idReplaced",
    "trailingSlashIdReplaced",
    "documentDistance",
    "responseId",
    "responseName",
    "serverResponse",
]
MissReason = Literal["noMatch", "unknownId", "unknownName"]
Stage = Literal["method", "code", "path", "query", "header", "body"]


@dataclass(frozen=True)
class MatchConfig:
    """The mock's response-matching settings (per-request x-mock-* headers override them)."""

    match_body: bool = False
    match_headers: tuple[str, ...] = ()
    fuzzy: bool = True  # the "document distance" rule; off = predictable matching only


@dataclass(frozen=True)
class IncomingRequest:
    """A request as the server received it: `path` percent-encoded, `query` pairs decoded."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # case-insensitive lookups
    body: bytes = b""
    content_type: str = ""

    @classmethod
    def from_parts(
        cls,
        method: str,
        path_qs: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | str = b"",
    ) -> IncomingRequest:
        """Build one from a raw `/path?query` target; the query is split and decoded."""
        target = path_qs
        if "://" in target.split("?", 1)[0]:  # absolute-form target (proxies): keep the path
            parts = urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        target = target.split("#", 1)[0]
        path, _, query_text = target.partition("?")
        # keep_blank_values: `?flag` and `?a=` are parameters too; bad escapes never raise.
        query = tuple(parse_qsl(query_text, keep_blank_values=True, errors="replace"))
        ci: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(headers or {}))
        raw = body.encode("utf-8") if isinstance(body, str) else body
        return cls(
            method=method.upper(),
            path=path or "/",
            query=query,
            headers=ci,
            body=raw,
            content_type=ci.get("Content-Type", ""),
        )


@dataclass(frozen=True)
class Match:
    """The example chosen, its score, the path rule that matched, and wildcard captures."""

    example: Example
    score: float
    rule: MatchRule
    captures: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    """Why one example lost: the stage that dropped it and a one-line explanation."""

    example: Example
    stage: Stage
    detail: str


@dataclass(frozen=True)
class Miss:
    """No example answers the request; `nearest` says which came close and why they lost."""

    reason: MissReason
    message: str
    nearest: tuple[Rejection, ...] = ()
