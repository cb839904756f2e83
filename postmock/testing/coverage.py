"""`postmock coverage`: which saved examples a test suite's calls were served, which never.

Calls say which example answered by name: the request's label (`Folder › Request`,
`requestName`) and the example's name (`responseName`). Two examples with the same
request label and name cannot be told apart; their calls count for the first in file
order (`postmock validate` warns about duplicate example names).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postmock.calllog.filter import CallFilter
from postmock.calllog.record import CallRecord
from postmock.collection import Collection, load_collection


@dataclass(frozen=True)
class ExampleCoverage:
    """One saved example and how many calls it served."""

    request: str  # the request's label, "Folder › Request"
    name: str
    location: str  # its JSON path in the collection file
    calls: int


@dataclass(frozen=True)
class CoverageReport:
    """Every example of a collection with its call count, in file order."""

    collection: str
    examples: tuple[ExampleCoverage, ...]
    unmatched: int  # calls no example answered
    elsewhere: int  # calls answered by an example this collection does not have

    @property
    def total(self) -> int:
        return len(self.examples)

    @property
    def served(self) -> int:
        return sum(1 for e in self.examples if e.calls)

    @property
    def percent(self) -> float:
        """Share of the examples served at least once (100 for a collection without any)."""
        return round(100 * self.served / self.total, 1) if self.total else 100.0

    @property
    def never_served(self) -> list[ExampleCoverage]:
        return [e for e in self.examples if not e.calls]

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "total": self.total,
            "served": self.served,
            "percent": self.percent,
            "unmatchedCalls": self.unmatched,
            "otherCalls": self.elsewhere,
            "examples": [
                {"request": e.request, "name": e.name, "location": e.location, "calls": e.calls}
                for e in self.examples
            ],
        }


def measure(collection: Collection, calls: Iterable[CallRecord]) -> CoverageReport:
    """Count each example's calls among `calls`."""
    order: list[tuple[str, str, str]] = []  # (request label, example name, location)
    by_key: dict[tuple[str, str], int] = {}
    by_name: dict[str, list[int]] = {}  # records without a request name (older stores)
    for item in collection.items:
        for example in item.examples:
            position = len(order)
            order.append((item.label, example.name, example.location))
            by_key.setdefault((item.label, example.name), position)
            by_name.setdefault(example.name, []).append(position)
    counts = [0] * len(order)
    unmatched = elsewhere = 0
    for record in calls:
        if record.response_type != "example" or record.response_name is None:
            unmatched += record.response_type == "noMatch"
            continue
        found: int | None = by_key.get((record.request_name or "", record.response_name))
        if found is None and not record.request_name:
            candidates = by_name.get(record.response_name, [])
            found = candidates[0] if len(candidates) == 1 else None
        if found is None:
            elsewhere += 1
        else:
            counts[found] += 1
    examples = tuple(
        ExampleCoverage(request, name, location, count)
        for (request, name, location), count in zip(order, counts, strict=True)
    )
    return CoverageReport(collection.name, examples, unmatched, elsewhere)


def read_calls(*, url: str, db: Path | None, api_key: str | None) -> list[CallRecord]:
    """Every kept call: of the store file `db`, else of the server at `url`."""
    from postmock.views.logs import DbSource, HttpSource

    source = DbSource(db) if db is not None else HttpSource(url, api_key)
    try:
        return source.history(CallFilter(), sys.maxsize)
    finally:
        source.close()


def coverage(
    collection: Path, *, url: str, db: Path | None = None, api_key: str | None = None
) -> CoverageReport:
    """Load `collection` and measure it against the calls kept at `db` or `url`."""
    return measure(load_collection(collection), read_calls(url=url, db=db, api_key=api_key))


def render_text(report: CoverageReport) -> str:
    """The report for a person: per request, its examples and their calls; then the gaps."""
    lines = [
        f"{report.collection}: {report.served} of {report.total} examples served "
        f"({report.percent:g}%)"
    ]
    request = None
    for e in report.examples:
        if e.request != request:
            request = e.request
            total = sum(x.calls for x in report.examples if x.request == request)
            lines.append(f"  {request} — {total} call{'s' if total != 1 else ''}")
        mark = "✓" if e.calls else "✗"
        lines.append(f"    {mark} {e.name or '(unnamed)'}: {e.calls}  ({e.location})")
    never = report.never_served
    if never:
        lines.append(f"Never served ({len(never)}):")
        lines += [f"  {e.request} › {e.name or '(unnamed)'}  ({e.location})" for e in never]
    if report.unmatched:
        hint = "`postmock logs --status 404` shows them"
        lines.append(f"{report.unmatched} call(s) matched no example ({hint})")
    if report.elsewhere:
        lines.append(f"{report.elsewhere} call(s) were served by examples not in this collection")
    return "\n".join(lines)
