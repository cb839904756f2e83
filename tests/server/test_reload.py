"""Reloading: an edit swaps the compiled mock in one step; a broken edit keeps the old one."""

from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rich.console import Console
from test_app import MockTestServer

from postmock.config import ServeConfig
from postmock.server.app import create_app
from postmock.server.lifecycle import reload, serve
from postmock.server.state import load_state


def collection(body: str, greeting: str = "{{greeting}}") -> dict[str, Any]:
    request = {"method": "GET", "url": "{{baseUrl}}/hello", "header": []}
    return {
        "info": {
            "name": "Reload test",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [{"key": "baseUrl", "value": "http://example.com/api"}],
        "item": [
            {
                "name": "Hello",
                "request": request,
                "response": [
                    {"name": "Hi", "originalRequest": request, "code": 200, "header": [],
                     "_postman_previewlanguage": "text", "body": f"{body} {greeting}"},
                ],
            }
        ],
    }  # fmt: skip


def environment(greeting: str) -> dict[str, Any]:
    return {"name": "env", "values": [{"key": "greeting", "value": greeting, "enabled": True}]}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    coll, env = tmp_path / "c.postman_collection.json", tmp_path / "e.postman_environment.json"
    coll.write_text(json.dumps(collection("one")))
    env.write_text(json.dumps(environment("hi")))
    return coll, env


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=300, force_terminal=False), out


async def test_edit_swaps_in_the_new_answers(files: tuple[Path, Path], aiohttp_client: Any) -> None:
    coll, env = files
    config = ServeConfig(collection=coll, environment=env, log_db=None, reload=False, quiet=True)
    app = create_app(config, load_state(config))
    client = await aiohttp_client(MockTestServer(app))
    con, out = console()
    assert await (await client.get("/api/hello")).text() == "one hi"

    coll.write_text(json.dumps(collection("two")))
    assert await reload(config, app, con) is True
    assert await (await client.get("/api/hello")).text() == "two hi"
    assert "reloaded 1 examples" in out.getvalue()

    env.write_text(json.dumps(environment("hello")))  # the environment is reloaded too
    assert await reload(config, app, con) is True
    assert await (await client.get("/api/hello")).text() == "two hello"


@pytest.mark.parametrize("broken", ["collection", "environment"])
async def test_broken_edit_keeps_the_old_answers(
    files: tuple[Path, Path], aiohttp_client: Any, broken: str
) -> None:
    coll, env = files
    config = ServeConfig(collection=coll, environment=env, log_db=None, reload=False, quiet=True)
    app = create_app(config, load_state(config))
    client = await aiohttp_client(MockTestServer(app))
    con, out = console()
    path = coll if broken == "collection" else env
    path.write_text('{\n  "info": {"name": "x",}\n}\n')

    assert await reload(config, app, con) is False
    text = out.getvalue()
    assert "reload failed" in text
    assert str(path) in text
    assert "line 2 column" in text
    for _ in range(2):
        resp = await client.get("/api/hello")
        assert (resp.status, await resp.text()) == (200, "one hi")

    coll.write_text(json.dumps(collection("fixed")))
    env.write_text(json.dumps(environment("hi")))
    assert await reload(config, app, con) is True
    assert await (await client.get("/api/hello")).text() == "fixed hi"


async def _body_becomes(session: aiohttp.ClientSession, url: str, expected: str) -> str:
    """Poll until the mock answers `expected` (10 s at most); returns the last answer."""
    text = ""
    for _ in range(100):
        async with session.get(url + "/api/hello") as resp:
            text = await resp.text()
        if text == expected:
            break
        await asyncio.sleep(0.1)
    return text


async def test_watcher_reloads_a_running_server(files: tuple[Path, Path]) -> None:
    coll, env = files
    config = ServeConfig(collection=coll, environment=env, port=0, log_db=None, reload=True,
                         quiet=True)  # fmt: skip
    con, out = console()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(config, con, ready=ready.set_result, stop=stop))
    try:
        await asyncio.wait({ready, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # serve() failed to start: show why
        url = ready.result()
        async with aiohttp.ClientSession() as session:
            assert await _body_becomes(session, url, "one hi") == "one hi"
            await asyncio.sleep(0.3)  # let the watcher settle before the first edit

            coll.write_text(json.dumps(collection("two")))  # an in-place write
            assert await _body_becomes(session, url, "two hi") == "two hi"

            tmp = coll.with_name("c.json.tmp")  # an editor's save: write aside, rename over
            tmp.write_text(json.dumps(collection("three")))
            os.replace(tmp, coll)
            assert await _body_becomes(session, url, "three hi") == "three hi"

            env.write_text(json.dumps(environment("yo")))
            assert await _body_becomes(session, url, "three yo") == "three yo"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert "reloaded" in out.getvalue()
    assert out.getvalue().rstrip().endswith("postmock stopped")
