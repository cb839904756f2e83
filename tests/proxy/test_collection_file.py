"""CollectionFile: where recorded calls land in an existing collection, and what is kept out."""

from __future__ import annotations

import json
from pathlib import Path

from postmock.collection import load_collection
from postmock.proxy.save import CollectionFile, SavedCall

EXISTING = {
    "info": {
        "name": "Hand-made",
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "variable": [{"key": "baseUrl", "value": "https://api.example.com/v1"}],
    "item": [
        {
            "name": "Users",
            "item": [
                {
                    "name": "Get user",
                    "request": {"method": "GET", "url": "{{baseUrl}}/users/:userId"},
                    "response": [],
                }
            ],
        }
    ],
}


def call(path: str, query: str = "", **kw: object) -> SavedCall:
    fields: dict[str, object] = {
        "method": "GET",
        "path": path,
        "query": query,
        "request_headers": (),
        "request_body": b"",
        "status": 200,
        "reason": "",
        "response_headers": (("Content-Type", "application/json"),),
        "response_body": b'{"ok": true}',
    }
    fields.update(kw)
    return SavedCall(**fields)  # type: ignore[arg-type]


def test_existing_request_gets_the_example_and_base_path_is_not_doubled(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(EXISTING))
    file = CollectionFile(path)
    assert file.add(call("/v1/users/5")) is None  # the client called through baseUrl's /v1
    assert file.add(call("/v1/teams")) is None
    file.write()
    doc = json.loads(path.read_text())
    (users, recorded) = doc["item"]
    (example,) = users["item"][0]["response"]
    assert example["originalRequest"]["url"]["raw"] == "{{baseUrl}}/users/5"
    assert recorded["name"] == "Recorded"
    assert [i["name"] for i in recorded["item"]] == ["GET /teams"]
    assert doc["variable"] == EXISTING["variable"]  # not redefined
    loaded = load_collection(path)
    assert not loaded.warnings
    assert {ex.name for ex in loaded.examples} == {"200 /users/5", "200 /teams"}


def test_redacted_names_and_status_reason(tmp_path: Path) -> None:
    file = CollectionFile(tmp_path / "new.json", redact=("Tenant",))
    file.add(
        call(
            "/a",
            "session_id=S1&x-tenant=S2&page=2",
            request_headers=(("X-Tenant", "S3"), ("Connection", "close"), ("x-mock-x", "1")),
            status=418,
            response_headers=(("Set-Cookie", "S4"), ("Content-Encoding", "gzip")),
        )
    )
    file.write()
    raw = (tmp_path / "new.json").read_text()
    for secret in ("S1", "S2", "S3", "S4"):  # by containment, as the call log masks
        assert secret not in raw
    example = json.loads(raw)["item"][0]["item"][0]["response"][0]
    assert example["status"] == "I'm a Teapot"
    assert example["originalRequest"]["header"] == [{"key": "X-Tenant", "value": "{{x-tenant}}"}]
    assert example["header"] == [{"key": "Set-Cookie", "value": "****"}]
    assert example["name"] == "418 /a?session_id={{session_id}}&x-tenant={{x-tenant}}&page=2"


def test_unwritable_place_is_one_line_error(tmp_path: Path) -> None:
    import pytest

    from postmock.errors import PostmockError

    (tmp_path / "plain-file").write_text("")
    file = CollectionFile(tmp_path / "plain-file" / "out.json")
    file.add(call("/a"))
    with pytest.raises(PostmockError) as caught:
        file.write()
    assert str(caught.value).startswith(
        str(tmp_path / "plain-file" / "out.json") + ": cannot write"
    )
