"""`postmock validate` through click: exit codes, text and JSON output, broken inputs."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from postmock.cli import cli
from postmock.validate.findings import FileReport, Finding, ValidationResult
from postmock.validate.report import render

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def collection(
    *responses: dict[str, Any], url: str = "https://x.io/a", **info: Any
) -> dict[str, Any]:
    return {
        "info": {"name": "t", "schema": V21, **info},
        "item": [
            {"name": "r", "request": {"method": "GET", "url": url}, "response": list(responses)}
        ],
    }


CLEAN = collection({"name": "OK", "code": 200, "body": "{}"})
WARNS = collection({"name": "OK", "code": 200, "body": "{}"}, url="{{base}}/a")
BROKEN = collection({"name": "OK", "code": "200"})
V1 = {"id": "x", "name": "old", "order": [], "requests": []}
ENVIRONMENT = {"name": "e", "values": [{"key": "base", "value": "https://x.io", "enabled": True}]}


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["validate", *args])


@pytest.mark.parametrize(
    ("files", "options", "exit_code"),
    [
        pytest.param({"a.json": CLEAN}, [], 0, id="clean"),
        pytest.param({"a.json": WARNS}, [], 0, id="warnings-only"),
        pytest.param({"a.json": WARNS}, ["--strict"], 1, id="warnings-strict"),
        pytest.param({"a.json": CLEAN}, ["--strict"], 0, id="clean-strict"),
        pytest.param({"a.json": BROKEN}, [], 1, id="schema-error"),
        pytest.param({"a.json": CLEAN, "b.json": BROKEN}, [], 1, id="one-bad-of-two"),
        pytest.param({"a.json": "{not json"}, [], 1, id="bad-json"),
        pytest.param({"a.json": V1}, [], 1, id="v1"),
        pytest.param({"a.json": ENVIRONMENT}, [], 1, id="environment-file"),
    ],
)
def test_exit_codes(
    tmp_path: Path, files: dict[str, Any], options: list[str], exit_code: int
) -> None:
    paths = [write(tmp_path, name, content) for name, content in files.items()]
    result = run(*paths, *options)
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="no-files"),
        pytest.param(["--format", "xml", "a.json"], id="bad-format"),
        pytest.param(["--bogus", "a.json"], id="unknown-option"),
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(None, "collection not found", id="missing"),
        pytest.param(
            '{"info": {',
            "not valid JSON: Expecting property name enclosed in double quotes at line 1 column 11",
            id="bad-json",
        ),
        pytest.param(V1, "Collection v1 file", id="v1"),
        pytest.param(
            ENVIRONMENT, "this is an environment file, not a collection", id="environment"
        ),
        pytest.param("", "empty file", id="empty"),
    ],
)
def test_unusable_file_is_one_error_line(tmp_path: Path, content: Any, words: str) -> None:
    path = str(tmp_path / "x.json") if content is None else write(tmp_path, "x.json", content)
    result = run(path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [
        f"{path}: error: {lines[0].split(': error: ', 1)[1]}",
        "1 file, 1 error, 0 warnings",
    ]
    assert words in lines[0] and lines[0].endswith("[load]")
    assert "Traceback" not in result.output


def test_piped_text_names_file_and_json_path(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", BROKEN)
    result = run(path)
    assert (
        f"{path}:item[0].response[0].code: error: r › OK: expected an integer, got a string"
        in result.output
    )
    assert result.output.rstrip().endswith("1 file, 1 error, 0 warnings")
    assert "\x1b[" not in result.output


def test_environment_resolves_variables(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", WARNS)
    env = write(tmp_path, "e.json", ENVIRONMENT)
    assert "unresolved-variable" in run(path).output
    result = run(path, "--environment", env, "--strict")
    assert result.exit_code == 0, result.output
    assert "unresolved-variable" not in result.output


def test_unusable_environment_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", CLEAN)
    result = run(path, "--environment", str(tmp_path / "nope.json"))
    assert result.exit_code == 1
    assert "nope.json: environment file not found" in result.output
    assert "Traceback" not in result.output


def test_json_format(tmp_path: Path) -> None:
    good, bad = write(tmp_path, "good.json", WARNS), write(tmp_path, "bad.json", BROKEN)
    result = run(good, bad, "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["summary"] == {
        "files": 2,
        "errors": 1,
        "warnings": 1,
        "strict": False,
        "ok": False,
    }
    assert [f["file"] for f in document["files"]] == [good, bad]
    assert document["files"][1] == {
        "file": bad,
        "version": "2.1",
        "valid": False,
        "errors": 1,
        "warnings": 0,
    }
    assert {
        "file": bad,
        "path": "item[0].response[0].code",
        "pointer": "/item/0/response/0/code",
        "where": "r › OK",
        "message": 'expected an integer, got a string ("200")',
        "severity": "error",
        "code": "schema",
    } in document["findings"]
    assert {f["code"] for f in document["findings"]} == {"schema", "unresolved-variable"}


RESULT = ValidationResult(
    (
        FileReport("a.json", (), "2.1"),
        FileReport(
            "b.json",
            (
                Finding("b.json", "info", "missing required property 'schema'", "error", "schema"),
                Finding("b.json", "", "[not] markup", "warning", "load"),
                Finding(
                    "b.json",
                    "item[0].response[1]",
                    "example 'Two\nlines' is odd",
                    "warning",
                    "shadowed",
                    "Pets › Get pet › Two\\nlines",
                ),
            ),
            "2.1",
        ),
    )
)


def test_render_terminal() -> None:
    out = io.StringIO()
    render(RESULT, Console(file=out, width=120, force_terminal=True, color_system="standard"))
    coloured = out.getvalue()
    assert "\x1b[" in coloured
    text = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    for words in (
        "✓",
        "a.json",
        "b.json",
        "info",
        "missing required property 'schema'",
        "(root)",
        "[not] markup",
        "Pets › Get pet › Two\\nlines",
        "item[0].response[1]",
        "example 'Two\\nlines' is odd [shadowed]",
        "message [code]",
        "by code: schema 1, load 1, shadowed 1",
    ):
        assert words in text
    assert "2 files, 1 error, 2 warnings" in text


def test_render_piped_is_plain_lines() -> None:
    out = io.StringIO()
    render(RESULT, Console(file=out, width=40))
    assert out.getvalue().splitlines() == [
        "b.json:info: error: missing required property 'schema' [schema]",
        "b.json: warning: [not] markup [load]",
        "b.json:item[0].response[1]: warning: Pets › Get pet › Two\\nlines: example 'Two\\nlines'"
        " is odd [shadowed]",
        "2 files, 1 error, 2 warnings",
    ]


def hook_pattern() -> str:
    hooks = (Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text("utf-8")
    assert "id: postmock-validate" in hooks
    assert "entry: postmock validate" in hooks
    assert "language: python" in hooks
    [line] = [line for line in hooks.splitlines() if line.startswith("  files: ")]
    return line.removeprefix("  files: ")


@pytest.mark.parametrize(
    ("path", "checked"),
    [
        ("My API.postman_collection.json", True),
        ("api/Pets.postman_collection.json", True),
        ("collection.json", True),
        ("api/collection.json", True),
        ("api.postman.json", True),
        ("box-collection.json", True),
        ("orders.collection.json", True),
        ("postman_collection.json", True),
        ("postman/collections/Pets.json", True),
        ("package.json", False),
        ("tsconfig.json", False),
        ("env.postman_environment.json", False),
        ("recollection.json", False),
        ("collection.json.bak", False),
        ("PayPal_Public_APIs.json", False),  # widen with `files:` for names like this
    ],
)
def test_pre_commit_hook_file_pattern(path: str, checked: bool) -> None:
    # pre-commit matches `files` with re.search on the path from the repository root
    assert (re.search(hook_pattern(), path) is not None) == checked
