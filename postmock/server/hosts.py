"""The `Host` check that keeps DNS rebinding away from the `/__postmock/` API.

A web page on `evil.example` can make its name resolve to 127.0.0.1 and then read
`http://evil.example:3000/__postmock/calls` from the victim's browser as same-origin. The
browser still sends `Host: evil.example:3000`, so the API answers only Hosts that name
this machine: `localhost` and `*.localhost`, IP literals (a page cannot rebind those),
the `--host` value, and names given with `--allowed-host` (`*.example.com` allows its
subdomains). Mock routes answer any Host, as Postman's do.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

from postmock.config import API_PREFIX
from postmock.server.responses import json_error

FORBIDDEN_HOST = "forbiddenHostError"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def host_name(header: str) -> str:
    """`Example.COM.:3000` -> `example.com`; `[::1]:3000` -> `::1`."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.partition("%")[0])  # fe80::1%eth0: a zone id
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which `Host` headers the API answers."""

    def __init__(self, served_host: str, allowed: Iterable[str] = ()) -> None:
        names = {host_name(served_host)} | {host_name(a) for a in allowed if a.strip()}
        self.exact = frozenset(n for n in names if not n.startswith("*."))
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))  # ".example.com"

    def allows(self, header: str | None) -> bool:
        """True for a Host naming this machine or an allowed name; no Host (HTTP/1.0) too."""
        if header is None:
            return True  # browsers always send one; a rebinding attack comes through one
        name = host_name(header)
        if name == "localhost" or name.endswith(".localhost") or name in self.exact:
            return True
        if self.suffixes and name.endswith(self.suffixes):
            return True
        return _is_ip(name)


def host_guard(policy: HostPolicy) -> Middleware:
    """An aiohttp middleware: `/__postmock/` requests with a foreign Host get 403 JSON."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        if request.raw_path.startswith(API_PREFIX) and not policy.allows(host):
            message = (
                f"Host {host!r} is not this server; the "
                f"{API_PREFIX} API answers only localhost, IP addresses and names given "
                "with --allowed-host (a guard against DNS rebinding)."
            )
            resp, _ = json_error(403, FORBIDDEN_HOST, message)
            return resp
        return await handler(request)

    return guard
