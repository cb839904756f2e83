"""`postmock logs --save ID --into FILE`: a logged call becomes a saved example."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
from click.testing import CliRunner, Result
from proxy_helpers import Started, Upstream

from postmock.cli import cli
from postmock.config import ServeConfig


async def invoke(*args: str) -> Result:
    # On a thread: `postmock logs` reads the server this test's loop is running.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_save_a_proxied_call_and_a_missed_one_then_serve_them(
    upstream: Upstream, collection_file: Path, started: Started, tmp_path: Path
) -> None:
    proxy = await started(
        ServeConfig(collection=collection_file, upstream=upstream.url, log_db=tmp_path / "p.db")
    )
    plain = await started(ServeConfig(collection=collection_file, log_db=tmp_path / "m.db"))
    async with aiohttp.ClientSession() as client:
        async with client.get(
            f"{proxy}/things/42?token=SECRET-Q", headers={"Authorization": "Bearer SECRET-H"}
        ) as resp:
            proxied_body = await resp.read()
        async with client.post(f"{plain}/nothing", data=b"hello") as resp:
            assert resp.status == 404
        async with client.get(f"{proxy}/__postmock/calls?responseType=proxied") as resp:
            (proxied,) = (await resp.json())["calls"]
        async with client.get(f"{plain}/__postmock/calls") as resp:
            (missed,) = (await resp.json())["calls"]

    out = tmp_path / "saved.json"
    first = await invoke("logs", "--url", proxy, "--save", proxied["id"], "--into", str(out))
    assert first.exit_code == 0, first.output
    assert "saved GET /things/42" in first.output
    second = await invoke("logs", "--url", plain, "--save", missed["id"], "--into", str(out))
    assert second.exit_code == 0, second.output
    assert "stub" in second.output

    doc = json.loads(out.read_text())
    bodies = [ex.pop("body") for item in doc["item"][0]["item"] for ex in item["response"]]
    assert bodies[0].encode() == proxied_body
    for secret in ("SECRET-Q", "SECRET-H"):  # (the echoing upstream's body aside)
        assert secret not in json.dumps(doc)
    names = [item["name"] for item in doc["item"][0]["item"]]
    assert names == ["GET /things/:id", "POST /nothing"]
    assert (await invoke("validate", str(out))).exit_code == 0

    served = await started(ServeConfig(collection=out, log_db=None))
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{served}/things/42?token=SECRET-Q") as resp:
            assert resp.status == 200
            assert await resp.read() == proxied_body
        async with client.post(f"{served}/nothing") as resp:
            assert resp.status == 200


async def test_save_unknown_id_or_without_into_is_one_line_error(tmp_path: Path) -> None:
    missing = await invoke(
        "logs", "--db", str(tmp_path / "none.db"), "--save", "nope", "--into", "x.json"
    )
    assert missing.exit_code == 1
    assert "Traceback" not in missing.output
    lonely = await invoke("logs", "--save", "abc")
    assert lonely.exit_code == 2
    assert "--into" in lonely.output
