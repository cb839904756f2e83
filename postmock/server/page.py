"""`GET /__postmock/`: the live call-log page, served from package data (no build step).

The page (`static/index.html`, `page.js`, `page.css`: vanilla JS, no CDN) reads the
history from `/__postmock/calls` and new calls from the SSE stream, both of the API in
`server/api.py`. On a private mock a person opens `/__postmock/?key=KEY` once: the key
is checked, kept in an HttpOnly cookie scoped to `/__postmock/` (`access.remember_key`),
and the browser is sent to the page without the key in its address bar or history.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from importlib import resources
from typing import Final

from aiohttp import web

from postmock.config import API_PREFIX, ServeConfig
from postmock.server.access import allowed, encoded, remember_key
from postmock.server.app import key_ok

ASSETS: Final = {
    "index.html": "text/html",
    "page.js": "text/javascript",
    "page.css": "text/css",
}
ASSET_PREFIX: Final = API_PREFIX + "page/"
#: No outside scripts, styles, frames or connections: the page needs none.
CSP: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_KEYS = web.AppKey("postmock_page_keys", tuple[bytes, ...])
PAGE_ASSETS = web.AppKey("postmock_page_assets", dict[str, bytes])

_KEY_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>postmock · API key</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="{prefix}page.css"></head>
<body class="login"><form method="get" action="{action}"><h1>postmock</h1>
<p>{message}</p><input name="key" type="password" autocomplete="current-password"
placeholder="API key" autofocus aria-label="API key"> <button>Open</button></form></body></html>
"""


def load_assets() -> dict[str, bytes]:
    """The page's files from package data."""
    folder = resources.files("postmock.server") / "static"
    return {name: (folder / name).read_bytes() for name in ASSETS}


def add_page_routes(app: web.Application, api_keys: Sequence[str] = ()) -> None:
    """Serve the page at `/__postmock/` (before the mock's catch-all route)."""
    app[PAGE_KEYS] = encoded(api_keys)
    app[PAGE_ASSETS] = load_assets()
    app.router.add_get(API_PREFIX, page)
    app.router.add_get(ASSET_PREFIX + "{name}", asset)


def page_line(config: ServeConfig, url: str) -> str:
    """The start-up banner's line pointing at the page (when there is a call log)."""
    if config.log_db is None:
        return ""
    return f"\n  call log: [cyan]{url}{API_PREFIX}[/]"


def _headers(content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type + "; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def _key_form(message: str, status: int) -> web.Response:
    body = _KEY_FORM.format(prefix=ASSET_PREFIX, action=API_PREFIX, message=html.escape(message))
    return web.Response(status=status, body=body.encode(), headers=_headers("text/html"))


async def page(request: web.Request) -> web.Response:
    """The page; `?key=` checks a key, keeps it in a cookie and drops it from the address."""
    keys = request.app[PAGE_KEYS]
    given = request.query.get("key")
    if given is not None and keys:
        if not key_ok(keys, {"x-api-key": given}):
            return _key_form("That key is not valid for this mock.", 401)
        resp = web.Response(status=303, headers={"Location": API_PREFIX})
        remember_key(resp, request, given)
        return resp
    if not allowed(keys, request):
        return _key_form("This mock is private: enter its API key.", 401)
    return web.Response(body=request.app[PAGE_ASSETS]["index.html"], headers=_headers("text/html"))


async def asset(request: web.Request) -> web.Response:
    """The page's script and style sheet (no secrets: served without a key)."""
    name = request.match_info["name"]
    if name not in ASSETS or name == "index.html":
        raise web.HTTPNotFound()
    return web.Response(body=request.app[PAGE_ASSETS][name], headers=_headers(ASSETS[name]))


__all__ = ["add_page_routes", "load_assets", "page_line"]
