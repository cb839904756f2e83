"""`MockServer` as a test suite uses it: real sockets, real threads, real HTTP clients."""

from __future__ import annotations

import gc
import os
import signal
import socket
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import pytest

import postmock
from postmock.errors import LoadError, PostmockError, StartupError
from postmock.testing import MockServer

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"
PETSTORE = SAMPLE / "petstore.postman_collection.json"
ENV = SAMPLE / "petstore.postman_environment.json"


def call(url: str, method: str = "GET", body: bytes | None = None, **headers: str) -> int:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def children() -> list[str]:
    out = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                out += f.read().split()
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return out


def test_front_door_and_calls_in_postmans_shape() -> None:
    assert postmock.MockServer is MockServer
    frozen = gc.get_freeze_count()
    with MockServer(PETSTORE, environment=ENV) as mock:
        assert gc.get_freeze_count() == frozen  # the test process's GC is its own
        assert mock.url == f"http://127.0.0.1:{mock.port}"
        assert call(mock.url + "/v1/pets/7") == 200
        assert call(mock.url + "/v1/store/orders", "POST", b'{"petId": 7}') == 201
        calls = mock.calls()
        assert [c["request"]["path"] for c in calls] == ["/v1/pets/7", "/v1/store/orders"]
        assert calls[0]["responseName"] == "Pet found"
        assert calls[0]["requestName"] == "Pets › Get pet by id"
        assert calls[1]["response"]["statusCode"] == 201
        assert calls[1]["request"]["body"] == '{"petId": 7}'
        assert mock.calls(method="post") == calls[1:]
        assert mock.calls(path="/v1/pets/*") == calls[:1]
        assert mock.calls(status="2xx") == calls
        assert mock.calls(example="Order placed") == calls[1:]
        assert mock.call_count(status=404) == 0


def test_every_call_is_there_as_soon_as_its_answer_is() -> None:
    with MockServer(PETSTORE, environment=ENV) as mock:
        for n in range(1, 41):
            call(mock.url + f"/v1/pets/{n}")
            assert mock.call_count() == n  # no sleep: read-your-writes


def test_assert_called_lists_the_closest_calls() -> None:
    with MockServer(PETSTORE, environment=ENV) as mock:
        call(mock.url + "/v1/pets/7")
        call(mock.url + "/v1/store/orders", "POST", b'{"petId": 7}')
        call(mock.url + "/v1/nothing-here")
        mock.assert_called(example="Pet found", times=1)
        mock.assert_called(method="POST", path="/v1/store/orders")
        with pytest.raises(AssertionError) as caught:
            mock.assert_called(example="Order placed", method="POST", times=2)
        message = str(caught.value)
        assert "example='Order placed', method='POST' exactly 2 times; it came once" in message
        lines = message.splitlines()
        assert lines[1] == "Closest calls (3 of 3, closest first):"
        assert lines[2].startswith("  POST /v1/store/orders → 201 example 'Order placed'")
        assert lines[2].endswith("[matches]")
        assert "[example, method differ]" in message
        with pytest.raises(AssertionError, match="it came once"):
            mock.assert_not_called(path="/v1/pets/7")
        mock.assert_not_called(example="Pet deleted")


def test_assert_called_on_a_silent_mock_says_so() -> None:
    with MockServer(PETSTORE, environment=ENV) as mock:
        with pytest.raises(AssertionError, match="No calls reached this mock at all"):
            mock.assert_called(path="/v1/pets")


def test_assert_no_unmatched_explains_each_miss() -> None:
    with MockServer(PETSTORE, environment=ENV) as mock:
        call(mock.url + "/v1/pets/7")
        mock.assert_no_unmatched()
        call(mock.url + "/v1/pet/7")
        with pytest.raises(AssertionError) as caught:
            mock.assert_no_unmatched()
    message = str(caught.value)
    assert message.startswith("1 call(s) matched no example of the collection:")
    assert "GET /v1/pet/7 → 404" in message
    assert "nearest 'Pet found' (GET {{baseUrl}}/pets/:petId, item[0].item[1].response[0])" in (
        message
    )
    assert "lost on path" in message


def test_strict_fails_the_with_block_only_when_it_passed() -> None:
    with pytest.raises(AssertionError, match="matched no example"):
        with MockServer(PETSTORE, environment=ENV, strict=True) as mock:
            call(mock.url + "/nope")
    with pytest.raises(KeyError):  # the block's own error wins
        with MockServer(PETSTORE, environment=ENV, strict=True) as mock:
            call(mock.url + "/nope")
            raise KeyError("the test's own failure")


def test_reset_forgets_the_calls_so_far() -> None:
    with MockServer(PETSTORE, environment=ENV) as mock:
        call(mock.url + "/v1/pets/7")
        mock.reset()
        assert mock.calls() == []
        call(mock.url + "/v1/pets/8")
        assert [c["request"]["path"] for c in mock.calls()] == ["/v1/pets/8"]


def test_options_mirror_serve(tmp_path: Path) -> None:
    with MockServer(
        PETSTORE,
        environment=ENV,
        api_keys=["k1"],
        variables={"apiVersion": "v2"},
        delay="3g",
        server_response=None,
    ) as mock:
        assert mock.config.delay_ms == 100
        assert mock.config.log_db is None  # nothing written to the working directory
        assert call(mock.url + "/v2/pets/7") == 401
        assert call(mock.url + "/v2/pets/7", **{"x-api-key": "k1"}) == 200
        assert mock.calls()[0]["delayMs"] == 100
    with pytest.raises(TypeError, match="unknown option.*colour"):
        MockServer(PETSTORE, colour="red")


def test_servers_in_parallel_share_nothing() -> None:
    def one(n: int) -> tuple[int, list[str]]:
        with MockServer(PETSTORE, environment=ENV) as mock:
            for _ in range(n):
                call(mock.url + f"/v1/pets/{n}")
            return mock.port, [c["request"]["path"] for c in mock.calls()]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, [1, 2, 3, 4]))
    assert len({port for port, _ in results}) == 4
    for n, (_, paths) in enumerate(results, start=1):
        assert paths == [f"/v1/pets/{n}"] * n


def test_stopping_leaves_nothing_behind(tmp_path: Path) -> None:
    threads, fds, kids = set(threading.enumerate()), open_fds(), set(children())
    before = set(os.listdir(tmp_path))
    for log_db in (None, tmp_path / "calls.db"):
        mock = MockServer(PETSTORE, environment=ENV, log_db=log_db).start()
        url, port = mock.url, mock.port
        assert call(url + "/v1/pets/7") == 200
        if log_db is not None:
            assert set(children()) - kids, "the call log's writer process runs"
        mock.stop()
        mock.stop()  # twice is fine (a fixture's teardown after the test stopped it)
        assert set(threading.enumerate()) - threads == set()
        assert open_fds() - fds == set(), "a socket or file is still open"
        assert set(children()) - kids == set(), "a child process is left"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "still listening"
    assert set(os.listdir(tmp_path)) - before <= {"calls.db", "calls.db-wal", "calls.db-shm"}


def test_reset_also_clears_the_store_behind_the_api(tmp_path: Path) -> None:
    import json

    with MockServer(PETSTORE, environment=ENV, log_db=tmp_path / "calls.db") as mock:
        call(mock.url + "/v1/pets/7")
        with urllib.request.urlopen(mock.url + "/__postmock/calls") as resp:
            assert len(json.load(resp)["calls"]) == 1
        mock.reset()
        with urllib.request.urlopen(mock.url + "/__postmock/calls") as resp:
            assert json.load(resp)["calls"] == []


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    threads = set(threading.enumerate())
    with pytest.raises(LoadError) as caught:
        MockServer(tmp_path / "missing.json").start()
    assert "missing.json" in str(caught.value)
    with MockServer(PETSTORE, environment=ENV) as first:
        with pytest.raises(StartupError, match="the port is in use") as busy:
            MockServer(PETSTORE, port=first.port).start()
        assert isinstance(busy.value, PostmockError)
    assert set(threading.enumerate()) - threads == set()


async def test_async_with_runs_on_the_running_loop() -> None:
    threads = set(threading.enumerate())
    sigint = signal.getsignal(signal.SIGINT)
    async with MockServer(PETSTORE, environment=ENV, seed=1) as mock:
        assert signal.getsignal(signal.SIGINT) is sigint  # Ctrl-C still stops the test run
        new = {t.name for t in set(threading.enumerate()) - threads}
        assert new <= {"postmock-warm-up"}  # no server thread: it runs on this loop
        async with aiohttp.ClientSession() as session:
            async with session.get(mock.url + "/v1/pets/7") as resp:
                assert resp.status == 200
            assert mock.call_count(example="Pet found") == 1
            async with session.delete(mock.url + "/v1/pets/7") as resp:
                assert resp.status in (200, 204)
        mock.assert_called(method="DELETE", times=1)
        await mock.areset()
        assert mock.calls() == []
    assert set(threading.enumerate()) - threads == set()
    with pytest.raises(RuntimeError, match="not running"):
        mock.url  # noqa: B018


async def test_upstream_takes_the_calls_no_example_matches() -> None:
    """`MockServer(upstream=URL)` proxies as `serve --upstream` does, to a real server."""
    from aiohttp import web

    async def real_api(request: web.Request) -> web.Response:
        return web.json_response({"from": "upstream", "path": request.path}, status=201)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", real_api)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        upstream = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with MockServer(PETSTORE, environment=ENV, upstream=upstream) as mock:
            async with aiohttp.ClientSession() as session:
                async with session.get(mock.url + "/v1/pets/7") as resp:
                    assert resp.status == 200  # an example still answers what it matches
                async with session.get(mock.url + "/not/in/the/collection") as resp:
                    assert resp.status == 201
                    assert await resp.json() == {
                        "from": "upstream",
                        "path": "/not/in/the/collection",
                    }
            assert mock.call_count(path="/not/in/the/collection") == 1
            assert mock.calls(path="/not/in/the/collection")[0]["response"]["type"] == "proxied"
    finally:
        await runner.cleanup()
