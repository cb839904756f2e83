"""`Forwarder`: one call to the upstream, its answer streamed back to the client.

The server calls it for unmatched requests (`serve --upstream`) through the protocol in
`postmock.server.upstream`; `postmock record` calls it for every request.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

import aiohttp
from aiohttp import web
from yarl import URL

from postmock.config import ServeConfig
from postmock.errors import StartupError
from postmock.proxy.url import display_url
from postmock.server.upstream import Forwarded, Headers, UpstreamError

#: RFC 9110 §7.6.1 hop-by-hop headers, never passed on in either direction; plus the
#: ones the client library sets itself (Host, Content-Length).
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
    }
)  # fmt: skip
#: Answer headers not passed on: the body is sent decoded, so its length and encoding change.
DROPPED_ANSWER_HEADERS = HOP_BY_HOP | {"content-encoding"}
CHUNK = 64 * 1024
SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding")


def basic_auth(url: str) -> str | None:
    """The `Authorization: Basic …` value for user:password in `url`, if any."""
    parts = urlsplit(url)
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def ssl_context(ca_file: str | None, insecure: bool) -> ssl.SSLContext | bool:
    """System CAs, or those of `ca_file`, or no verification at all; raises StartupError."""
    if insecure:
        return False
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise StartupError(f"--upstream-ca {ca_file}: cannot load CA certificates: {exc}") from None


def forwarded_request_headers(
    headers: Iterable[tuple[str, str]], drop: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The client's headers minus hop-by-hop ones, those named in `Connection`, postmock's
    control headers (`x-mock-*`) and the names in `drop` (lower case)."""
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [
        (name, value)
        for name, value in pairs
        if (low := name.lower()) not in HOP_BY_HOP
        and low not in named
        and low not in drop
        and not low.startswith("x-mock-")
    ]


class Forwarder:
    """Forwards calls to one upstream base URL over a pooled aiohttp client session.

    Create it inside the event loop that will use it; `close()` it when done.
    """

    def __init__(
        self,
        upstream: str,
        *,
        timeout: float,
        ssl: ssl.SSLContext | bool = True,
        drop_headers: Iterable[str] = (),
    ) -> None:
        self.display_url = display_url(upstream)
        # joined with the raw path: no re-encoding
        self._base = self.display_url.rstrip("/")
        # user:password in the URL: Basic auth, unless the call brings its own Authorization
        self._auth = basic_auth(upstream)
        self._timeout = timeout
        self._drop = frozenset(name.lower() for name in drop_headers)
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
            connector=aiohttp.TCPConnector(ssl=ssl),
            auto_decompress=True,
            skip_auto_headers=SKIP_AUTO_HEADERS,
            cookie_jar=aiohttp.DummyCookieJar(),  # a proxy keeps no cookies of its own
        )

    @classmethod
    def from_config(cls, config: ServeConfig) -> Forwarder:
        """The `serve --upstream` forwarder: a private mock's key stays with the mock."""
        assert config.upstream is not None
        ca = str(config.upstream_ca) if config.upstream_ca else None
        return cls(
            config.upstream,
            timeout=config.upstream_timeout,
            ssl=ssl_context(ca, config.upstream_insecure),
            drop_headers=("x-api-key",) if config.api_keys else (),
        )

    def target(self, path_qs: str) -> URL:
        return URL(self._base + path_qs, encoded=True)

    async def forward(
        self,
        request: web.BaseRequest,
        body: bytes,
        *,
        keep: int,
        extra_headers: Headers = (),
    ) -> Forwarded:
        """See `postmock.server.upstream.Upstream.forward`."""
        url = self.target(request.rel_url.raw_path_qs)
        headers = forwarded_request_headers(request.headers.items(), self._drop)
        if self._auth is not None and all(n.lower() != "authorization" for n, _ in headers):
            headers.append(("Authorization", self._auth))
        try:
            upstream = await self._session.request(
                request.method,
                url,
                headers=headers,
                data=body if body else None,
                allow_redirects=False,
            )
        except aiohttp.ClientConnectorCertificateError as exc:
            raise UpstreamError(
                502,
                "upstreamCertificateError",
                f"The upstream {self.display_url} presented a certificate that could not be "
                f"verified ({exc.certificate_error}); use --upstream-ca FILE or "
                "--upstream-insecure.",
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamError(
                502,
                "upstreamUnreachableError",
                f"The upstream {self.display_url} could not be reached: {exc.strerror or exc}.",
            ) from None
        except asyncio.TimeoutError:
            raise UpstreamError(
                504,
                "upstreamTimeoutError",
                f"The upstream {self.display_url} did not answer within {self._timeout:g} s.",
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                502, "upstreamError", f"The upstream {self.display_url} failed: {exc}."
            ) from None
        except ValueError as exc:  # aiohttp's client refused the call as it came
            raise UpstreamError(
                502, "upstreamError", f"The call could not be forwarded as it is: {exc}."
            ) from None
        async with upstream:
            return await self._stream(request, upstream, keep, extra_headers)

    async def _stream(
        self,
        request: web.BaseRequest,
        upstream: aiohttp.ClientResponse,
        keep: int,
        extra_headers: Headers,
    ) -> Forwarded:
        sent = tuple(
            (str(name), value)
            for name, value in upstream.headers.items()
            if name.lower() not in DROPPED_ANSWER_HEADERS
        )
        present = {name.lower() for name, _ in sent}
        sent += tuple((k, v) for k, v in extra_headers if k.lower() not in present)
        out = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        for name, value in sent:
            out.headers.add(name, value)
        length = upstream.headers.get("Content-Length")
        if length is not None and "Content-Encoding" not in upstream.headers:
            out.content_length = int(length)  # as it came: no chunking of a known length
        kept = bytearray()
        broken = None
        size = 0
        try:
            await out.prepare(request)
            chunks = upstream.content.iter_chunked(CHUNK)
            while True:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    # The status line is gone already: all that is left is to cut the
                    # connection, so the client sees a broken answer, not a short one.
                    broken = f"upstream broke off: {exc.__class__.__name__}"
                    if request.transport is not None:
                        request.transport.close()
                    break
                if keep < 0 or len(kept) < keep:
                    kept += chunk if keep < 0 else chunk[: keep - len(kept)]
                size += len(chunk)
                await out.write(chunk)
        except ConnectionError:
            # The client went away (aiohttp's own finishing step ignores this quietly).
            broken = "the client went away"
        return Forwarded(
            out,
            upstream.status,
            upstream.reason or "",
            sent,
            bytes(kept),
            self.display_url,
            broken,
            size,
        )

    async def close(self) -> None:
        await self._session.close()
