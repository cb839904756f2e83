"""Which control headers reach an example that its own request does not choose.

Postman mocks pick one example per route; the others (404s, 500s…) are meant to be asked
for with `x-mock-response-code`, or told apart by request body or headers
(`x-mock-match-request-body`, `x-mock-match-request-headers`). Only an example none of
these reach — same route and same code as one that always wins — is worth a warning, and
then the message names the header that does reach it (`-name` or `-id`), if any.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from multidict import CIMultiDict, CIMultiDictProxy

from postmock.collection.model import Example
from postmock.matching import IncomingRequest, Match, MatchIndex, shadowed_examples


@dataclass(frozen=True)
class Reach:
    """One example its own request does not choose, and what does reach it.

    `headers` is the smallest set of control headers tried that selects it; `routine` says
    whether they are the routine kind (code, body or header matching) that needs no
    warning, or only `x-mock-response-name`/`-id`. `headers == ()` means nothing reaches it.
    """

    example: Example
    winner: Example
    headers: tuple[tuple[str, str], ...]
    routine: bool

    @property
    def how(self) -> str:
        """`x-mock-response-code: 404` (several joined with ` + `), or "no header"."""
        return " + ".join(f"{k}: {v}" for k, v in self.headers) or "no header"


def _with(request: IncomingRequest, extra: dict[str, str]) -> IncomingRequest:
    headers: CIMultiDict[str] = CIMultiDict(request.headers)
    for key, value in extra.items():
        headers[key] = value
    return replace(request, headers=CIMultiDictProxy(headers))


def _routine_tries(example: Example, request: IncomingRequest) -> Iterator[dict[str, str]]:
    """The routine header sets, cheapest first: code, then body and header matching."""
    code = {"x-mock-response-code": str(example.code)}
    yield code
    yield {**code, "x-mock-match-request-body": "true"}
    keys = sorted({k.lower() for k in request.headers if not k.lower().startswith("x-mock-")})
    if keys:
        listed = ",".join(keys)
        yield {**code, "x-mock-match-request-headers": listed}
        yield {**code, "x-mock-match-request-body": "true", "x-mock-match-request-headers": listed}


def _chosen(index: MatchIndex, request: IncomingRequest) -> Example | None:
    result = index.match(request)
    return result.example if isinstance(result, Match) else None


def _picked(index: MatchIndex, request: IncomingRequest, example: Example) -> bool:
    return _chosen(index, request) is example


def _shown(value: str) -> bool:
    """A header value a client can send: no line breaks or other control characters."""
    return value == value.strip() and all(ch >= " " and ch != "\x7f" for ch in value)


def reach(index: MatchIndex, example: Example, winner: Example) -> Reach:
    """What reaches `example`, which loses its own request to `winner`.

    The winner reported is the one that still wins when its code is asked for (the
    example it shares route and code with), else `winner`.
    """
    own = index.request_for(example)
    for n, extra in enumerate(_routine_tries(example, own)):
        chosen = _chosen(index, _with(own, extra))
        if chosen is example:
            return Reach(example, winner, tuple(extra.items()), routine=True)
        if n == 0 and chosen is not None:
            winner = chosen
    code = ("x-mock-response-code", str(example.code))
    for key, value in (("x-mock-response-name", example.name), ("x-mock-response-id", example.id)):
        if not value or not _shown(value):
            continue
        for extra in ({key: value}, dict([(key, value), code])):
            if _picked(index, _with(own, extra), example):
                return Reach(example, winner, tuple(extra.items()), routine=False)
    return Reach(example, winner, (), routine=False)


def unreachable(index: MatchIndex) -> list[Reach]:
    """Examples that no routine control header reaches (only `-name`/`-id`, or nothing)."""
    found = (reach(index, loser, winner) for loser, winner in shadowed_examples(index))
    return [r for r in found if not r.routine]
