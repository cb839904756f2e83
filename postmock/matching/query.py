"""Query-parameter scoring (§3.4): matches, partials and missing keys as (key, value) pairs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from postmock.collection.model import KeyValue
from postmock.templating.variables import VARIABLE, VariableScope

Pairs = tuple[tuple[str, str], ...]


def _decode(text: str) -> str:
    # A saved value is text, not form-encoded: its `+` is a plus (`n=+15551234`).
    return unquote(text, errors="replace") if "%" in text else text


def _fold(pair: tuple[str, str]) -> tuple[str, str]:
    """The form both sides compare in: a `+` and a space are one character.

    Decision: a request's `+` may be a space (form encoding: parse_qsl reads it so) or a
    plus (`%2B`); a saved `+` is a plus. Folding both to a space lets `+15551234` saved
    match `%2B15551234` and a raw `+15551234`, and a saved space match `a+b`.
    """
    key, value = pair
    if "+" in key or "+" in value:
        return key.replace("+", " "), value.replace("+", " ")
    return pair


#: What a query that matches in full adds to an example's score.
FULL_QUERY = 10.0


@dataclass(frozen=True)
class ExampleQuery:
    """An example's enabled query parameters, resolved and decoded.

    Decision: a value that stays an unresolved `{{name}}` matches any value of its key,
    like a path wildcard, and the value is captured as `name`.
    """

    pairs: Pairs  # literal (key, value) pairs
    wild: tuple[tuple[str, str], ...]  # (key, capture name)
    folded: Pairs = ()  # `pairs` as compared (see `_fold`)

    @classmethod
    def build(cls, params: Iterable[KeyValue], scope: VariableScope) -> ExampleQuery:
        """Drop disabled params, resolve variables, percent-decode keys and values."""
        pairs: list[tuple[str, str]] = []
        wild: list[tuple[str, str]] = []
        for p in params:
            if p.disabled:
                continue
            key, value = _decode(scope.resolve(p.key)), scope.resolve(p.value)
            whole = VARIABLE.fullmatch(value)
            if whole is not None and not whole.group(1).startswith("$"):
                wild.append((key, whole.group(1)))
            else:
                pairs.append((key, _decode(value)))
        return cls(tuple(pairs), tuple(wild), tuple(_fold(p) for p in pairs))

    @property
    def empty(self) -> bool:
        return not self.pairs and not self.wild


@dataclass(frozen=True)
class QueryScore:
    """The query's contribution to the score, with its counts (for explanations)."""

    score: float
    matches: int
    partials: int
    missing: int
    captures: tuple[tuple[str, str], ...] = ()


def score_query(example: ExampleQuery, request: Pairs) -> QueryScore:
    """All match → +10; some → +10×m/(m+p+missing); none → −missing (at most −10)."""
    if example.empty and not request:
        return QueryScore(FULL_QUERY, 0, 0, 0)  # Decision: neither side has parameters = all match
    ex, req = Counter(example.folded), Counter(map(_fold, request))
    matched = ex & req
    matches = sum(matched.values())
    left_ex, left_req = ex - matched, req - matched
    captures: list[tuple[str, str]] = []
    for key, name in example.wild:  # a wildcard takes a leftover request value of its key
        folded = _fold((key, ""))[0]
        pair = next((p for p in left_req if p[0] == folded), None)
        if pair is None:
            left_ex[(folded, "{{" + name + "}}")] += 1
            continue
        left_req[pair] -= 1
        left_req += Counter()  # drop zero counts
        matches += 1
        # the value as the request sent it, not its folded form
        value = next((v for (k, v) in request if _fold((k, v)) == pair), pair[1])
        captures.append((name, value))
    keys_ex = Counter(k for (k, _), c in left_ex.items() for _ in range(c))
    keys_req = Counter(k for (k, _), c in left_req.items() for _ in range(c))
    partials = sum((keys_ex & keys_req).values())
    missing = sum(keys_ex.values()) + sum(keys_req.values()) - 2 * partials
    total = matches + partials + missing
    if matches and matches == total:
        score = FULL_QUERY
    elif matches:
        score = FULL_QUERY * matches / total
    else:
        score = -float(min(missing, 10))
    return QueryScore(score, matches, partials, missing, tuple(captures))
