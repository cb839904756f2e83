"""`/__postmock/health` always answers (it is how scripts wait for the mock), even with
`--no-log`, and counts the calls in flight."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from rich.console import Console

from postmock.config import ServeConfig
from postmock.server.lifecycle import serve

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"


@pytest_asyncio.fixture(params=[False, True], ids=["no-log", "log"])
async def server(request: Any, tmp_path: Path) -> AsyncIterator[tuple[str, bool]]:
    with_log: bool = request.param
    config = ServeConfig(
        collection=SAMPLE / "petstore.postman_collection.json",
        environment=SAMPLE / "petstore.postman_environment.json",
        port=0,
        log_db=tmp_path / "calls.db" if with_log else None,
        reload=False,
        quiet=True,
    )
    urls: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(config, Console(file=io.StringIO()), ready=urls.append, stop=stop)
    )
    while not urls:
        assert not task.done(), task.exception()
        await asyncio.sleep(0.01)
    yield urls[0], with_log
    stop.set()
    await task


async def health(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url + "/__postmock/health") as resp:
        assert resp.status == 200
        data: dict[str, Any] = json.loads(await resp.read())
        return data


async def test_health_answers_and_counts_calls_in_flight(server: tuple[str, bool]) -> None:
    url, with_log = server
    async with aiohttp.ClientSession() as session:
        first = await health(session, url)
        assert first["status"] == "ok"
        assert first["inFlight"] == 0
        assert (first["calls"] is None) is not with_log
        slow = asyncio.create_task(
            session.get(url + "/v1/pets/42", headers={"x-mock-response-delay": "600"})
        )
        for _ in range(200):
            if (await health(session, url))["inFlight"] == 1:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the delayed call was never counted in flight")
        resp = await slow
        assert resp.status == 200
        resp.release()
        assert (await health(session, url))["inFlight"] == 0
