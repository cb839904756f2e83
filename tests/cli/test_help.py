"""What a person reads from the command line: help with examples and variables, errors."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from postmock.cli import cli


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("POSTMOCK_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("command", "words"),
    [
        pytest.param("serve", ["Examples:", "postmock serve collection.json -e env.json",
                               "env var: POSTMOCK_PORT", "env var: POSTMOCK_VAR"], id="serve"),
        pytest.param("validate", ["Examples:", "--format github", "env var: POSTMOCK_IGNORE",
                                  "pyproject.toml"], id="validate"),
        pytest.param("logs", ["Examples:", "postmock logs --follow", "env var: POSTMOCK_URL"],
                     id="logs"),
        pytest.param("coverage", ["Examples:", "--fail-under 80", "env var: POSTMOCK_LOG_DB"],
                     id="coverage"),
    ],
)  # fmt: skip
def test_command_help_has_examples_and_variables(command: str, words: list[str]) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=100)
    assert result.exit_code == 0
    flowing = " ".join(result.output.split())  # help text wraps where the terminal ends
    for word in words:
        assert word in flowing, word
    # click's \b keeps the examples one per line instead of rewrapping them into a paragraph
    examples = result.output.split("Examples:", 1)[1].splitlines()
    assert examples[1].strip().startswith(f"postmock {command}")


def test_group_help_documents_completion() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "_POSTMOCK_COMPLETE=bash_source postmock" in result.output


@pytest.mark.parametrize(
    ("args", "env", "named", "not_named"),
    [
        pytest.param(["serve", "c.json"], {"POSTMOCK_PORT": "abc"},
                     "Invalid value for POSTMOCK_PORT (environment variable)", "'--port'",
                     id="port-from-env"),
        pytest.param(["serve", "c.json", "--port", "abc"], {}, "Invalid value for '-p' / '--port'",
                     "POSTMOCK_PORT", id="port-from-option"),
        pytest.param(["serve", "c.json"], {"POSTMOCK_DELAY": "fast"},
                     "POSTMOCK_DELAY (environment variable)", "'--delay'", id="delay-from-env"),
        pytest.param(["validate", "c.json"], {"POSTMOCK_IGNORE": "bogus"},
                     "POSTMOCK_IGNORE (environment variable): unknown code 'bogus'", "'--ignore'",
                     id="ignore-from-env"),
        pytest.param(["validate", "c.json", "--select", "shadowed,nope"], {},
                     "Invalid value for '--select': unknown code 'nope'", "POSTMOCK_SELECT",
                     id="select-from-option"),
    ],
)  # fmt: skip
def test_bad_value_names_where_it_came_from(
    args: list[str], env: dict[str, str], named: str, not_named: str
) -> None:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2
    assert named in result.stderr
    assert not_named not in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_as_documented(shell: str) -> None:
    env = {"_POSTMOCK_COMPLETE": f"{shell}_source"}
    result = CliRunner().invoke(cli, [], prog_name="postmock", env=env)
    assert result.exit_code == 0
    assert "_POSTMOCK_COMPLETE" in result.output


def test_completion_completes_commands_and_options() -> None:
    def complete(words: str) -> str:
        env = {
            "_POSTMOCK_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        }
        return CliRunner().invoke(cli, [], prog_name="postmock", env=env).output

    assert "plain,validate" in complete("postmock val")
    assert "plain,--ignore" in complete("postmock validate --ig")
