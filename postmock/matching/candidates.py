"""The path index: candidates for a request found by lookups, never by scanning every example."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain
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
#: Document distance stops after this many paths within distance, taken in order of
#: shared bigrams (most first; ties: file order). Decision (docs/decisions.md): without
#: it, a near miss on a big collection of look-alike paths computes hundreds of edit
#: distances (~100 ms); all of them match with the same score, so the tie-break would
#: pick by file order among look-alikes anyway. With it, the winner is one of the 16 most
#: similar paths. A miss (no path within distance) still compares every candidate.
FUZZY_CAP = 16


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
        """The first `limit` entries of this subtree, in child order.

        Depth first, stopping at `limit`: a trie holds one path length, so every entry
        sits at the same depth and this is the order a breadth-first walk gives, without
        visiting the whole subtree first (a miss near the root used to).
        """
        out: list[T] = []
        stack: list[_Node[T]] = [self]
        while stack and len(out) < limit:
            node = stack.pop()
            out.extend(node.entries[: limit - len(out)])
            children: list[_Node[T]] = list(node.literal.values())
            children.extend(n for n in (node.ids, node.wild) if n is not None)
            children.extend(n for _, n in node.patterns.values())
            stack.extend(reversed(children))
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
    trie where every ID segment is one key. Document distance: an inverted index from
    character bigrams to paths (see `fuzzy`), so a miss never compares every path.
    """

    def __init__(self) -> None:
        self._literal: dict[tuple[str, ...], list[T]] = {}
        self._wild: _Trie[T] = _Trie(collapse_ids=False)
        self._ids: _Trie[T] = _Trie(collapse_ids=True)
        # document distance: one row per distinct path text
        self._fuzzy_ids: dict[str, int] = {}
        self._fuzzy_rows: list[tuple[str, frozenset[str], list[T]]] = []
        self._postings: dict[str, list[int]] = {}  # bigram -> rows holding it
        self._short: dict[int, list[int]] = {}  # rows by length, for paths too short to filter

    def add(self, path: PathTemplate, entry: T) -> None:
        """Index one entry under its path."""
        self._literal.setdefault(path.folds[: path.n], []).append(entry)
        if path.has_wild:
            self._wild.add(path, entry)
        self._ids.add(path, entry)  # every entry: the miss report walks it too
        key = path.fuzzy_key
        row = self._fuzzy_ids.get(key)
        if row is None:
            row = self._fuzzy_ids[key] = len(self._fuzzy_rows)
            grams = _grams(key)
            self._fuzzy_rows.append((key, grams, []))
            for gram in grams:
                self._postings.setdefault(gram, []).append(row)
            self._short.setdefault(len(key), []).append(row)
        self._fuzzy_rows[row][2].append(entry)

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
        """Entries within document distance, found without comparing every path.

        One edit changes at most two distinct bigrams, so a path within `limit` edits of
        the request shares at least `len(grams) - 2 * limit` of the request's bigrams
        (the q-gram lemma). Counting, per path, how many of the request's *rarer* bigrams
        it holds (their posting lists, summed in C by Counter) rules out nearly every path
        before any edit distance is computed; the answers are the same as a full scan.
        """
        key = r.fuzzy_key
        size, grams = len(key), _grams(key)
        low, high = int(size * (1 - FUZZY_RATIO)), int(size / (1 - FUZZY_RATIO)) + 1
        widest = int(FUZZY_RATIO * max(size, high) + 1e-9)  # the largest limit of any length
        need = len(grams) - 2 * widest
        rows: Iterable[int]
        if need <= 0:  # a short path: too few bigrams to filter on; few paths are this short
            rows = [n for length in range(low, high + 1) for n in self._short.get(length, ())]
        else:
            lists = sorted((self._postings.get(g, []) for g in grams), key=len)
            # Count the shortest lists; a path must be in `need` of all, so in at least
            # `need - skipped` of the counted ones. The common bigrams (`/a`, `pi`) are
            # skipped while that stays positive.
            counted = len(lists)
            budget = len(self._fuzzy_rows) // 4
            while counted > 0 and need - (len(lists) - counted + 1) > 0:
                if len(lists[counted - 1]) <= budget:
                    break
                counted -= 1
            required = need - (len(lists) - counted)
            hits = Counter(chain.from_iterable(lists[:counted]))
            # most shared bigrams first (ties: file order), for FUZZY_CAP below
            buckets: list[list[int]] = [[] for _ in range(counted + 1)]
            for n, c in hits.items():
                if c >= required:
                    buckets[c].append(n)
            rows = [n for bucket in reversed(buckets) for n in sorted(bucket)]
        out: list[T] = []
        found = 0
        for n in rows:
            other, other_grams, entries = self._fuzzy_rows[n]
            if not low <= len(other) <= high:
                continue
            limit = int(FUZZY_RATIO * max(size, len(other)) + 1e-9)
            if len(grams & other_grams) < max(len(grams), len(other_grams)) - 2 * limit:
                continue
            if levenshtein(other, key, limit) <= limit:
                out.extend(entries)
                found += 1
                if found == FUZZY_CAP:
                    break
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
