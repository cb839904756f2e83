"""`postmock record` as a real process in front of a real upstream; the file it writes is
then served by `postmock serve` and must answer the same calls the same way."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from proxy_helpers import Started

from postmock.config import ServeConfig

pytestmark = pytest.mark.slow

SECRETS = ("BEARER-SECRET", "COOKIE-SECRET", "SETCOOKIE-SECRET", "QUERY-SECRET", "KEY-SECRET")

#: (method, path and query, headers, body) — twenty varied calls
CALLS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("GET", "/users/1", {}, b""),
    ("GET", "/users/2", {}, b""),
    ("GET", "/users/3", {"Authorization": "Bearer BEARER-SECRET"}, b""),
    ("GET", "/users/404", {}, b""),
    ("GET", "/users?page=1", {}, b""),
    ("GET", "/users?page=2", {}, b""),
    ("POST", "/users", {"Content-Type": "application/json"}, b'{"name": "Ada"}'),
    ("PUT", "/users/1", {"Content-Type": "application/json"}, b'{"name": "Bob"}'),
    ("DELETE", "/users/2", {}, b""),
    ("PATCH", "/users/3", {"Content-Type": "application/json"}, b'{"age": 3}'),
    ("GET", "/orders/7/items/3", {}, b""),
    ("GET", "/orders/8/items/4", {}, b""),
    ("GET", "/health", {}, b""),
    ("GET", "/gzipped", {"Accept-Encoding": "gzip"}, b""),
    ("GET", "/search?q=a%20b", {}, b""),
    ("GET", "/search?q=c", {}, b""),
    ("GET", "/secure?token=QUERY-SECRET", {"Cookie": "sid=COOKIE-SECRET"}, b""),
    ("GET", "/teapot", {"x-api-key": "KEY-SECRET"}, b""),
    ("GET", "/feed.xml", {}, b""),
    ("POST", "/login", {"Content-Type": "text/plain"}, b"user=ada"),
]


async def shop(request: web.Request) -> web.StreamResponse:
    """A small real API: answers depend on method, path, query and body; never echo secrets."""
    body = await request.read()
    path = request.path
    if path == "/binary":
        return web.Response(body=bytes(range(256)), content_type="application/octet-stream")
    if path == "/health":
        return web.Response(text="ok")
    if path == "/feed.xml":
        return web.Response(text="<feed><entry>1</entry></feed>", content_type="application/xml")
    if path == "/teapot":
        return web.json_response({"error": "I am a teapot"}, status=418)
    if path == "/gzipped":
        data = gzip.compress(json.dumps({"compressed": True, "n": 42}).encode())
        return web.Response(
            body=data, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )
    if path == "/users/404":
        return web.json_response({"error": "no such user"}, status=404)
    if request.method == "DELETE":
        return web.Response(status=204)
    status = 201 if request.method == "POST" and path == "/users" else 200
    resp = web.json_response(
        {
            "method": request.method,
            "path": path,
            "query": "" if "token" in request.query else request.query_string,
            "got": body.decode(),
            "auth": "present" if "Authorization" in request.headers else "none",
        },
        status=status,
    )
    resp.set_cookie("session", "SETCOOKIE-SECRET")
    return resp


@pytest.fixture
async def shop_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", shop)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def start_recorder(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "postmock", "record", "--port", "0", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "postmock record exited before listening"
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1)


async def call_all(base: str) -> list[tuple[int, bytes]]:
    answers = []
    async with aiohttp.ClientSession(auto_decompress=True) as client:
        for method, path_qs, headers, body in CALLS:
            async with client.request(
                method, base + path_qs, headers=headers, data=body or None
            ) as resp:
                answers.append((resp.status, await resp.read()))
    return answers


async def test_record_twenty_calls_then_serve_answers_them_alike(
    shop_url: str, tmp_path: Path, started: Started
) -> None:
    out = tmp_path / "recorded.postman_collection.json"
    proc, url = await start_recorder("--upstream", shop_url, "--out", str(out), "--name", "Shop")
    recorded = await call_all(url)
    async with aiohttp.ClientSession() as client:
        async with client.get(url + "/binary") as resp:
            assert resp.status == 200 and len(await resp.read()) == 256  # proxied all the same
    proc.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, output.decode()
    text = output.decode()
    assert "binary body skipped" in text
    assert "20 answers recorded" in text

    raw = out.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
    doc = json.loads(raw)
    assert doc["info"]["name"] == "Shop"
    (folder,) = doc["item"]
    names = {item["name"] for item in folder["item"]}
    assert "GET /users/:id" in names and "GET /orders/:id/items/:id2" in names
    assert sum(len(item["response"]) for item in folder["item"]) == 20
    secure = next(i for i in folder["item"] if i["name"] == "GET /secure")["response"][0]
    assert secure["originalRequest"]["url"]["query"] == [{"key": "token", "value": "{{token}}"}]
    teapot = next(i for i in folder["item"] if i["name"] == "GET /teapot")["response"][0]
    assert {"key": "x-api-key", "value": "{{x-api-key}}"} in teapot["originalRequest"]["header"]
    gz = next(i for i in folder["item"] if i["name"] == "GET /gzipped")["response"][0]
    assert json.loads(gz["body"]) == {"compressed": True, "n": 42}  # stored decoded
    assert all(h["key"].lower() != "content-encoding" for h in gz["header"])

    from click.testing import CliRunner

    from postmock.cli import cli

    validated = CliRunner().invoke(cli, ["validate", str(out)])
    assert validated.exit_code == 0, validated.output

    served = await started(ServeConfig(collection=out, log_db=None))
    replayed = await call_all(served)
    for call, (status, body), (again_status, again_body) in zip(
        CALLS, recorded, replayed, strict=True
    ):
        assert again_status == status, call
        assert again_body == body, call


async def test_record_extends_an_existing_file_and_newest_answer_wins(
    shop_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "api.json"
    for _ in range(2):  # two sessions into one file: extended, not duplicated
        proc, url = await start_recorder("--upstream", shop_url, "--out", str(out))
        async with aiohttp.ClientSession() as client:
            for path in ("/users/1", "/users/1", "/users/5"):
                async with client.get(url + path) as resp:
                    assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0
    doc = json.loads(out.read_text())
    (item,) = doc["item"][0]["item"]
    assert [ex["name"] for ex in item["response"]] == ["200 /users/1", "200 /users/5"]


async def test_recording_into_a_served_collection_reloads_it(
    shop_url: str, tmp_path: Path, started: Started
) -> None:
    out = tmp_path / "live.json"
    proc, url = await start_recorder("--upstream", shop_url, "--out", str(out))
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(url + "/users/1") as resp:
                assert resp.status == 200
            for _ in range(50):  # written within RECORD_WRITE_INTERVAL
                if out.exists():
                    break
                await asyncio.sleep(0.1)
            served = await started(ServeConfig(collection=out, log_db=None), reload=True)
            async with client.get(served + "/teapot") as resp:
                assert resp.status == 404  # not recorded yet
            await asyncio.sleep(1)  # the watcher starts a moment after the port opens
            async with client.get(url + "/teapot") as resp:
                assert resp.status == 418
            for _ in range(100):
                async with client.get(served + "/teapot") as resp:
                    if resp.status == 418:
                        break
                await asyncio.sleep(0.1)
            assert resp.status == 418
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)


def test_record_bad_out_file_is_one_line_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from postmock.cli import cli

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = CliRunner().invoke(
        cli, ["record", "--upstream", "http://127.0.0.1:9", "--out", str(broken)]
    )
    assert result.exit_code != 0
    assert str(broken) in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
