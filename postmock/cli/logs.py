"""`postmock logs`: options -> LogsOptions -> postmock.views.logs."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from postmock.calllog.filter import CallFilter, status_range
from postmock.calllog.ids import check_part
from postmock.calllog.record import parse_time
from postmock.cli.base import cli, converter, domain_errors, examples
from postmock.config import DEFAULT_LOGS_LIMIT, DEFAULT_URL
from postmock.errors import LogStoreError


def _since(value: str) -> float:
    return parse_time(value, relative=True)


def _status(value: str) -> str:
    status_range(value)  # raises ValueError on anything but 404 / 4xx
    return value


EXAMPLES = examples(
    "postmock logs --follow",
    "postmock logs --status 4xx --since 15m",
    "postmock logs --db .postmock/calls.db --json | jq .response.code",
)


@cli.command(epilog=EXAMPLES)
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
    callback=converter(_status),
    metavar="CODE",
    help="Only this status code (404) or class (4xx).",
)
@click.option("--method", metavar="METHOD", help="Only this request method.")
@click.option("--path", metavar="TEXT", help="Only paths containing TEXT (case-insensitive).")
@click.option("--search", metavar="TEXT", help="Only calls with TEXT in path, example or bodies.")
@click.option(
    "--since",
    callback=converter(_since),
    metavar="TIME",
    help="Only calls since TIME: ISO-8601, epoch seconds or a duration (15m, 2h).",
)
@click.option(
    "--show",
    metavar="ID",
    callback=converter(check_part),
    help="Show one call in full: its id, or any unique part of it (4+ characters).",
)
@click.option(
    "--api-key", envvar="POSTMOCK_API_KEY", metavar="KEY", help="x-api-key for a private server."
)
# --- saving a call as an example (#16)
@click.option("--save", metavar="ID", help="Save this call as an example (needs --into).")
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="COLLECTION.json",
    help="Collection file --save adds the example to (created when missing).",
)
@click.option(
    "--cacert",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POSTMOCK_CACERT",
    metavar="CA.pem",
    help="Trust this CA for an https:// --url (serve --tls prints its path).",
)
@click.option(
    "--all-servers",
    is_flag=True,
    help="Every server's calls in the store, not only those of the server at --url.",
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
    save: str | None,
    into: Path | None,
    cacert: Path | None,
    all_servers: bool,
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
        cacert=cacert,
        all_servers=all_servers,
    )
    if (save is None) != (into is None):
        raise click.UsageError("--save ID and --into COLLECTION.json go together")
    if save is not None and into is not None:
        from postmock.proxy.save import save_logged_call
        from postmock.views.logs import open_source

        with domain_errors():
            source = open_source(options)
            try:
                record = source.get(save)
            finally:
                source.close()
            if record is None:
                raise LogStoreError(f"no call with id {save!r} in the log")
            click.echo(save_logged_call(record, into))
        return
    with domain_errors():
        try:
            run_logs(options, Console())
        except KeyboardInterrupt:
            pass  # Ctrl-C ends --follow: a normal way out
