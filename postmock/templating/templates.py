"""Response templates, compiled once per example and rendered per request.

Compiling resolves the known scope variables (nested, like `VariableScope.resolve`) and
splits what is left into literal text and placeholders:

- `{{name}}`: a wildcard / `:name` path capture given at render time. A name the scope
  defines was already substituted, so it never was a wildcard: captures only fill names
  the scope leaves unresolved.
- `{{$randomInt}}` etc.: a dynamic variable; every occurrence draws a fresh value.
- `{{$body}}`, `{{$body 'a.b'}}`, `{{$queryParams 'k'}}`, `{{$headers 'name'}}`,
  `{{$pathSegments 'N'}}`, each with an optional fallback as a second argument.

A placeholder that cannot be resolved and has no fallback stays literally as written.
Rendering walks a precompiled part list: no regular expressions per request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from postmock.templating.dynamic import NAMES, DynamicValues
from postmock.templating.variables import VARIABLE, VariableScope

__all__ = ["RenderContext", "RequestData", "Template"]

_HELPER = re.compile(
    r"""\$(body|queryParams|headers|pathSegments)"""
    r"""((?:\s+(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))*)\s*""",
    re.S,
)
_ARG = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""", re.S)
_FORM = "application/x-www-form-urlencoded"


class _Missing:
    """Marks a value that cannot be resolved (distinct from JSON `null`)."""


MISSING = _Missing()


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: object) -> str:
    """Raw insertion: strings as themselves, everything else as compact JSON."""
    if isinstance(value, str):
        return value
    try:
        return _json(value)
    except RecursionError:  # nested deeper than the encoder goes: nothing to insert
        return ""


@dataclass(slots=True)
class RequestData:
    """The parts of an incoming request that helpers can read; treat it as immutable (not
    `frozen`, which costs a `object.__setattr__` per field, per call)."""

    method: str
    path: str  # as received (percent-encoded); a `?query` tail is ignored
    query: tuple[tuple[str, str], ...] = ()  # decoded pairs, in order
    headers: Mapping[str, str] = field(default_factory=dict)  # case-insensitive lookup
    body: bytes = b""
    # The raw query string instead of `query`: decoded only if a helper asks (the server's way).
    query_string: str | None = None


@dataclass(eq=False, slots=True)
class RenderContext:
    """Everything one request's rendering needs; parsed request data is cached here."""

    captures: Mapping[str, str]
    request: RequestData
    dynamic: DynamicValues
    _body_text: str | None = field(default=None, init=False, repr=False)
    _body_data: object = field(default=None, init=False, repr=False)
    _body_parsed: bool = field(default=False, init=False, repr=False)
    _headers: dict[str, str] | None = field(default=None, init=False, repr=False)
    _query: dict[str, str] | None = field(default=None, init=False, repr=False)
    _pairs: tuple[tuple[str, str], ...] | None = field(default=None, init=False, repr=False)
    _segments: list[str] | None = field(default=None, init=False, repr=False)

    @property
    def body_text(self) -> str:
        """The request body as text (UTF-8, undecodable bytes replaced)."""
        if self._body_text is None:
            self._body_text = self.request.body.decode("utf-8", errors="replace")
        return self._body_text

    @property
    def body_data(self) -> object:
        """The body parsed once: JSON, or a form's fields; MISSING when it is neither."""
        if not self._body_parsed:
            self._body_parsed = True
            self._body_data = self._parse_body()
        return self._body_data

    def _parse_body(self) -> object:
        text = self.body_text
        if (self.header("content-type") or "").lower().startswith(_FORM):
            return dict(reversed(parse_qsl(text, keep_blank_values=True)))  # first one wins
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return MISSING

    def header(self, lower_name: str) -> str | None:
        """A request header by lower-cased name; the first one when repeated."""
        if self._headers is None:
            self._headers = {}
            for key, value in self.request.headers.items():
                self._headers.setdefault(key.lower(), value)
        return self._headers.get(lower_name)

    @property
    def query_pairs(self) -> tuple[tuple[str, str], ...]:
        """The decoded query parameters, in order."""
        if self._pairs is None:
            raw = self.request.query_string
            self._pairs = (
                self.request.query if raw is None else tuple(parse_qsl(raw, keep_blank_values=True))
            )
        return self._pairs

    def query_param(self, key: str) -> str | None:
        """A query parameter; the first one when repeated."""
        if self._query is None:
            self._query = dict(reversed(self.query_pairs))
        return self._query.get(key)

    @property
    def segments(self) -> list[str]:
        """The path's non-empty segments, percent-decoded."""
        if self._segments is None:
            path = self.request.path.split("?", 1)[0]
            self._segments = [unquote(s) for s in path.split("/") if s]
        return self._segments


def _whole_headers(ctx: RenderContext) -> str:
    out: dict[str, str] = {}
    for key, value in ctx.request.headers.items():
        out.setdefault(key, value)
    return _json(out)


def _whole_query(ctx: RenderContext) -> str:
    out: dict[str, str | list[str]] = {}
    for key, value in ctx.query_pairs:
        seen = out.get(key)
        if seen is None:
            out[key] = value
        elif isinstance(seen, list):
            seen.append(value)
        else:
            out[key] = [seen, value]
    return _json(out)


def _walk(data: object, keys: tuple[str, ...]) -> object:
    for key in keys:
        if isinstance(data, dict):
            data = data.get(key, MISSING)
        elif isinstance(data, list) and key.isascii() and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return MISSING
    return data


def split_path(path: str) -> tuple[str, ...]:
    """Split `a.b\\.c.0` into keys (`a`, `b.c`, `0`); `\\.` is a literal dot."""
    keys: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(path):
        char = path[i]
        if char == "\\" and path.startswith(".", i + 1):
            current.append(".")
            i += 2
            continue
        if char == ".":
            keys.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    keys.append("".join(current))
    return tuple(keys)


Lookup = Callable[[RenderContext], "str | None"]


def _lookup(helper: str, arg: str | None) -> Lookup:
    """The function that reads one helper's value from a request, None when unresolvable."""
    if helper == "body":
        if arg is None:
            return lambda ctx: ctx.body_text
        keys = split_path(arg)

        def body(ctx: RenderContext) -> str | None:
            value = _walk(ctx.body_data, keys)
            return None if value is MISSING else _text(value)

        return body
    if helper == "queryParams":
        if arg is None:
            return _whole_query
        key = arg
        return lambda ctx: ctx.query_param(key)
    if helper == "headers":
        if arg is None:
            return _whole_headers
        lower = arg.lower()
        return lambda ctx: ctx.header(lower)
    if arg is None:  # pathSegments
        return lambda ctx: _json(ctx.segments)
    if not (arg.isascii() and arg.isdigit()):
        return lambda ctx: None
    index = int(arg)
    return lambda ctx: ctx.segments[index] if index < len(ctx.segments) else None


@dataclass(frozen=True)
class _Capture:
    name: str
    raw: str

    def render(self, ctx: RenderContext) -> str:
        value = ctx.captures.get(self.name)
        return self.raw if value is None else value


@dataclass(frozen=True)
class _Dynamic:
    name: str
    raw: str

    def render(self, ctx: RenderContext) -> str:
        value = ctx.dynamic.generate(self.name)
        return self.raw if value is None else value


@dataclass(frozen=True)
class _Helper:
    lookup: Lookup
    fallback: str | None
    raw: str

    def render(self, ctx: RenderContext) -> str:
        value = self.lookup(ctx)
        if value is not None:
            return value
        return self.raw if self.fallback is None else self.fallback


_Part = _Capture | _Dynamic | _Helper


def _unquote_arg(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1).replace("\\'", "'")
    return match.group(2).replace('\\"', '"')


def _placeholder(inner: str, raw: str, scope: VariableScope) -> _Part | None:
    """The part for one `{{inner}}`; None when it must stay literal."""
    if scope.get(inner) is not None:
        return None  # defined but left over (a reference cycle): never a wildcard
    if not inner.startswith("$"):
        return _Capture(inner, raw)
    if inner[1:] in NAMES:
        return _Dynamic(inner[1:], raw)
    match = _HELPER.fullmatch(inner)
    if match is None:
        return None  # an unknown `$name`, or a helper with malformed arguments
    args = [_unquote_arg(m) for m in _ARG.finditer(match.group(2))]
    if len(args) > 2:
        return None
    arg = args[0] if args else None
    fallback = args[1] if len(args) == 2 else None
    return _Helper(_lookup(match.group(1), arg), fallback, raw)


class Template:
    """A response body or header value, parsed once into literal text and placeholders."""

    __slots__ = ("text", "capture_names", "_parts", "_static")

    def __init__(self, text: str, parts: tuple[str | _Part, ...]) -> None:
        self.text = text  # after scope resolution
        self._parts = parts
        self.capture_names = frozenset(p.name for p in parts if isinstance(p, _Capture))
        self._static = text if all(isinstance(p, str) for p in parts) else None

    @classmethod
    def compile(cls, text: str, scope: VariableScope) -> Template:
        """Resolve the scope's variables now and keep what needs the request for later."""
        text = scope.resolve(text)
        parts: list[str | _Part] = []
        position = 0
        for match in VARIABLE.finditer(text):
            part = _placeholder(match.group(1), match.group(0), scope)
            if part is None:
                continue  # stays inside the surrounding literal text
            if match.start() > position:
                parts.append(text[position : match.start()])
            parts.append(part)
            position = match.end()
        if position < len(text):
            parts.append(text[position:])
        return cls(text, tuple(parts))

    @property
    def dynamic_names(self) -> frozenset[str]:
        """The dynamic variables (without `$`) this template draws when rendered."""
        return frozenset(p.name for p in self._parts if isinstance(p, _Dynamic))

    @property
    def is_static(self) -> bool:
        """True when rendering needs nothing from the request (nor fresh random values)."""
        return self._static is not None

    def render_static(self) -> str:
        """The text of a static template, without a request; ValueError when not static."""
        if self._static is None:
            raise ValueError(f"{self!r} needs a request to render")
        return self._static

    def render(self, ctx: RenderContext) -> str:
        """The text for one request."""
        if self._static is not None:
            return self._static
        return "".join([p if isinstance(p, str) else p.render(ctx) for p in self._parts])

    def __repr__(self) -> str:
        return f"Template({self.text!r})"
