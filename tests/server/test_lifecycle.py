"""`serve()` run in-process, as an embedding program would: real sockets, raw bytes."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from serve_helpers import running

from postmock.config import ServeConfig

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"


async def raw_status(port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def test_one_key_check_for_mock_and_api_even_with_non_utf8_bytes(tmp_path: Path) -> None:
    config = ServeConfig(
        collection=SAMPLE / "petstore.postman_collection.json",
        environment=SAMPLE / "petstore.postman_environment.json",
        port=0,
        api_keys=("s3cret",),
        log_db=tmp_path / "calls.db",
        reload=False,
        quiet=True,
    )
    gc.unfreeze()  # an earlier test in this process may have run postmock's own serve()
    async with running(config) as url:
        port = int(url.rsplit(":", 1)[1])
        for path in (b"/v1/pets/7", b"/__postmock/health", b"/__postmock/calls"):
            head = b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\n"
            bad_key = head + b"x-api-key: \xff\xfe\r\n\r\n"
            assert await raw_status(port, bad_key) == 401, path
            good = head + b"x-api-key: s3cret\r\n\r\n"
            assert await raw_status(port, good) == 200, path
        # An embedding program's garbage collector is left as it was.
        assert gc.get_freeze_count() == 0


async def test_health_answers_without_a_call_log() -> None:
    """`--no-log` keeps no calls, but scripts still wait for the mock on /__postmock/health."""
    config = ServeConfig(
        collection=SAMPLE / "petstore.postman_collection.json",
        port=0,
        log_db=None,
        reload=False,
        quiet=True,
    )
    async with running(config) as url:
        port = int(url.rsplit(":", 1)[1])
        health = b"GET /__postmock/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
        assert await raw_status(port, health) == 200
        calls = b"GET /__postmock/calls HTTP/1.1\r\nHost: localhost\r\n\r\n"
        assert await raw_status(port, calls) == 404  # no log, no calls route: a mock miss
