"""Example paths compiled once, the path rules of §3.3, and the index that finds candidates.

Every comparison works on percent-decoded segments, split before decoding so that an
encoded `%2F` stays inside its segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from postmock.matching.model import MatchRule
from postmock.templating.variables import VARIABLE, VariableScope

SegmentKind = Literal["literal", "id", "wild", "pattern"]

_DIGIT = re.compile(r"[0-9]")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
FUZZY_RATIO = 0.2


def is_id(segment: str) -> bool:
    """Whether a segment is an "alphanumeric ID": it has a digit, or is a UUID."""
    return bool(_DIGIT.search(segment)) or bool(_UUID.match(segment))


def decode(segment: str) -> str:
    """Percent-decode one segment; bad escapes are kept or replaced, never raised."""
    return unquote(segment, errors="replace") if "%" in segment else segment


@dataclass(frozen=True)
class Segment:
    """One example path segment: a literal (maybe an ID), a wildcard, or a partial pattern."""

    text: str  # decoded, as written after variable resolution ("users", "{{id}}", ":id")
    fold: str
    kind: SegmentKind
    names: tuple[str, ...] = ()  # capture names (wild: one; pattern: one per group)
    regex: re.Pattern[str] | None = None
    label: str = ""  # how to show it when not as `text`: `:id` for a saved value

    def accepts(self, text: str, fold: str, ids: bool) -> bool:
        """Whether a request segment fits this one (literals case-insensitively)."""
        if self.kind == "literal":
            return fold == self.fold
        if self.kind == "id":
            return fold == self.fold or (ids and is_id(text))
        if self.kind == "wild":
            return text != ""
        assert self.regex is not None
        return self.regex.fullmatch(text) is not None

    def capture(self, text: str) -> Iterator[tuple[str, str]]:
        """The (name, value) pairs this segment captures from a request segment."""
        if self.kind == "wild":
            yield self.names[0], text
        elif self.kind == "pattern" and self.regex is not None:
            m = self.regex.fullmatch(text)
            if m is not None:
                yield from zip(self.names, m.groups(), strict=True)


def compile_segment(raw: str, saved: Mapping[str, str] | None = None) -> Segment:
    """Classify a segment whose known variables are already resolved.

    Decision (§2): a `:var` whose `url.variable` holds a concrete saved value is that
    value (the exact rule) for a request that sends it, and a wildcard for any other;
    an empty or `{{…}}` saved value leaves a plain wildcard.
    """
    if raw.startswith(":") and len(raw) > 1:
        value = saved.get(raw[1:], "") if saved else ""
        if value and "{{" not in value and "/" not in value:
            text = decode(value)
            return Segment(text, text.lower(), "wild", (raw[1:],), label=raw)
        return Segment(raw, raw.lower(), "wild", (raw[1:],))
    if "{{" in raw:
        whole = VARIABLE.fullmatch(raw)
        if whole is not None:
            return Segment(raw, raw.lower(), "wild", (whole.group(1),))
        parts = VARIABLE.split(raw)  # literal, name, literal, name, ..., literal
        if len(parts) > 1:
            regex = "".join(
                re.escape(decode(p)) if n % 2 == 0 else "(.+?)" for n, p in enumerate(parts)
            )
            text = decode(raw)
            return Segment(
                text, text.lower(), "pattern", tuple(parts[1::2]), re.compile(regex, re.I)
            )
    text = decode(raw)
    return Segment(text, text.lower(), "id" if is_id(text) else "literal")


def host_prefix(host: str) -> tuple[str, ...]:
    """The path part of a resolved host such as `https://x.io/v1` (a baseUrl with a path)."""
    rest = _SCHEME.sub("", host.strip())
    _, slash, path = rest.partition("/")
    return tuple(s for s in path.split("/") if s) if slash else ()


def _strip(texts: tuple[str, ...]) -> int:
    """How many segments remain once trailing empty ones (trailing slashes) are removed."""
    n = len(texts)
    while n and texts[n - 1] == "":
        n -= 1
    return n


@dataclass(frozen=True)
class PathTemplate:
    """An example's path, resolved and classified once at compile time."""

    segments: tuple[Segment, ...]
    texts: tuple[str, ...]
    folds: tuple[str, ...]
    n: int  # segments without the trailing slashes
    has_wild: bool
    wild_count: int  # wildcard and pattern segments: fewer is more specific
    display: str
    fuzzy_key: str

    @classmethod
    def build(
        cls,
        host: str,
        path: Iterable[str],
        scope: VariableScope,
        saved: Mapping[str, str] | None = None,
    ) -> PathTemplate:
        """Resolve variables in the host and path segments, then classify each segment.

        `saved`: the URL's `url.variable` values by name (see `compile_segment`).
        """
        resolved_host = scope.resolve(host)
        raw: list[str] = list(host_prefix(resolved_host)) if "/" in resolved_host else []
        for seg in path:
            if seg.startswith(":") and len(seg) > 1:
                raw.append(seg)  # a path variable is a wildcard, whatever url.variable says
                continue
            value = scope.resolve(seg)
            if value == "" and seg != "":
                continue  # a variable that resolves to nothing leaves no segment
            raw.extend(value.split("/"))  # a variable may hold several segments
        if len(raw) == 1 and raw[0] == "":
            raw = []  # `[""]` is the root, `/`
        segments = tuple(compile_segment(s, saved) for s in raw)
        texts = tuple(s.text for s in segments)
        folds = tuple(s.fold for s in segments)
        n = _strip(texts)
        return cls(
            segments=segments,
            texts=texts,
            folds=folds,
            n=n,
            has_wild=any(s.kind in ("wild", "pattern") for s in segments),
            wild_count=sum(s.kind in ("wild", "pattern") for s in segments),
            display="/" + "/".join(s.label or s.text for s in segments),
            fuzzy_key="/" + "/".join(folds[:n]),
        )

    def captures(self, request: RequestPath) -> dict[str, str]:
        """Values of the wildcard segments, read from the aligned request segments."""
        if not self.has_wild or self.n != request.n:
            return {}
        out: dict[str, str] = {}
        for seg, text in zip(self.segments[: self.n], request.texts[: self.n], strict=True):
            for name, value in seg.capture(text):
                out.setdefault(name, value)
        return out


@dataclass(frozen=True)
class RequestPath:
    """The incoming path, split and decoded once per request."""

    texts: tuple[str, ...]
    folds: tuple[str, ...]
    n: int
    display: str
    fuzzy_key: str

    @classmethod
    def parse(cls, path: str) -> RequestPath:
        """Split a percent-encoded path; `/` and `` are the root (no segments)."""
        body = path[1:] if path.startswith("/") else path
        texts = tuple(decode(s) for s in body.split("/")) if body else ()
        folds = tuple(t.lower() for t in texts)
        n = _strip(texts)
        return cls(texts, folds, n, "/" + "/".join(texts), "/" + "/".join(folds[:n]))


# Score change per rule (§3.3), in the order the rules are tried.
PENALTY: dict[MatchRule, int] = {
    "exact": 0,
    "trailingSlash": -5,
    "caseInsensitive": -10,
    "trailingSlashCaseInsensitive": -15,
    "wildcard": -20,
    "idReplaced": -21,
    "trailingSlashIdReplaced": -25,
    "documentDistance": -30,
}


def _aligned(t: PathTemplate, r: RequestPath, *, ids: bool, strip: bool) -> bool:
    segs = t.segments[: t.n] if strip else t.segments
    texts, folds = (r.texts[: r.n], r.folds[: r.n]) if strip else (r.texts, r.folds)
    if len(segs) != len(texts):
        return False
    return all(s.accepts(x, f, ids) for s, x, f in zip(segs, texts, folds, strict=True))


def path_rule(t: PathTemplate, r: RequestPath) -> MatchRule | None:
    """The first path rule (document distance excepted) under which the paths match.

    Decision: from the wildcard rule on, literal segments compare case-insensitively
    (there is no "wildcard + case" rule, and a case slip should not cost the match);
    wildcards stay wildcards in the ID rules; only the −5/−15/−25 rules forgive a
    trailing slash.
    """
    if t.texts == r.texts:
        return "exact"
    if t.texts[: t.n] == r.texts[: r.n]:
        return "trailingSlash"
    if t.folds == r.folds:
        return "caseInsensitive"
    if t.folds[: t.n] == r.folds[: r.n]:
        return "trailingSlashCaseInsensitive"
    if t.has_wild and _aligned(t, r, ids=False, strip=False):
        return "wildcard"
    if _aligned(t, r, ids=True, strip=False):
        return "idReplaced"
    if _aligned(t, r, ids=True, strip=True):
        return "trailingSlashIdReplaced"
    return None


def levenshtein(a: Sequence[str], b: Sequence[str], limit: int | None = None) -> int:
    """Edit distance of two strings (or segment tuples); past `limit`, return limit + 1."""
    if a == b:
        return 0
    start = 0  # shared prefixes and suffixes cost nothing; most paths share a long prefix
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) > len(b):
        a, b = b, a
    cap = len(b) if limit is None else limit
    if len(b) - len(a) > cap:
        return cap + 1
    if not a:
        return len(b)
    # Only cells within `cap` of the diagonal can stay within `cap` (Ukkonen's band):
    # O(len × cap) instead of O(len²); a row whose band is all over `cap` ends it.
    big = cap + 1
    width = len(b)
    prev = [j if j <= cap else big for j in range(width + 1)]
    for i, ca in enumerate(a, 1):
        lo, hi = max(1, i - cap), min(width, i + cap)
        cur = [big] * (width + 1)
        cur[0] = i if i <= cap else big
        best = cur[0]
        for j in range(lo, hi + 1):
            value = prev[j - 1] + (ca != b[j - 1])
            if prev[j] + 1 < value:
                value = prev[j] + 1
            if cur[j - 1] + 1 < value:
                value = cur[j - 1] + 1
            cur[j] = value
            if value < best:
                best = value
        if best > cap:
            return big
        prev = cur
    return min(prev[-1], big)
