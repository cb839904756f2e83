"""The command line: options -> frozen config -> core; domain errors -> exit codes. No logic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from postmock import __version__
from postmock.calllog.filter import CallFilter, status_range
from postmock.calllog.record import parse_time
from postmock.config import (
    DEFAULT_BODY_CAP,
    DEFAULT_DELAY,
    DEFAULT_HOST,
    DEFAULT_LOG_DB,
    DEFAULT_LOG_MAX,
    DEFAULT_LOGS_LIMIT,
    DEFAULT_MAX_BODY,
    DEFAULT_PORT,
    DEFAULT_URL,
    DEFAULT_WORKERS,
    ServeConfig,
    format_size,
    parse_delay,
    parse_size,
)
from postmock.errors import ExitCode, PostmockError
from postmock.templating.variables import parse_assignment

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn PostmockError into one line on stderr and its exit code: never a traceback."""
    try:
        yield
    except PostmockError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise click.exceptions.Exit(int(exc.exit_code)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="postmock")
def cli() -> None:
    """Serve a Postman Collection as a local mock server, the way Postman's mocks answer."""


def _converter(parse: Callable[[str], Any]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback that turns a ValueError from `parse` into a usage error."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            if isinstance(value, tuple):
                return tuple(parse(v) for v in value)
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    return callback


def _header_list(value: str) -> tuple[str, ...]:
    return tuple(h.strip() for h in value.split(",") if h.strip())


_FILE = click.Path(dir_okay=False, path_type=Path)


@cli.command()
@click.argument("collection", type=_FILE)
@click.option(
    "-e",
    "--environment",
    type=_FILE,
    envvar="POSTMOCK_ENVIRONMENT",
    help="Postman environment file whose values feed {{variables}}.",
)
@click.option(
    "--globals",
    "globals_file",
    type=_FILE,
    envvar="POSTMOCK_GLOBALS",
    help="Postman globals file (below the environment; Postman's mocks ignore globals).",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    envvar="POSTMOCK_VAR",
    callback=_converter(parse_assignment),
    help="Set a variable; beats every file.",
)
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    envvar="POSTMOCK_HOST",
    help="Interface to bind (0.0.0.0 exposes the mock to your network).",
)
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    envvar="POSTMOCK_PORT",
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    envvar="POSTMOCK_API_KEY",
    metavar="KEY",
    help="Make the mock private: every call needs x-api-key. Repeatable.",
)
@click.option(
    "--delay",
    default=DEFAULT_DELAY,
    show_default=True,
    envvar="POSTMOCK_DELAY",
    callback=_converter(parse_delay),
    help="Network delay: none, 2g (300 ms), 3g (100 ms) or MS.",
)
@click.option(
    "--match-body/--no-match-body",
    default=False,
    envvar="POSTMOCK_MATCH_BODY",
    help="Drop examples whose saved request body differs from the call's.",
)
@click.option(
    "--match-headers",
    default="",
    envvar="POSTMOCK_MATCH_HEADERS",
    metavar="K1,K2",
    callback=_converter(_header_list),
    help="Drop examples lacking these request headers.",
)
@click.option(
    "--fuzzy/--no-fuzzy",
    default=True,
    envvar="POSTMOCK_FUZZY",
    show_default=True,
    help="Allow the 'document distance' path rule (near-miss paths still match).",
)
@click.option(
    "--seed", type=int, envvar="POSTMOCK_SEED", help="Seed dynamic variables for repeatable bodies."
)
@click.option(
    "--max-body-size",
    default=format_size(DEFAULT_MAX_BODY),
    show_default=True,
    envvar="POSTMOCK_MAX_BODY_SIZE",
    callback=_converter(parse_size),
    metavar="BYTES",
    help="Larger request bodies get 413.",
)
@click.option(
    "--server-response",
    envvar="POSTMOCK_SERVER_RESPONSE",
    metavar="NAME",
    help="Answer every call with this example (an outage drill).",
)
@click.option(
    "--cors/--no-cors",
    default=True,
    envvar="POSTMOCK_CORS",
    show_default=True,
    help="Add CORS headers and answer preflights.",
)
@click.option(
    "-q", "--quiet", is_flag=True, envvar="POSTMOCK_QUIET", help="No call table or lines."
)
@click.option(
    "--reload/--no-reload",
    default=True,
    envvar="POSTMOCK_RELOAD",
    show_default=True,
    help="Recompile when the collection or environment file changes.",
)
@click.option(
    "--log-db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_LOG_DB,
    show_default=True,
    envvar="POSTMOCK_LOG_DB",
    help="Call-log store (SQLite).",
)
@click.option("--no-log", is_flag=True, envvar="POSTMOCK_NO_LOG", help="Keep no call log.")
@click.option(
    "--log-max",
    type=click.IntRange(1),
    default=DEFAULT_LOG_MAX,
    show_default=True,
    envvar="POSTMOCK_LOG_MAX",
    help="Keep at most this many calls.",
)
@click.option(
    "--log-body-cap",
    default=format_size(DEFAULT_BODY_CAP),
    show_default=True,
    envvar="POSTMOCK_LOG_BODY_CAP",
    callback=_converter(parse_size),
    metavar="BYTES",
    help="Cut logged bodies at this size.",
)
@click.option(
    "--redact",
    multiple=True,
    envvar="POSTMOCK_REDACT",
    metavar="HEADER",
    help="Also mask this header's (or query parameter's) value in the log. Repeatable.",
)
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(1, 64),
    default=DEFAULT_WORKERS,
    show_default=True,
    envvar="POSTMOCK_WORKERS",
    help="Processes sharing the port (SO_REUSEPORT).",
)
def serve(
    collection: Path,
    environment: Path | None,
    globals_file: Path | None,
    variables: tuple[tuple[str, str], ...],
    host: str,
    port: int,
    api_keys: tuple[str, ...],
    delay: int,
    match_body: bool,
    match_headers: tuple[str, ...],
    fuzzy: bool,
    seed: int | None,
    max_body_size: int,
    server_response: str | None,
    cors: bool,
    quiet: bool,
    reload: bool,
    log_db: Path,
    no_log: bool,
    log_max: int,
    log_body_cap: int,
    redact: tuple[str, ...],
    workers: int,
) -> None:
    """Serve COLLECTION's saved examples as a mock HTTP server."""
    config = ServeConfig(
        collection=collection,
        environment=environment,
        globals_file=globals_file,
        variables=variables,
        host=host,
        port=port,
        api_keys=api_keys,
        delay_ms=delay,
        match_body=match_body,
        match_headers=match_headers,
        fuzzy=fuzzy,
        seed=seed,
        max_body_size=max_body_size,
        server_response=server_response,
        cors=cors,
        quiet=quiet,
        reload=reload,
        log_db=None if no_log else log_db,
        log_max=log_max,
        log_body_cap=log_body_cap,
        redact=redact,
        workers=workers,
    )
    from postmock.server import run  # the server's imports are only paid for by `serve`

    with domain_errors():
        run(config, Console(stderr=False))


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--environment",
    "-e",
    type=_FILE,
    help="Environment file whose variables count as defined (for unresolved-variable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: Rich on a terminal, plain lines when piped; json: one JSON document.",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
def validate(files: tuple[Path, ...], environment: Path | None, fmt: str, strict: bool) -> None:
    """Check collection FILES against the Postman schema, then lint them for mocking.

    Exit 0 when no file has errors (warnings allowed), 1 on any error (or warning with
    --strict), 2 on a bad command line.
    """
    # jsonschema and the lints are only paid for by `validate`.
    from postmock.validate.report import render as render_validation
    from postmock.validate.run import ValidateConfig
    from postmock.validate.run import validate as run_validation

    with domain_errors():
        result = run_validation(ValidateConfig(files, environment, strict))
    render_validation(result, Console(), "json" if fmt == "json" else "text")
    raise SystemExit(int(ExitCode.PROBLEMS if result.failed else ExitCode.OK))


def _since(value: str) -> float:
    return parse_time(value, relative=True)


def _status(value: str) -> str:
    status_range(value)  # raises ValueError on anything but 404 / 4xx
    return value


@cli.command()
@click.option(
    "--url",
    default=DEFAULT_URL,
    show_default=True,
    envvar="POSTMOCK_URL",
    help="A running postmock server to read from.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POSTMOCK_LOG_DB",
    help="Read a call-log store file instead (works after the server stopped).",
)
@click.option("-f", "--follow", is_flag=True, help="Keep showing new calls until Ctrl-C.")
@click.option("--json", "as_json", is_flag=True, help="One JSON call per line (the API's shape).")
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(1),
    default=DEFAULT_LOGS_LIMIT,
    show_default=True,
    help="Show the newest N calls.",
)
@click.option(
    "--status",
    callback=_converter(_status),
    metavar="CODE",
    help="Only this status code (404) or class (4xx).",
)
@click.option("--method", metavar="METHOD", help="Only this request method.")
@click.option("--path", metavar="TEXT", help="Only paths containing TEXT (case-insensitive).")
@click.option("--search", metavar="TEXT", help="Only calls with TEXT in path, example or bodies.")
@click.option(
    "--since",
    callback=_converter(_since),
    metavar="TIME",
    help="Only calls since TIME: ISO-8601, epoch seconds or a duration (15m, 2h).",
)
@click.option("--show", metavar="ID", help="Show one call in full.")
@click.option(
    "--api-key", envvar="POSTMOCK_API_KEY", metavar="KEY", help="x-api-key for a private server."
)
def logs(
    url: str,
    db: Path | None,
    follow: bool,
    as_json: bool,
    limit: int,
    status: str | None,
    method: str | None,
    path: str | None,
    search: str | None,
    since: float | None,
    show: str | None,
    api_key: str | None,
) -> None:
    """Show the calls a mock answered: from a running server or its store file."""
    from postmock.views.logs import LogsOptions, run_logs

    options = LogsOptions(
        url=url,
        db=db,
        follow=follow,
        json=as_json,
        limit=limit,
        filter=CallFilter(since=since, status=status, method=method, path=path, search=search),
        show=show,
        api_key=api_key,
    )
    with domain_errors():
        try:
            run_logs(options, Console())
        except KeyboardInterrupt:
            pass  # Ctrl-C ends --follow: a normal way out


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="postmock")


__all__ = ["ExitCode", "cli", "domain_errors", "main"]
