"""select/ignore/strict from the command line and from the nearest configuration file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from postmock.cli import cli
from postmock.validate.settings import Rules, find_config, rules_from, split_codes

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
# Two warnings: an unresolved {{base}} and a request without examples.
WARNS = {
    "info": {"name": "t", "schema": V21},
    "item": [
        {
            "name": "r",
            "request": {"method": "GET", "url": "{{base}}/a"},
            "response": [{"name": "OK", "code": 200, "body": ""}],
        },
        {"name": "bare", "request": {"method": "GET", "url": "https://x.io/b"}},
    ],
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("POSTMOCK_"):
            monkeypatch.delenv(name)


def codes_reported(*args: str) -> tuple[int, set[str]]:
    result = CliRunner().invoke(cli, ["validate", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, {f["code"] for f in json.loads(result.output)["findings"]}


def project(tmp_path: Path, files: dict[str, str]) -> str:
    """A folder tree with config files; the collection sits two levels down."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, "utf-8")
    collection = tmp_path / "api" / "v1" / "c.postman_collection.json"
    collection.parent.mkdir(parents=True, exist_ok=True)
    collection.write_text(json.dumps(WARNS), "utf-8")
    return str(collection)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("shadowed", ("shadowed",)),
        ("shadowed,duplicate-name", ("shadowed", "duplicate-name")),
        (" shadowed ,  load\tschema ", ("shadowed", "load", "schema")),
        ("ALL", ("ALL",)),
    ],
)
def test_split_codes(text: str, codes: tuple[str, ...]) -> None:
    assert split_codes(text) == codes


def test_split_codes_names_the_unknown_one() -> None:
    with pytest.raises(ValueError, match="unknown code 'shadow'"):
        split_codes(["shadowed", "shadow"])


def test_rules_keep() -> None:
    rules = Rules(select=("shadowed", "load"), ignore=("load",))
    assert rules.keeps("shadowed", "warning")
    assert not rules.keeps("no-examples", "warning")
    assert not rules.keeps("load", "warning")
    assert rules.keeps("load", "error")  # a file that is no collection is always reported


@pytest.mark.parametrize(
    ("args", "exit_code", "codes"),
    [
        pytest.param([], 0, {"unresolved-variable", "no-examples"}, id="all"),
        pytest.param(["--ignore", "no-examples"], 0, {"unresolved-variable"}, id="ignore"),
        pytest.param(["--select", "no-examples"], 0, {"no-examples"}, id="select"),
        pytest.param(["--ignore", "no-examples unresolved-variable", "--strict"], 0, set(),
                     id="strict-passes-when-all-ignored"),
        pytest.param(["--ignore", "no-examples", "--strict"], 1, {"unresolved-variable"},
                     id="strict-fails-on-the-rest"),
    ],
)  # fmt: skip
def test_command_line_rules(
    tmp_path: Path, args: list[str], exit_code: int, codes: set[str]
) -> None:
    path = project(tmp_path, {})
    assert codes_reported(path, *args) == (exit_code, codes)


def test_postmock_toml_found_upward(tmp_path: Path) -> None:
    path = project(tmp_path, {".postmock.toml": '[validate]\nignore = ["no-examples"]\n'})
    assert codes_reported(path) == (0, {"unresolved-variable"})


def test_pyproject_table_and_strict(tmp_path: Path) -> None:
    toml = '[tool.postmock.validate]\nselect = "no-examples"\nstrict = true\n'
    path = project(tmp_path, {"pyproject.toml": toml})
    assert codes_reported(path) == (1, {"no-examples"})


def test_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    files = {
        ".postmock.toml": '[validate]\nignore = ["no-examples"]\n',
        "api/pyproject.toml": "[tool.black]\nline-length = 90\n",
    }
    path = project(tmp_path, files)
    assert find_config(Path(path)) == (tmp_path / ".postmock.toml").resolve()
    assert codes_reported(path) == (0, {"unresolved-variable"})


def test_nearest_config_wins(tmp_path: Path) -> None:
    files = {
        ".postmock.toml": '[validate]\nignore = ["no-examples"]\n',
        "api/.postmock.toml": '[validate]\nignore = ["unresolved-variable"]\n',
    }
    assert codes_reported(project(tmp_path, files)) == (0, {"no-examples"})


def test_command_line_beats_config_and_isolated_skips_it(tmp_path: Path) -> None:
    path = project(tmp_path, {".postmock.toml": '[validate]\nignore = ["no-examples"]\n'})
    assert codes_reported(path, "--ignore", "unresolved-variable") == (0, {"no-examples"})
    assert codes_reported(path, "--isolated") == (0, {"unresolved-variable", "no-examples"})
    explicit = tmp_path / "ci.toml"
    explicit.write_text('[validate]\nselect = ["unresolved-variable"]\n', "utf-8")
    assert codes_reported(path, "--config", str(explicit)) == (0, {"unresolved-variable"})
    explicit.write_text("[other]\n", "utf-8")
    result = CliRunner().invoke(cli, ["validate", path, "--config", str(explicit)])
    assert result.exit_code == 1
    assert f"{explicit}: has no [validate]" in result.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("[validate\n", "not valid TOML", id="toml"),
        pytest.param('[validate]\nignor = ["x"]\n', "validate: unknown key 'ignor'", id="key"),
        pytest.param('[validate]\nignore = ["shadow"]\n', "validate.ignore: unknown code 'shadow'",
                     id="code"),
        pytest.param("[validate]\nignore = 3\n", "validate.ignore: expected a list of codes",
                     id="type"),
        pytest.param('[validate]\nstrict = "yes"\n', "validate.strict: expected true or false",
                     id="strict"),
        pytest.param("validate = 1\n", "validate: expected a table", id="table"),
    ],
)  # fmt: skip
def test_bad_config_is_one_line_exit_1(tmp_path: Path, text: str, words: str) -> None:
    path = project(tmp_path, {".postmock.toml": text})
    result = CliRunner().invoke(cli, ["validate", path])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert str(tmp_path / ".postmock.toml") in result.stderr and words in result.stderr
    assert "Traceback" not in result.output


def test_rules_from_records_its_source(tmp_path: Path) -> None:
    config = tmp_path / ".postmock.toml"
    config.write_text("[validate]\nstrict = true\n", "utf-8")
    assert rules_from(config) == Rules(strict=True, source=str(config))
