"""`DELETE /__postmock/calls`: clears the kept calls between tests, behind the API key."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from postmock.testing import MockServer

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"


def send(url: str, method: str = "GET", key: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method, headers={"x-api-key": key} if key else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def test_delete_clears_the_calls_and_logging_goes_on(tmp_path: Path) -> None:
    with MockServer(
        SAMPLE / "petstore.postman_collection.json",
        environment=SAMPLE / "petstore.postman_environment.json",
        log_db=tmp_path / "calls.db",
        api_keys=["k"],
    ) as mock:
        calls = mock.url + "/__postmock/calls"
        assert send(mock.url + "/v1/pets/7", key="k")[0] == 200
        assert send(mock.url + "/v1/pets/8", key="k")[0] == 200
        status, body = send(calls, "DELETE")
        assert status == 401
        assert json.loads(body)["error"]["name"] == "unauthorizedError"
        assert len(json.loads(send(calls, key="k")[1])["calls"]) == 2
        assert send(calls, "DELETE", key="k") == (204, b"")
        assert json.loads(send(calls, key="k")[1])["calls"] == []
        assert send(mock.url + "/v1/pets/9", key="k")[0] == 200
        kept = json.loads(send(calls, key="k")[1])["calls"]
        assert [c["request"]["path"] for c in kept] == ["/v1/pets/9"]
