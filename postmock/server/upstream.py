"""The small protocol the server calls for unmatched requests when `--upstream` is set.

The server only knows this shape; `postmock.proxy.forward.Forwarder` implements it (the
proxy sits above the server, so the CLI hands the server a factory, never an import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # the CLI imports `display_url` from here: no aiohttp at import time
    from aiohttp import web

    from postmock.config import ServeConfig

Headers = tuple[tuple[str, str], ...]


class UpstreamError(Exception):
    """The upstream could not answer: the server turns this into its JSON error envelope."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status = status  # 502 unreachable or broken, 504 too slow
        self.name = name
        self.message = message


@dataclass(slots=True)
class Forwarded:
    """An upstream answer already sent (streamed) to the client, and what the log keeps."""

    response: web.StreamResponse
    status: int
    reason: str
    headers: Headers  # as sent to the client
    body: bytes  # the first `keep` bytes of the (decoded) body
    #: the upstream's base URL without credentials, for the call log
    upstream: str
    #: the body broke off after the status line was sent
    broken: str | None = None
    #: bytes of body sent to the client (the log keeps only the first `keep`)
    size: int = 0


class Upstream(Protocol):
    """Forwards one call and streams the answer back; one per serving process."""

    #: the base URL, without credentials (for banners and the call log)
    display_url: str

    async def forward(
        self,
        request: web.BaseRequest,
        body: bytes,
        *,
        keep: int,
        extra_headers: Headers = (),
    ) -> Forwarded:
        """Send `request` (with its already-read `body`) upstream, stream the answer to the
        client and keep up to `keep` bytes of its body (-1: all). `extra_headers` go on the
        client's response when the upstream's lacks them (CORS). Raises UpstreamError
        before anything was sent to the client."""
        ...

    async def close(self) -> None: ...


#: Builds the upstream inside the serving event loop; may raise PostmockError.
UpstreamFactory = Callable[["ServeConfig"], Upstream]


def display_url(url: str) -> str:
    """`url` without user:password, for banners, the call log and error messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
