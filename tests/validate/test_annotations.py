"""`--format github` workflow commands and `--format sarif` logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from postmock import __version__
from postmock.cli import cli
from postmock.validate.annotations import github_line, sarif
from postmock.validate.findings import FileReport, Finding, ValidationResult
from postmock.validate.settings import CODES

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("POSTMOCK_"):
            monkeypatch.delenv(name)


def test_github_line_escapes_data_and_properties() -> None:
    finding = Finding(
        "dir,x/a:b.json",
        "item[0].response[1]",
        "100% broken\nreally",
        "warning",
        "shadowed",
        "Pets › Odd\nname",
    )
    assert github_line(finding) == (
        "::warning file=dir%2Cx/a%3Ab.json,title=postmock shadowed::"
        "Pets › Odd\\nname: 100%25 broken\\nreally (item[0].response[1])"
    )


def test_github_line_without_place() -> None:
    finding = Finding("c.json", "", "not JSON", "error", "load")
    assert github_line(finding) == "::error file=c.json,title=postmock load::not JSON"


def test_sarif_log() -> None:
    finding = Finding("api/c.json", "item[0].response[1]", "m", "warning", "shadowed", "R › E")
    log = sarif(ValidationResult((FileReport("api/c.json", (finding,), "2.1"),)))
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("postmock", __version__)
    assert [r["id"] for r in driver["rules"]] == list(CODES)
    assert run["results"] == [
        {
            "ruleId": "shadowed",
            "level": "warning",
            "message": {"text": "m"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "api/c.json"},
                        "region": {"startLine": 1},  # api/c.json does not exist: line 1
                    },
                    "logicalLocations": [
                        {
                            "fullyQualifiedName": "item[0].response[1]",
                            "kind": "object",
                            "name": "R › E",
                        }
                    ],
                }
            ],
            "properties": {"jsonPath": "item[0].response[1]", "jsonPointer": "/item/0/response/1"},
        }
    ]


def broken(tmp_path: Path) -> str:
    doc = {
        "info": {"name": "t", "schema": V21},
        "item": [
            {
                "name": "Get pet",
                "request": {"method": "GET", "url": "https://x.io/a"},
                "response": [{"name": "OK", "code": "200"}],
            }
        ],
    }
    path = tmp_path / "c.postman_collection.json"
    path.write_text(json.dumps(doc, indent=2), "utf-8")
    return str(path)


def code_line(path: str) -> int:
    lines = Path(path).read_text("utf-8").splitlines()
    [number] = [n for n, line in enumerate(lines, 1) if '"code": "200"' in line]
    return number


def test_cli_github_format(tmp_path: Path) -> None:
    path = broken(tmp_path)
    result = CliRunner().invoke(cli, ["validate", path, "--format", "github"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"::error file={path},line={code_line(path)},title=postmock schema::Get pet › OK: "
        "expected an integer, got a "
        'string ("200") (item[0].response[0].code)',
        "1 file, 1 error, 0 warnings",
    ]


def test_cli_sarif_format(tmp_path: Path) -> None:
    path = broken(tmp_path)
    result = CliRunner().invoke(cli, ["validate", path, "--format", "sarif"])
    assert result.exit_code == 1
    [found] = json.loads(result.output)["runs"][0]["results"]
    assert found["level"] == "error" and found["ruleId"] == "schema"
    physical = found["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == Path(path).as_uri()
    assert physical["region"] == {"startLine": code_line(path)} and code_line(path) > 1
