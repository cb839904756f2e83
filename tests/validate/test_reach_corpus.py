"""The shadowed lint on real collections: only examples no routine header reaches.

Before reach.py every non-default example was reported (GitHub 956, PayPal Public 227,
Box 102): those are what `x-mock-response-code` is for.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from postmock.collection.loader import load_collection
from postmock.matching import Match, MatchIndex, shadowed_examples
from postmock.templating.variables import VariableScope
from postmock.validate.reach import reach, unreachable
from postmock.validate.run import validate_file

pytestmark = pytest.mark.corpus

# file -> shadowed warnings now (the corpus is fixed; a change here is a change in matching)
EXPECTED = {
    "kevinswiber__postman2openapi__github.postman.json": 0,
    # 26 before #13: six examples told apart only by a saved path-variable value are
    # reachable since (behaviour doc §2, saved path-variable values)
    "paypal__postman-collections__PayPal_Public_APIs.json": 20,
    "box__box-postman__box-collection.json": 0,
}


def index_of(corpus_dir: Path, name: str) -> MatchIndex:
    collection = load_collection(corpus_dir / "collections" / name)
    return MatchIndex.compile(collection, VariableScope.build(collection))


def chosen(index: MatchIndex, example: object, headers: tuple[tuple[str, str], ...]) -> object:
    request = index.request_for(example)  # type: ignore[arg-type]
    merged: CIMultiDict[str] = CIMultiDict(request.headers)
    merged.update(dict(headers))
    result = index.match(replace(request, headers=CIMultiDictProxy(merged)))
    return result.example if isinstance(result, Match) else None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shadowed_counts(corpus_dir: Path, name: str) -> None:
    report = validate_file(corpus_dir / "collections" / name)
    shadowed = [f for f in report.findings if f.code == "shadowed"]
    assert len(shadowed) == EXPECTED[name]
    for finding in shadowed:
        assert "reaches it" in finding.message and " › " in finding.where


def test_every_verdict_holds_on_paypal(corpus_dir: Path) -> None:
    """Re-ask the engine: warned ones lose even with their code, the rest are reached."""
    index = index_of(corpus_dir, "paypal__postman-collections__PayPal_Public_APIs.json")
    pairs = shadowed_examples(index)
    warned = {id(r.example) for r in unreachable(index)}
    assert len(pairs) == 152 and len(warned) == 20  # 227 and 26 before saved values (#13)
    for loser, winner in pairs:
        found = reach(index, loser, winner)
        asked = chosen(index, loser, (("x-mock-response-code", str(loser.code)),))
        if id(loser) in warned:
            assert asked is not loser
            assert found.winner is asked and found.winner.code == loser.code
            if found.headers:  # the header the message names does reach it
                assert chosen(index, loser, found.headers) is loser
        else:
            assert chosen(index, loser, found.headers) is loser
            assert found.routine
