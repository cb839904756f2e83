"""Body and header comparison (§3.5).

Decision, body equality: JSON is compared structurally, urlencoded and form-data text
fields as multisets of (key, value), GraphQL as whitespace-normalised query text plus
variables, anything else as exact text. Both bodies empty are equal whatever the type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Mapping
from email import policy
from email.parser import BytesParser
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from postmock.collection.model import Body, KeyValue
from postmock.templating.variables import VariableScope

BodyKind = Literal["json", "form", "multipart", "graphql", "text"]

# What Postman's app sends as Content-Type when a request declares none (Decision:
# that counts as the example's declared type).
_LANGUAGE_TYPES = {
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
    "javascript": "application/javascript",
    "text": "text/plain",
    "": "text/plain",
}
_MODE_TYPES = {
    "urlencoded": "application/x-www-form-urlencoded",
    "formdata": "multipart/form-data",
    "graphql": "application/json",
}
_GRAPHQL_SPACE = re.compile(r"\s*([{}():,!=@$\[\]|])\s*|\s+")


def media_type(content_type: str) -> str:
    """`application/json; charset=utf-8` → `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


def kind_of(media: str) -> BodyKind | None:
    """How bodies of a media type are compared; None when the type says nothing."""
    if not media:
        return None
    if media == "application/json" or media.endswith("+json") or media == "text/json":
        return "json"
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media == "multipart/form-data":
        return "multipart"
    if media == "application/graphql":
        return "graphql"
    return "text"


def canon(value: Any) -> Hashable:
    """A hashable form of parsed JSON where 1 == 1.0 but true != 1 and key order is moot."""
    if isinstance(value, bool) or value is None:
        return ("c", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("a", tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ("o", frozenset((k, canon(v)) for k, v in value.items()))
    return ("?", repr(value))


def _json(text: str) -> Hashable | None:
    try:
        return canon(json.loads(text, parse_constant=lambda name: ("const", name)))
    except (ValueError, RecursionError):  # too deeply nested to compare: compared as text
        return None


def _graphql_query(query: str) -> str:
    # Whitespace carries no meaning around punctuation; elsewhere a run of it is one space.
    return _GRAPHQL_SPACE.sub(lambda m: m.group(1) or " ", query).strip()


def _graphql_variables(variables: Any) -> Hashable | None:
    if variables is None or variables == "":
        return canon({})
    if isinstance(variables, str):
        return _json(variables)
    return canon(variables)


def _graphql_from_json(text: str) -> Hashable | None:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("query"), str):
        return None
    variables = _graphql_variables(doc.get("variables"))
    return None if variables is None else (_graphql_query(doc["query"]), variables)


def _pairs(pairs: Any) -> Hashable:
    return tuple(sorted(pairs))


def _multipart(body: bytes, content_type: str) -> Hashable | None:
    """Text fields of a multipart/form-data body; file parts are not compared."""
    if "boundary=" not in content_type:
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    try:
        msg = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        fields: list[tuple[str, str]] = []
        if not msg.is_multipart():  # no parts at all (e.g. only the closing boundary)
            return _pairs(fields)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename() is not None or not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            value = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            fields.append((name, value))
    except Exception:  # a malformed body is simply "not equal"
        return None
    return _pairs(fields)


class ExampleBody:
    """An example request's body, resolved once; each comparison form computed on demand."""

    def __init__(self, body: Body, declared: str, scope: VariableScope) -> None:
        self.mode = body.mode
        self.media = media_type(declared)
        self.raw = scope.resolve(body.raw)
        self.fields = tuple(
            (scope.resolve(f.key), scope.resolve(f.value))
            for f in body.fields
            if not f.disabled and f.type == "text"
        )
        self.query = scope.resolve(body.graphql_query)
        self.variables = scope.resolve(body.graphql_variables)
        self._forms: dict[BodyKind, Hashable | None] = {}

    @property
    def empty(self) -> bool:
        return self.mode == "none" or (self.mode == "raw" and self.raw == "")

    @property
    def comparable(self) -> bool:
        """Whether the content is known; a `file` body only names a local file."""
        return self.mode != "file"

    @property
    def kind(self) -> BodyKind:
        if self.mode == "graphql":
            return "graphql"
        return kind_of(self.media) or "text"

    def form(self, kind: BodyKind) -> Hashable | None:
        """This body in the comparable form of `kind`; None when it has no such form."""
        if kind not in self._forms:
            self._forms[kind] = self._compute(kind)
        return self._forms[kind]

    def _compute(self, kind: BodyKind) -> Hashable | None:
        if kind == "graphql":
            if self.mode == "graphql":
                variables = _graphql_variables(self.variables)
                return None if variables is None else (_graphql_query(self.query), variables)
            return _graphql_from_json(self.raw) if self.mode == "raw" else None
        if self.mode in ("urlencoded", "formdata"):
            if kind in ("form", "multipart"):
                return _pairs(self.fields)
            return urlencode(self.fields) if kind == "text" else None
        if self.mode != "raw":
            return "" if kind == "text" and self.mode == "none" else None
        if kind == "json":
            return _json(self.raw)
        if kind == "form":
            return _pairs(parse_qsl(self.raw, keep_blank_values=True))
        return self.raw if kind == "text" else None

    def to_bytes(self) -> bytes:
        """The body as a client would send it (for an example's own request)."""
        if self.mode == "graphql":
            variables = json.loads(self.variables) if _json(self.variables) else None
            return json.dumps({"query": self.query, "variables": variables}).encode()
        if self.mode == "urlencoded":
            return urlencode(self.fields).encode()
        if self.mode == "formdata":
            return encode_multipart(self.fields)
        return self.raw.encode() if self.mode == "raw" else b""


BOUNDARY = "postmock-boundary-7d4a1c"


def encode_multipart(fields: tuple[tuple[str, str], ...]) -> bytes:
    """A multipart/form-data body with BOUNDARY, for an example's own request."""
    out = []
    for key, value in fields:
        out.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        )
    out.append(f"--{BOUNDARY}--\r\n")
    return "".join(out).encode()


class RequestBody:
    """The incoming body; each comparison form computed at most once per request."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self.body = body
        self.content_type = content_type
        self.media = media_type(content_type)
        self._text: str | None = None
        self._forms: dict[BodyKind, Hashable | None] = {}

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.body.decode("utf-8", "replace")
        return self._text

    def form(self, kind: BodyKind) -> Hashable | None:
        if kind not in self._forms:
            self._forms[kind] = self._compute(kind)
        return self._forms[kind]

    def _compute(self, kind: BodyKind) -> Hashable | None:
        if kind == "json":
            return _json(self.text)
        if kind == "form":
            return _pairs(parse_qsl(self.text, keep_blank_values=True, errors="replace"))
        if kind == "multipart":
            return _multipart(self.body, self.content_type)
        if kind == "graphql":
            if self.media == "application/graphql":
                return (_graphql_query(self.text), canon({}))
            return _graphql_from_json(self.text)
        return self.text


def bodies_equal(example: ExampleBody, request: RequestBody) -> bool:
    """Equality per the Decision; the comparison kind follows the request's Content-Type.

    A `file` body's content is not in the collection: it equals nothing (no +5 bonus),
    and body matching does not compare it (see `comparable`).
    """
    if example.empty and not request.body:
        return True
    if example.mode == "graphql" or request.media == "application/graphql":
        kind: BodyKind = "graphql"
    else:
        kind = kind_of(request.media) or example.kind
    mine, theirs = example.form(kind), request.form(kind)
    if mine is None or theirs is None:
        # Not parseable as that kind (e.g. JSON holding an unresolved {{var}}): same text
        # is still the same body.
        mine, theirs = example.form("text"), request.form("text")
    return mine is not None and mine == theirs


def declared_type(headers: tuple[KeyValue, ...], body: Body, scope: VariableScope) -> str:
    """The example request's Content-Type: its header, else what its body mode implies.

    form-data is always multipart/form-data: a client must send its own boundary, so a
    saved Content-Type header (often a stale `application/json`) is not what is sent.
    """
    if body.mode == "formdata":
        return _MODE_TYPES["formdata"]
    for h in headers:
        if not h.disabled and h.key.strip().lower() == "content-type":
            return scope.resolve(h.value)
    if body.mode == "raw":
        return _LANGUAGE_TYPES.get(body.language.lower(), "text/plain")
    return _MODE_TYPES.get(body.mode, "")


def header_map(headers: tuple[KeyValue, ...], scope: VariableScope) -> dict[str, tuple[str, ...]]:
    """Enabled headers by lower-cased key, values resolved and trimmed."""
    out: dict[str, tuple[str, ...]] = {}
    for h in headers:
        if not h.disabled and h.key.strip():
            key = h.key.strip().lower()
            out[key] = (*out.get(key, ()), scope.resolve(h.value).strip())
    return out


def header_difference(
    example: Mapping[str, tuple[str, ...]], request: Mapping[str, str], keys: tuple[str, ...]
) -> str | None:
    """Why the listed headers differ (None when they agree); both absent counts as equal."""
    for key in keys:
        wanted = example.get(key, ())
        got = request.get(key)
        if got is None and not wanted:
            continue
        if got is None or got.strip() not in wanted:
            shown = " or ".join(repr(w) for w in wanted) if wanted else "none"
            return f"header {key}: example has {shown}, request has {got!r}"
    return None
