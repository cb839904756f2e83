"""`serve()` in-process on a free port, as an async context manager (real sockets)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from postmock.config import ServeConfig
from postmock.server.lifecycle import serve

SAMPLES = Path(__file__).resolve().parents[1] / "sample_collections"


def petstore(tmp_path: Path, **changes: Any) -> ServeConfig:
    """The sample Pet Store on a free port, its log under `tmp_path`, quiet, no reload."""
    config = ServeConfig(
        collection=SAMPLES / "petstore.postman_collection.json",
        environment=SAMPLES / "petstore.postman_environment.json",
        port=0,
        log_db=tmp_path / "calls.db",
        reload=False,
        quiet=True,
        tls_dir=tmp_path / "tls",
    )
    return replace(config, **changes)


@asynccontextmanager
async def running(config: ServeConfig, console: Console | None = None) -> AsyncIterator[str]:
    """Serve `config` until the block ends; yields the URL (`http://127.0.0.1:PORT`)."""
    urls: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(config, console or Console(file=io.StringIO()), ready=urls.append, stop=stop)
    )
    try:
        while not urls:
            if task.done():
                task.result()  # raises the start-up error
                raise AssertionError("serve() returned before it was ready")
            await asyncio.sleep(0.01)
        yield urls[0]
    finally:
        stop.set()
        await task
