"""`postmock serve` option wiring: flags and POSTMOCK_* variables -> ServeConfig; exit codes."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import postmock.server
from postmock.cli import cli
from postmock.config import ServeConfig

SAMPLES = Path(__file__).resolve().parents[2] / "sample_collections"
PETSTORE = SAMPLES / "petstore.postman_collection.json"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No POSTMOCK_* setting of the developer's shell leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("POSTMOCK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[ServeConfig]:
    """Configs that `serve` hands to run(), which serves nothing here."""
    configs: list[ServeConfig] = []

    def fake_run(config: ServeConfig, console: Any, upstream: Any = None) -> None:
        configs.append(config)

    monkeypatch.setattr(postmock.server, "run", fake_run)
    return configs


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["serve", *args], env=env)


def config_for(
    captured: list[ServeConfig], args: list[str], env: dict[str, str] | None = None
) -> ServeConfig:
    result = invoke(["c.json", *args], env)
    assert result.exit_code == 0, result.output
    assert len(captured) == 1
    return captured.pop()


def test_defaults(captured: list[ServeConfig]) -> None:
    assert config_for(captured, []) == ServeConfig(collection=Path("c.json"))


# (command-line arguments, environment, the fields they must set)
CASES: list[tuple[str, list[str], dict[str, str], dict[str, Any]]] = [
    ("environment", ["-e", "env.json"], {"POSTMOCK_ENVIRONMENT": "env.json"},
     {"environment": Path("env.json")}),
    ("globals", ["--globals", "g.json"], {"POSTMOCK_GLOBALS": "g.json"},
     {"globals_file": Path("g.json")}),
    ("var", ["--var", "a=1", "--var", "b=x=y"], {"POSTMOCK_VAR": "a=1\nb=x=y\n"},
     {"variables": (("a", "1"), ("b", "x=y"))}),
    ("var-with-spaces", ["--var", "greeting=hello world"],
     {"POSTMOCK_VAR": "greeting=hello world"}, {"variables": (("greeting", "hello world"),)}),
    ("host", ["--host", "0.0.0.0"], {"POSTMOCK_HOST": "0.0.0.0"}, {"host": "0.0.0.0"}),
    ("port", ["--port", "8123"], {"POSTMOCK_PORT": "8123"}, {"port": 8123}),
    ("port-0", ["-p", "0"], {"POSTMOCK_PORT": "0"}, {"port": 0}),
    ("api-key", ["--api-key", "k1", "--api-key", "k2"], {"POSTMOCK_API_KEY": "k1 k2"},
     {"api_keys": ("k1", "k2")}),
    ("delay-2g", ["--delay", "2g"], {"POSTMOCK_DELAY": "2G"}, {"delay_ms": 300}),
    ("delay-3g", ["--delay", "3g"], {"POSTMOCK_DELAY": "3g"}, {"delay_ms": 100}),
    ("delay-none", ["--delay", "none"], {"POSTMOCK_DELAY": "none"}, {"delay_ms": 0}),
    ("delay-ms", ["--delay", "250"], {"POSTMOCK_DELAY": "250"}, {"delay_ms": 250}),
    ("match-body", ["--match-body"], {"POSTMOCK_MATCH_BODY": "1"}, {"match_body": True}),
    ("match-headers", ["--match-headers", "a, b,"], {"POSTMOCK_MATCH_HEADERS": "a,b"},
     {"match_headers": ("a", "b")}),
    ("no-fuzzy", ["--no-fuzzy"], {"POSTMOCK_FUZZY": "false"}, {"fuzzy": False}),
    ("seed", ["--seed", "42"], {"POSTMOCK_SEED": "42"}, {"seed": 42}),
    ("max-body-size", ["--max-body-size", "2m"], {"POSTMOCK_MAX_BODY_SIZE": "2m"},
     {"max_body_size": 2 * 1024 * 1024}),
    ("server-response", ["--server-response", "Down"], {"POSTMOCK_SERVER_RESPONSE": "Down"},
     {"server_response": "Down"}),
    ("no-cors", ["--no-cors"], {"POSTMOCK_CORS": "0"}, {"cors": False}),
    ("quiet", ["--quiet"], {"POSTMOCK_QUIET": "true"}, {"quiet": True}),
    ("no-reload", ["--no-reload"], {"POSTMOCK_RELOAD": "no"}, {"reload": False}),
    ("log-db", ["--log-db", "x/calls.db"], {"POSTMOCK_LOG_DB": "x/calls.db"},
     {"log_db": Path("x/calls.db")}),
    ("no-log", ["--no-log", "--log-db", "x.db"],
     {"POSTMOCK_NO_LOG": "1", "POSTMOCK_LOG_DB": "x.db"}, {"log_db": None}),
    ("log-max", ["--log-max", "5"], {"POSTMOCK_LOG_MAX": "5"}, {"log_max": 5}),
    ("log-body-cap", ["--log-body-cap", "4k"], {"POSTMOCK_LOG_BODY_CAP": "4k"},
     {"log_body_cap": 4096}),
    ("redact", ["--redact", "X-Token", "--redact", "Cookie"], {"POSTMOCK_REDACT": "X-Token Cookie"},
     {"redact": ("X-Token", "Cookie")}),
    ("workers", ["-w", "3"], {"POSTMOCK_WORKERS": "3"}, {"workers": 3}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "fields"), [(a, f) for _, a, _, f in CASES], ids=[c[0] for c in CASES]
)
def test_option(captured: list[ServeConfig], args: list[str], fields: dict[str, Any]) -> None:
    config = config_for(captured, args)
    assert {k: getattr(config, k) for k in fields} == fields
    assert config == ServeConfig(collection=Path("c.json"), **fields)  # nothing else changed


@pytest.mark.parametrize(
    ("env", "fields"), [(e, f) for _, _, e, f in CASES], ids=[c[0] for c in CASES]
)
def test_environment_variable(
    captured: list[ServeConfig], env: dict[str, str], fields: dict[str, Any]
) -> None:
    config = config_for(captured, [], env)
    assert config == ServeConfig(collection=Path("c.json"), **fields)


def test_option_beats_environment_variable(captured: list[ServeConfig]) -> None:
    config = config_for(captured, ["--port", "9000"], {"POSTMOCK_PORT": "8000"})
    assert config.port == 9000


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        pytest.param(["--delay", "fast"], {}, "'fast'", id="delay"),
        pytest.param([], {"POSTMOCK_DELAY": "fast"}, "'fast'", id="delay-env"),
        pytest.param(["--delay", "999999"], {}, "limit", id="delay-over-limit"),
        pytest.param(["--var", "novalue"], {}, "KEY=VALUE", id="var"),
        pytest.param(["--var", "=v"], {}, "KEY=VALUE", id="var-no-key"),
        pytest.param(["--port", "70000"], {}, "70000", id="port"),
        pytest.param([], {"POSTMOCK_PORT": "70000"}, "70000", id="port-env"),
        pytest.param(["--port", "http"], {}, "http", id="port-text"),
        pytest.param(["--max-body-size", "lots"], {}, "'lots'", id="size"),
        pytest.param(["--log-max", "0"], {}, "--log-max", id="log-max"),
        pytest.param(["--seed", "x"], {}, "--seed", id="seed"),
        pytest.param(["--workers", "0"], {}, "--workers", id="workers"),
    ],
)
def test_bad_values_are_usage_errors(
    captured: list[ServeConfig], args: list[str], env: dict[str, str], message: str
) -> None:
    result = invoke(["c.json", *args], env)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert captured == []


def test_missing_collection_argument_is_usage_error(captured: list[ServeConfig]) -> None:
    result = invoke([])
    assert result.exit_code == 2
    assert "COLLECTION" in result.stderr


def test_missing_collection_file_exits_1_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default call log would go to ./.postmock
    missing = tmp_path / "nope.postman_collection.json"
    result = invoke([str(missing), "--no-reload", "--quiet", "--port", "0"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ")
    assert str(missing) in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / ".postmock").exists()  # failed before opening the log or binding


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other socket is already listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_port_in_use_exits_3(busy_port: int, tmp_path: Path) -> None:
    args = [str(PETSTORE), "--host", "127.0.0.1", "--port", str(busy_port),
            "--no-reload", "--quiet", "--no-log"]  # fmt: skip
    result = invoke(args)
    assert result.exit_code == 3, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"127.0.0.1:{busy_port}" in result.stderr
    assert "in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_ready_options_reach_the_config(captured: list[ServeConfig], tmp_path: Path) -> None:
    result = invoke([str(PETSTORE), "--ready-file", str(tmp_path / "r"), "--print-url"])
    assert result.exit_code == 0, result.output
    assert (captured[0].ready_file, captured[0].print_url) == (tmp_path / "r", True)


def test_unwritable_ready_file_exits_3(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    ready = tmp_path / "file" / "ready"  # its folder is a file
    args = [str(PETSTORE), "--port", "0", "--ready-file", str(ready),
            "--no-reload", "--quiet", "--no-log"]  # fmt: skip
    result = invoke(args)
    assert result.exit_code == 3, result.output
    assert "cannot write the ready file" in result.stderr and str(ready) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
