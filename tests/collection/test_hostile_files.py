"""Files that are deep, of the wrong kind, or not files: an answer or one line, never a
traceback. `serve` and `validate` run as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from postmock.collection import load_collection

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def deep_collection(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {
        "name": "leaf",
        "request": {"method": "GET", "url": "http://x/deep/leaf"},
        "response": [{"name": "ok", "code": 200, "body": "found me"}],
    }
    for n in range(depth):
        node = {"name": f"f{n}", "item": [node]}
    return {"info": {"name": "deep", "schema": SCHEMA}, "item": [node]}


def write_deep(tmp_path: Path, depth: int) -> Path:
    text = json.dumps(deep_collection(depth)) if depth < 400 else _dumps_iteratively(depth)
    path = tmp_path / f"deep{depth}.json"
    path.write_text(text)
    return path


def _dumps_iteratively(depth: int) -> str:
    """json.dumps recurses; a deep file is written as text."""
    leaf = json.dumps(deep_collection(0)["item"][0])
    head = "".join(f'{{"name": "f{n}", "item": [' for n in range(depth))
    info = json.dumps({"name": "deep", "schema": SCHEMA})
    return f'{{"info": {info}, "item": [{head}{leaf}{"]}" * depth}]}}'


def postmock(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "postmock", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.mark.parametrize("depth", [70, 400])
def test_deep_folders_load_and_validate(tmp_path: Path, depth: int) -> None:
    path = write_deep(tmp_path, depth)
    coll = load_collection(path)
    assert [ex.name for ex in coll.examples] == ["ok"]
    assert len(coll.items[0].folders) == depth
    result = postmock("validate", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_deep_schema_error_is_found_with_its_full_path(tmp_path: Path) -> None:
    doc = deep_collection(40)
    leaf = doc["item"][0]
    for _ in range(40):
        leaf = leaf["item"][0]
    leaf["response"][0]["code"] = "two hundred"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    result = postmock("validate", str(path), "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    findings = json.loads(result.stdout)["findings"]
    expected = "item[0]" + ".item[0]" * 40 + ".response[0].code"
    assert any(f["path"] == expected and f["severity"] == "error" for f in findings), findings


@pytest.mark.parametrize("depth", [900, 5000])
def test_too_deep_is_one_line_for_serve_and_validate(tmp_path: Path, depth: int) -> None:
    path = write_deep(tmp_path, depth)
    served = postmock("serve", str(path), "--no-log", "--port", "0", cwd=tmp_path)
    assert served.returncode == 1
    assert served.stderr.count("\n") == 1 and "nested too deeply" in served.stderr
    checked = postmock("validate", str(path), cwd=tmp_path)
    assert checked.returncode == 1
    assert "Traceback" not in checked.stderr + checked.stdout
    assert "nested too deeply" in checked.stdout


OPENAPI_JSON = {"openapi": "3.0.3", "info": {"title": "Pets", "version": "1"}, "paths": {}}
SWAGGER_JSON = {"swagger": "2.0", "info": {"title": "Pets", "version": "1"}, "paths": {}}
OPENAPI_YAML = "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: '1'\npaths: {}\n"
SWAGGER_YAML = "# a comment\nswagger: '2.0'\ninfo:\n  title: Pets\n"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("openapi.json", json.dumps(OPENAPI_JSON)),
        ("swagger.json", json.dumps(SWAGGER_JSON)),
        ("openapi.yaml", OPENAPI_YAML),
        ("swagger.yml", SWAGGER_YAML),
    ],
)
def test_openapi_is_named_in_one_line(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    served = postmock("serve", str(path), "--no-log", cwd=tmp_path)
    checked = postmock("validate", str(path), cwd=tmp_path)
    for result, out in ((served, served.stderr), (checked, checked.stdout)):
        assert result.returncode == 1, result.stderr
        assert "OpenAPI/Swagger" in out and "openapi-to-postmanv2" in out, out
    assert served.stderr.count("\n") == 1
    assert "serving" not in served.stdout


def test_a_directory_as_collection_exits_1_in_one_line(tmp_path: Path) -> None:
    result = postmock("serve", str(tmp_path), "--no-log", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {tmp_path}: is a directory, not a collection"
