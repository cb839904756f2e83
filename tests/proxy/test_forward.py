"""`serve --upstream`: unmatched calls go to a real upstream on loopback."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web
from proxy_helpers import Started, Upstream

from postmock.config import ServeConfig


def config(collection: Path, upstream: str, **kw: object) -> ServeConfig:
    kw.setdefault("log_db", None)
    return ServeConfig(collection=collection, upstream=upstream, **kw)  # type: ignore[arg-type]


async def test_matched_calls_stay_mocked_unmatched_go_upstream(
    upstream: Upstream, collection_file: Path, started: Started
) -> None:
    url = await started(config(collection_file, upstream.url))
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{url}/users/1") as resp:
            assert resp.status == 200
            assert (await resp.json())["source"] == "mock"
        headers = {
            "X-Custom": "kept",
            "Authorization": "Bearer abc",
            "x-mock-response-code": "201",  # control headers stay with the mock
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "dropped: named in Connection",
        }
        async with client.post(
            f"{url}/orders?limit=5&q=a%20b", data=b'{"n": 1}', headers=headers
        ) as resp:
            assert resp.status == 200
            assert resp.headers["X-Upstream"] == "real"
            seen = await resp.json()
        async with client.get(
            f"{url}/users/1", headers={"x-mock-response-name": "No such example"}
        ) as resp:
            assert resp.status == 404  # asked the mock by name: the mock answers
    assert upstream.seen == [seen]
    assert seen["method"] == "POST"
    assert seen["path"] == "/orders"
    assert seen["query"] == "limit=5&q=a%20b"
    assert seen["body"] == '{"n": 1}'
    assert seen["headers"]["x-custom"] == "kept"
    assert seen["headers"]["authorization"] == "Bearer abc"  # the API needs it
    assert "x-mock-response-code" not in seen["headers"]
    assert "x-hop" not in seen["headers"]
    assert seen["headers"]["host"] == upstream.url.removeprefix("http://")


async def test_credentials_in_the_upstream_url_are_basic_auth_unless_the_call_has_its_own(
    upstream: Upstream, collection_file: Path, started: Started
) -> None:
    with_user = upstream.url.replace("http://", "http://ada:s%20cret@")
    url = await started(config(collection_file, with_user))
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{url}/a") as resp:
            assert resp.status == 200
            expected = "Basic " + base64.b64encode(b"ada:s cret").decode()
            assert (await resp.json())["headers"]["authorization"] == expected
        async with client.get(f"{url}/b", headers={"Authorization": "Bearer mine"}) as resp:
            assert resp.status == 200
            assert (await resp.json())["headers"]["authorization"] == "Bearer mine"


async def test_delay_is_waited_once_before_forwarding(
    upstream: Upstream, collection_file: Path, started: Started
) -> None:
    url = await started(config(collection_file, upstream.url, delay_ms=400))
    loop = asyncio.get_running_loop()
    # One connection: a second wait after the answer would hold up the next call.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as client:
        began = loop.time()
        for path in ("/x", "/y"):
            async with client.get(f"{url}{path}") as resp:
                assert resp.status == 200
                await resp.read()
        took = loop.time() - began
    assert 0.8 <= took < 1.2, took  # waited, and once per call


async def test_upstream_status_and_base_path_prefix(
    upstream: Upstream, collection_file: Path, started: Started
) -> None:
    url = await started(config(collection_file, upstream.url + "/v2/"))
    async with aiohttp.ClientSession() as client:
        async with client.delete(f"{url}/users/9?status=418") as resp:
            assert resp.status == 418
            assert (await resp.json())["path"] == "/v2/users/9"
        async with client.head(f"{url}/orders/9?status=202") as resp:
            assert resp.status == 202
            assert await resp.read() == b""
    assert [s["method"] for s in upstream.seen] == ["DELETE", "HEAD"]


async def test_answer_is_streamed_not_buffered(
    upstream: Upstream, collection_file: Path, started: Started, tmp_path: Path
) -> None:
    url = await started(config(collection_file, upstream.url, log_db=tmp_path / "c.db"))
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{url}/stream") as resp:
            # The upstream holds back its second chunk until we got the first one.
            first = await asyncio.wait_for(resp.content.readexactly(12), 5)
            assert first == b"first chunk;"
            upstream.release.set()
            assert await resp.read() == b"second chunk"
        async with client.get(f"{url}/big") as resp:
            body = await resp.read()
        async with client.get(f"{url}/__postmock/calls?responseType=proxied&limit=1") as resp:
            (big,) = (await resp.json())["calls"]
    assert len(body) == 64 * 128 * 1024
    assert big["detail"].endswith(f"answered 200, {len(body)} bytes")
    assert len(big["response"]["body"]) < 70_000  # the log keeps its cap, not 8 MiB
    assert body[:3] == b"AAA" and body[-1:] == bytes([65 + 63 % 26])


async def test_upstream_breaking_off_mid_answer_breaks_the_answer_and_is_logged(
    upstream: Upstream, collection_file: Path, started: Started, tmp_path: Path
) -> None:
    url = await started(config(collection_file, upstream.url, log_db=tmp_path / "c.db"))
    async with aiohttp.ClientSession() as client:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with client.get(f"{url}/broken") as resp:
                assert resp.status == 200
                await resp.read()  # a short answer must not pass for a whole one
        async with client.get(f"{url}/users/1") as resp:
            assert resp.status == 200  # the server carries on
        async with client.get(f"{url}/__postmock/calls?responseType=proxied") as resp:
            (call,) = (await resp.json())["calls"]
    assert "broke off" in call["detail"]


async def test_client_leaving_mid_stream_is_logged_quietly(
    upstream: Upstream,
    collection_file: Path,
    started: Started,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = await started(config(collection_file, upstream.url, log_db=tmp_path / "c.db"))
    reader, writer = await asyncio.open_connection("127.0.0.1", int(url.rsplit(":", 1)[1]))
    writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    assert b"first chunk;" in await asyncio.wait_for(reader.readuntil(b"first chunk;"), 5)
    writer.close()  # gone before the upstream's second chunk
    await asyncio.sleep(0.1)
    upstream.release.set()
    async with aiohttp.ClientSession() as client:
        for _ in range(50):
            async with client.get(f"{url}/__postmock/calls?responseType=proxied") as resp:
                calls = (await resp.json())["calls"]
            if calls:
                break
            await asyncio.sleep(0.1)
    assert "the client went away" in calls[0]["detail"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


async def test_upstream_down_is_502_and_slow_is_504(
    collection_file: Path, started: Started, upstream: Upstream
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = await started(config(collection_file, dead))
    slow = await started(config(collection_file, upstream.url, upstream_timeout=0.3))
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{down}/anything") as resp:
            assert resp.status == 502
            error = (await resp.json())["error"]
            assert error["name"] == "upstreamUnreachableError"
            assert dead in error["message"]
        async with client.get(f"{slow}/slow") as resp:
            assert resp.status == 504
            assert (await resp.json())["error"]["name"] == "upstreamTimeoutError"


async def test_call_log_marks_proxied_with_upstream_and_masks_secrets(
    upstream: Upstream, collection_file: Path, started: Started, tmp_path: Path
) -> None:
    url = await started(
        config(collection_file, upstream.url, log_db=tmp_path / "calls.db", api_keys=("k1",))
    )
    async with aiohttp.ClientSession(headers={"x-api-key": "k1"}) as client:
        async with client.get(
            f"{url}/things?token=t0ps3cret", headers={"Authorization": "Bearer s3cr3t"}
        ) as resp:
            assert resp.status == 200
            seen = await resp.json()
        async with client.get(f"{url}/__postmock/calls") as resp:
            calls = (await resp.json())["calls"]
    assert "x-api-key" not in seen["headers"]  # the mock's own key stays with the mock
    (call,) = [c for c in calls if c["request"]["path"] == "/things"]
    assert call["response"]["type"] == "proxied"
    from postmock.calllog.entry import plain_line
    from postmock.calllog.record import CallRecord

    line = plain_line(CallRecord.from_json(call))  # piped `serve` lines
    assert f'"proxied · upstream {upstream.url} answered 200' in line
    assert call["response"]["statusCode"] == 200
    assert upstream.url in call["detail"]
    assert call["response"]["headers"]["X-Upstream"] == "real"
    # (the echoing upstream repeats them in its body: bodies are the API's business)
    text = str([call["request"], call["response"]["headers"], call["detail"]])
    for secret in ("s3cr3t", "t0ps3cret", "upstream-secret-cookie"):
        assert secret not in text


async def test_https_upstream_verified_with_ca_file_or_insecure(
    collection_file: Path, started: Started, tmp_path: Path
) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="over tls")

    app = web.Application()
    app.router.add_get("/hello", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx).start()
    https = f"https://127.0.0.1:{runner.addresses[0][1]}"
    try:
        trusted = await started(config(collection_file, https, upstream_ca=ca_file))
        unknown = await started(config(collection_file, https))
        insecure = await started(config(collection_file, https, upstream_insecure=True))
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{trusted}/hello") as resp:
                assert (resp.status, await resp.text()) == (200, "over tls")
            async with client.get(f"{unknown}/hello") as resp:
                assert resp.status == 502
                assert (await resp.json())["error"]["name"] == "upstreamCertificateError"
            async with client.get(f"{insecure}/hello") as resp:
                assert (resp.status, await resp.text()) == (200, "over tls")
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--upstream", "ftp://x"], "expected an http:// or https:// URL"),
        (["--upstream", "http://x", "--upstream-ca", "/nonexistent.pem"], "does not exist"),
    ],
)
def test_bad_upstream_options_are_one_line_usage_errors(
    collection_file: Path, args: list[str], message: str
) -> None:
    from click.testing import CliRunner

    from postmock.cli import cli

    result = CliRunner().invoke(cli, ["serve", str(collection_file), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_upstream_options_reach_the_config_and_a_factory(
    collection_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    import postmock.server
    from postmock.cli import cli
    from postmock.proxy.forward import Forwarder

    seen: list[tuple[ServeConfig, object]] = []
    monkeypatch.setattr(postmock.server, "run", lambda c, _console, up=None: seen.append((c, up)))
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    args = ["serve", str(collection_file)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    env = {
        "POSTMOCK_UPSTREAM": "https://u:p@api.test/v1",
        "POSTMOCK_UPSTREAM_TIMEOUT": "2.5",
        "POSTMOCK_UPSTREAM_CA": str(ca),
        "POSTMOCK_UPSTREAM_INSECURE": "1",
    }
    assert CliRunner().invoke(cli, args, env=env).exit_code == 0
    (plain, none), (proxied, factory) = seen
    assert none is None and plain.upstream is None
    assert factory == Forwarder.from_config
    assert (proxied.upstream, proxied.upstream_timeout) == ("https://u:p@api.test/v1", 2.5)
    assert (proxied.upstream_ca, proxied.upstream_insecure) == (ca, True)


def test_upstream_credentials_never_shown() -> None:
    from postmock.proxy.url import display_url

    assert display_url("https://user:pw@api.test:8443/v1") == "https://api.test:8443/v1"
    assert display_url("http://api.test") == "http://api.test"
