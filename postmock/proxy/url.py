"""Upstream URLs: checked for the CLI, shown without credentials. Light: no aiohttp."""

from __future__ import annotations

from urllib.parse import urlsplit

from postmock.server.upstream import display_url

__all__ = ["check_upstream_url", "display_url"]


def check_upstream_url(value: str) -> str:
    """An absolute http(s) URL, or ValueError saying what is wrong."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise ValueError(f"not a URL: {value!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"the upstream URL takes no ?query or #fragment, got {value!r}")
    return value
