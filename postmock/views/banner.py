"""What `serve` says on start: where it listens, what it serves, the routes; and the header
panel that keeps this on screen above the live call table, with counters.

Prism lists its routes on start and users check them first; on a collection with
hundreds of them (GitHub: 600) the list is folded after `ROUTES_SHOWN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from postmock.calllog.record import CallRecord
from postmock.collection.model import Collection
from postmock.matching import MatchIndex
from postmock.views.cells import MiddleCut

#: Up to this many routes are listed in full; more are folded to `ROUTES_SHOWN`.
ROUTES_FOLD_AFTER: Final = 24
ROUTES_SHOWN: Final = 20
METHOD_STYLES: Final = {
    "GET": "green",
    "POST": "yellow",
    "PUT": "blue",
    "PATCH": "cyan",
    "DELETE": "red",
}


@dataclass(frozen=True)
class Route:
    """One method and path the mock answers, and how many examples answer it."""

    method: str
    path: str
    examples: int


def routes(collection: Collection, index: MatchIndex) -> list[Route]:
    """The routes served, in file order: each example's method and path as the engine
    compiled them (variables resolved, so `{{baseUrl}}`'s `/v1` shows), grouped."""
    counts: dict[tuple[str, str], int] = {}
    for example in collection.examples:
        key = index.route_of(example)
        counts[key] = counts.get(key, 0) + 1
    return [Route(method, path, n) for (method, path), n in counts.items()]


def fold(all_routes: list[Route]) -> tuple[list[Route], int]:
    """The routes to list and how many are left out."""
    if len(all_routes) <= ROUTES_FOLD_AFTER:
        return all_routes, 0
    return all_routes[:ROUTES_SHOWN], len(all_routes) - ROUTES_SHOWN


def routes_renderable(all_routes: list[Route]) -> RenderableType:
    """The routes as a compact table for a terminal, folded when there are many."""
    shown, rest = fold(all_routes)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_column(justify="right", style="dim", no_wrap=True)
    for route in shown:
        style = f"bold {METHOD_STYLES.get(route.method, 'magenta')}"
        grid.add_row(Text(route.method, style=style), MiddleCut(route.path), _examples(route))
    parts: list[RenderableType] = [Text(f"{len(all_routes)} routes", style="bold"), grid]
    if rest:
        parts.append(Text(f"… and {rest} more", style="dim"))
    return Group(*parts)


def routes_lines(all_routes: list[Route]) -> list[str]:
    """The routes as plain lines (piped output), folded when there are many."""
    shown, rest = fold(all_routes)
    lines = [f"{len(all_routes)} routes:"]
    lines += [f"  {r.method} {r.path} ({_examples(r)})" for r in shown]
    if rest:
        lines.append(f"  … and {rest} more")
    return lines


def _examples(route: Route) -> str:
    return f"{route.examples} example{'s' if route.examples != 1 else ''}"


@dataclass(frozen=True)
class BannerInfo:
    """What the header says about the server."""

    collection: str
    url: str
    examples: int
    requests: int
    api_keys: int = 0
    workers: int = 1
    #: `--upstream` (without credentials): where unmatched calls go
    upstream: str = ""

    def summary(self) -> str:
        """`Pet Store — 12 examples from 5 requests`, with privacy, workers and upstream."""
        text = f"{self.collection} — {self.examples} examples from {self.requests} requests"
        if self.api_keys:
            text += f", private ({self.api_keys} key(s))"
        if self.workers > 1:
            text += f", {self.workers} worker processes"
        if self.upstream:
            text += f", unmatched calls go to {self.upstream}"
        return text


@dataclass
class Counters:
    """Calls seen by the live view: all, misses (404, no example matched), errors."""

    calls: int = 0
    misses: int = 0
    errors: int = 0

    def add(self, record: CallRecord) -> None:
        """Count one call (O(1): the hot path's listener calls this)."""
        self.calls += 1
        if record.response_type == "noMatch":
            self.misses += 1
        elif record.response_type == "error":
            self.errors += 1


def header_panel(info: BannerInfo, counters: Counters) -> Panel:
    """The panel above the live table: where, what, and the counters."""
    where = Text.assemble("listening on ", (info.url, "bold cyan"), ("   Ctrl-C to stop", "dim"))
    counts = Text.assemble(
        ("calls ", "dim"),
        (str(counters.calls), "bold"),
        ("   misses ", "dim"),
        (str(counters.misses), "bold yellow" if counters.misses else "bold"),
        ("   errors ", "dim"),
        (str(counters.errors), "bold red" if counters.errors else "bold"),
    )
    return Panel(
        Group(Text(info.summary(), no_wrap=True, overflow="ellipsis"), where, counts),
        title="postmock",
        title_align="left",
        box=box.ROUNDED,
        expand=False,
    )


__all__ = [
    "BannerInfo",
    "Counters",
    "Route",
    "fold",
    "header_panel",
    "routes",
    "routes_lines",
    "routes_renderable",
]
