"""What the mock sends: response plans compiled per example, and the one JSON error envelope."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from postmock.collection.model import Example
from postmock.templating.templates import RenderContext, Template
from postmock.templating.variables import VariableScope

# Headers that describe the recorded transfer, not the response: the server computes its own.
TRANSFER_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}
)
PREVIEW_TYPES = {
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
    "text": "text/plain",
    "javascript": "application/javascript",
}
DEFAULT_CONTENT_TYPE = "text/html; charset=utf-8"  # what Postman's mocks send when unsure
NO_BODY_STATUSES = frozenset({204, 304})

NOT_FOUND = {
    "name": "mockRequestNotFoundError",
    "message": "Double check your method and the request path and try again.",
    "header": "No matching requests",
}


@dataclass(frozen=True)
class ResponsePlan:
    """An example's response, compiled once: static parts ready, templates parsed."""

    example: Example
    status: int
    reason: str | None
    headers: tuple[tuple[str, Template], ...]
    body: Template
    static_headers: tuple[tuple[str, str], ...] | None  # set when no header needs rendering
    static_body: bytes | None  # set when the body needs no rendering
    sets_allow_origin: bool
    expose_headers: str  # the example's own header names, for Access-Control-Expose-Headers
    request_name: str = ""  # the example's request, `Folder › Request`, for the call log

    @classmethod
    def compile(
        cls, example: Example, scope: VariableScope, request_name: str = ""
    ) -> ResponsePlan:
        """Compile an example's status, headers and body."""
        headers: list[tuple[str, Template]] = []
        has_type = False
        for h in example.headers:
            name = h.key.strip()
            if h.disabled or not name or name.lower() in TRANSFER_HEADERS:
                continue
            has_type = has_type or name.lower() == "content-type"
            headers.append((name, Template.compile(h.value, scope)))
        if not has_type:
            headers.append(("Content-Type", Template.compile(_default_type(example), scope)))
        body = Template.compile(example.body or "", scope)
        static_headers = None
        if all(t.is_static for _, t in headers):
            static_headers = tuple((n, t.render_static()) for n, t in headers)
        names = [n for n, _ in headers if n.lower() not in ("content-type",)]
        return cls(
            example=example,
            status=example.code,
            reason=_reason(example.status),
            headers=tuple(headers),
            body=body,
            static_headers=static_headers,
            static_body=body.render_static().encode() if body.is_static else None,
            sets_allow_origin=any(n.lower() == "access-control-allow-origin" for n, _ in headers),
            expose_headers=", ".join(names),
            request_name=request_name,
        )

    def render_headers(self, ctx: RenderContext | None) -> Sequence[tuple[str, str]]:
        if self.static_headers is not None:
            return self.static_headers
        assert ctx is not None
        return [(n, t.render(ctx)) for n, t in self.headers]

    def render_body(self, ctx: RenderContext | None) -> bytes:
        if self.static_body is not None:
            return self.static_body
        assert ctx is not None
        return self.body.render(ctx).encode("utf-8", "surrogatepass")

    @property
    def has_body(self) -> bool:
        """1xx, 204 and 304 responses carry no body."""
        return self.status >= 200 and self.status not in NO_BODY_STATUSES

    @property
    def is_static(self) -> bool:
        return self.static_headers is not None and self.static_body is not None


def _reason(status: str) -> str | None:
    # A reason phrase must be one printable line; anything else is left to the server.
    status = status.strip()
    if not status or any(c in status for c in "\r\n") or not status.isprintable():
        return None
    return status


def _default_type(example: Example) -> str:
    kind = PREVIEW_TYPES.get(example.preview_language.lower())
    return f"{kind}; charset=utf-8" if kind else DEFAULT_CONTENT_TYPE


def error_body(name: str, message: str, **extra: Any) -> dict[str, Any]:
    """Postman's error envelope: {"error": {"name", "message", ...}}."""
    return {"error": {"name": name, "message": message, **extra}}


def json_error(status: int, name: str, message: str, **extra: Any) -> tuple[web.Response, bytes]:
    """Every error the mock itself produces, rendered in one place; returns (response, body)."""
    body = json.dumps(error_body(name, message, **extra), ensure_ascii=False).encode()
    resp = web.Response(status=status, body=body, content_type="application/json", charset="utf-8")
    return resp, body
