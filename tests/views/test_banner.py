"""The start-up routes list (folded when long) and the header panel, on real collections."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from postmock.collection import Collection, load_collection, load_environment
from postmock.matching import MatchIndex
from postmock.templating.variables import VariableScope
from postmock.views.banner import (
    ROUTES_FOLD_AFTER,
    ROUTES_SHOWN,
    BannerInfo,
    Counters,
    Route,
    header_panel,
    routes,
    routes_lines,
    routes_renderable,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"
GITHUB = "kevinswiber__postman2openapi__github.postman.json"


def compiled(path: Path, environment: Path | None = None) -> tuple[Collection, MatchIndex]:
    collection = load_collection(path)
    env = load_environment(environment) if environment else None
    return collection, MatchIndex.compile(collection, VariableScope.build(collection, env))


def test_routes_of_the_sample_resolve_variables_and_group_examples() -> None:
    collection, index = compiled(
        SAMPLE / "petstore.postman_collection.json", SAMPLE / "petstore.postman_environment.json"
    )
    found = routes(collection, index)
    assert sum(r.examples for r in found) == len(collection.examples)
    assert len({(r.method, r.path) for r in found}) == len(found)  # grouped: no repeats
    assert Route("GET", "/v1/pets/:petId", 1) in found  # {{baseUrl}} holds the /v1


def test_short_route_lists_are_not_folded() -> None:
    few = [Route("GET", f"/r/{i}", 1) for i in range(ROUTES_FOLD_AFTER)]
    lines = routes_lines(few)
    assert lines[0] == f"{ROUTES_FOLD_AFTER} routes:"
    assert len(lines) == ROUTES_FOLD_AFTER + 1
    assert "more" not in lines[-1]


def test_github_routes_are_folded(corpus_dir: Path) -> None:
    found = routes(*compiled(corpus_dir / "collections" / GITHUB))
    assert len(found) > ROUTES_FOLD_AFTER
    assert sum(r.examples for r in found) == 1579
    lines = routes_lines(found)
    assert len(lines) == 1 + ROUTES_SHOWN + 1
    assert lines[-1] == f"  … and {len(found) - ROUTES_SHOWN} more"
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(routes_renderable(found))
    text = buffer.getvalue()
    assert f"{len(found)} routes" in text and f"… and {len(found) - ROUTES_SHOWN} more" in text
    assert len(text.splitlines()) == ROUTES_SHOWN + 2  # one line per route, never wrapped


@pytest.mark.parametrize("tty", [True, False], ids=["tty", "piped"])
def test_header_panel(tty: bool) -> None:
    info = BannerInfo("GitHub v3 REST API", "http://127.0.0.1:3000", 1579, 623, api_keys=1)
    counters = Counters(calls=20, misses=3, errors=1)
    buffer = io.StringIO()
    out = Console(
        file=buffer, width=100, force_terminal=tty, color_system="standard" if tty else None
    )
    out.print(header_panel(info, counters))
    text = buffer.getvalue()
    assert ("\x1b[" in text) is tty
    assert "GitHub v3 REST API — 1579 examples from 623 requests, private (1 key(s))" in text
    assert "http://127.0.0.1:3000" in text
