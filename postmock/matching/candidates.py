"""The path index: candidates for a request found by lookups, never by scanning every example."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from postmock.matching.paths import (
    FUZZY_RATIO,
    PathTemplate,
    RequestPath,
    Segment,
    is_id,
    levenshtein,
)

T = TypeVar("T")


class _Node(Generic[T]):
    """A trie level: literal children by folded text first, then ID, wildcard, patterns."""

    __slots__ = ("literal", "ids", "wild", "patterns", "entries")

    def __init__(self) -> None:
        self.literal: dict[str, _Node[T]] = {}
        self.ids: _Node[T] | None = None
        self.wild: _Node[T] | None = None
        self.patterns: dict[str, tuple[Segment, _Node[T]]] = {}
        self.entries: list[T] = []

    def child(self, seg: Segment, collapse_ids: bool) -> _Node[T]:
        if seg.kind == "literal" or (seg.kind == "id" and not collapse_ids):
            return self.literal.setdefault(seg.fold, _Node())
        if seg.kind == "id":
            self.ids = self.ids or _Node()
            return self.ids
        if seg.kind == "wild":
            self.wild = self.wild or _Node()
            return self.wild
        return self.patterns.setdefault(seg.fold, (seg, _Node()))[1]

    def step(self, text: str, fold: str, text_is_id: bool) -> Iterator[_Node[T]]:
        """Children a request segment can lead to under any rule (a superset)."""
        node = self.literal.get(fold)
        if node is not None:
            yield node
        if self.ids is not None and text_is_id:
            yield self.ids
        if self.wild is not None and text:
            yield self.wild
        for seg, node in self.patterns.values():
            if seg.accepts(text, fold, False):
                yield node

    def walk_entries(self, limit: int) -> list[T]:
        """Up to `limit` entries of this subtree, nearest levels first."""
        out: list[T] = []
        level: list[_Node[T]] = [self]
        while level and len(out) < limit:
            nxt: list[_Node[T]] = []
            for node in level:
                out.extend(node.entries[: limit - len(out)])
                nxt.extend(node.literal.values())
                nxt.extend(n for n in (node.ids, node.wild) if n is not None)
                nxt.extend(n for _, n in node.patterns.values())
            level = nxt
        return out


def _grams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


class _Trie(Generic[T]):
    """Tries of segments, one per number of (stripped) segments."""

    def __init__(self, collapse_ids: bool) -> None:
        self.collapse_ids = collapse_ids
        self.roots: dict[int, _Node[T]] = {}

    def add(self, path: PathTemplate, entry: T) -> None:
        node = self.roots.setdefault(path.n, _Node())
        for seg in path.segments[: path.n]:
            node = node.child(seg, self.collapse_ids)
        node.entries.append(entry)

    def frontiers(self, n: int, r: RequestPath) -> Iterator[list[_Node[T]]]:
        """The nodes reached after each request segment, while any are."""
        root = self.roots.get(n)
        if root is None:
            return
        frontier = [root]
        yield frontier
        for text, fold in zip(r.texts[: r.n], r.folds[: r.n], strict=True):
            text_is_id = is_id(text)
            frontier = [nxt for node in frontier for nxt in node.step(text, fold, text_is_id)]
            if not frontier:
                return
            yield frontier

    def find(self, r: RequestPath) -> list[T]:
        """Entries at the end of every full walk of the request's segments."""
        reached: list[_Node[T]] = []
        for depth, frontier in enumerate(self.frontiers(r.n, r)):
            if depth == r.n:
                reached = frontier
        return [e for node in reached for e in node.entries]


class PathIndex(Generic[T]):
    """One method's entries, looked up in tiers so a request never scans them all.

    Tier 1 (rules 0 to −15): a dict keyed on the lower-cased, trailing-slash-stripped
    segments. Tier 2 (−20): a trie of the entries with wildcards. Tier 3 (−21, −25): a
    trie where every ID segment is one key. Document distance: entries bucketed by path
    length with their character bigrams, so most are ruled out without a Levenshtein.
    """

    def __init__(self) -> None:
        self._literal: dict[tuple[str, ...], list[T]] = {}
        self._wild: _Trie[T] = _Trie(collapse_ids=False)
        self._ids: _Trie[T] = _Trie(collapse_ids=True)
        self._fuzzy: dict[int, dict[str, tuple[frozenset[str], list[T]]]] = {}

    def add(self, path: PathTemplate, entry: T) -> None:
        """Index one entry under its path."""
        self._literal.setdefault(path.folds[: path.n], []).append(entry)
        if path.has_wild:
            self._wild.add(path, entry)
        self._ids.add(path, entry)  # every entry: the miss report walks it too
        by_len = self._fuzzy.setdefault(len(path.fuzzy_key), {})
        by_len.setdefault(path.fuzzy_key, (_grams(path.fuzzy_key), []))[1].append(entry)

    def literal(self, r: RequestPath) -> list[T]:
        """Tier 1: candidates for the exact, trailing-slash and case-insensitive rules."""
        return self._literal.get(r.folds[: r.n], [])

    def wildcard(self, r: RequestPath) -> list[T]:
        """Tier 2: candidates for the wildcard rule."""
        return self._wild.find(r)

    def ids(self, r: RequestPath) -> list[T]:
        """Tier 3: candidates for the ID-replacement rules."""
        return self._ids.find(r)

    def fuzzy(self, r: RequestPath) -> list[T]:
        """Entries within document distance; only lengths that can qualify are compared."""
        key = r.fuzzy_key
        size, grams = len(key), _grams(key)
        out: list[T] = []
        low, high = int(size * (1 - FUZZY_RATIO)), int(size / (1 - FUZZY_RATIO)) + 1
        for length in range(low, high + 1):
            limit = int(FUZZY_RATIO * max(size, length) + 1e-9)
            for other, (other_grams, entries) in self._fuzzy.get(length, {}).items():
                # One edit destroys at most two distinct bigrams: a cheap lower bound.
                if len(grams & other_grams) < max(len(grams), len(other_grams)) - 2 * limit:
                    continue
                if levenshtein(other, key, limit) <= limit:
                    out.extend(entries)
        return out

    def near(self, r: RequestPath, limit: int) -> list[T]:
        """A few entries per shape sharing the longest path prefix with the request (misses)."""
        out: list[T] = []
        for n in (r.n, r.n + 1, r.n - 1):
            deepest: list[_Node[T]] = []
            for frontier in self._ids.frontiers(n, r):
                deepest = frontier
            found: list[T] = []
            for node in deepest:
                found.extend(node.walk_entries(limit - len(found)))
                if len(found) >= limit:
                    break
            out.extend(found[:limit])
        return out
