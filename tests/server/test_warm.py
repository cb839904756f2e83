"""The first call pays nothing once: Faker (when the collection uses it) and the parsers are
ready before `serve` says it listens. Times are measured in benchmarks/first_call.py; here
each check runs serve() in a fresh interpreter and looks at what is loaded at "ready"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"

PROBE = """
import asyncio, io, json, sys
from pathlib import Path
from rich.console import Console
from postmock.config import ServeConfig
from postmock.server.lifecycle import serve

async def main():
    stop = asyncio.Event()
    seen = {}
    def ready(url):
        seen["faker"] = "faker" in sys.modules
        seen["email.parser"] = "email.parser" in sys.modules
        stop.set()
    config = ServeConfig(collection=Path(sys.argv[1]), port=0, log_db=None, reload=False,
                         quiet=True, seed=7)
    await serve(config, Console(file=io.StringIO()), ready=ready, stop=stop)
    print(json.dumps(seen))

asyncio.run(main())
"""


def loaded_at_ready(collection: Path) -> dict[str, bool]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(collection)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: dict[str, bool] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_faker_is_ready_before_listening_when_the_collection_uses_it() -> None:
    loaded = loaded_at_ready(SAMPLE / "petstore.postman_collection.json")  # $randomFirstName
    assert loaded == {"faker": True, "email.parser": True}


@pytest.mark.parametrize("names", [["guid"], []])
def test_faker_is_not_imported_for_a_collection_without_it(
    tmp_path: Path, names: list[str]
) -> None:
    body = json.dumps({"id": "{{$guid}}"} if names else {"id": 1})
    doc = {
        "info": {"name": "t", "schema": "v2.1.0"},
        "item": [
            {
                "name": "a",
                "request": {"method": "GET", "url": "http://x/a"},
                "response": [{"name": "a", "code": 200, "body": body}],
            }
        ],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    assert loaded_at_ready(path)["faker"] is False
