"""Who may read `/__postmock/`: the API key as a header, a bearer token or the page's cookie.

Mock calls take the key only as Postman's `x-api-key` header (`app.key_ok`, on the hot
path). The API, the page and the metrics also take `Authorization: Bearer KEY` (what
Prometheus and most HTTP clients send) and the cookie the page sets after `?key=` (a
browser cannot add headers to a page it opens or an `EventSource`). All three go through
the same constant-time `key_ok`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from postmock.config import API_PREFIX, KEY_COOKIE
from postmock.server.app import key_ok


def presented_key(request: web.BaseRequest) -> str:
    """The key a request offers: `x-api-key`, else a bearer token, else the page's cookie."""
    headers = request.headers
    given = headers.get("x-api-key")
    if given is not None:
        return given
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(KEY_COOKIE, "")


def allowed(keys: tuple[bytes, ...], request: web.BaseRequest) -> bool:
    """Whether `request` may read the API: always for a public mock, else a valid key."""
    return not keys or key_ok(keys, {"x-api-key": presented_key(request)})


def remember_key(resp: web.StreamResponse, request: web.BaseRequest, key: str) -> None:
    """Keep `key` in a cookie only `/__postmock/` sees, out of scripts' and other sites' reach."""
    resp.set_cookie(
        KEY_COOKIE,
        key,
        path=API_PREFIX,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def encoded(keys: Sequence[str]) -> tuple[bytes, ...]:
    """Keys as `key_ok` compares them."""
    return tuple(k.encode("utf-8", "surrogateescape") for k in keys)


__all__ = ["allowed", "encoded", "presented_key", "remember_key"]
