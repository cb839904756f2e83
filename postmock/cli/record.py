"""`postmock record`: options -> RecordOptions -> postmock.proxy.record."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from postmock.cli.base import FILE, cli, converter, domain_errors, upstream_connection_options
from postmock.config import DEFAULT_HOST, DEFAULT_PORT
from postmock.proxy.url import check_upstream_url


@cli.command()
@click.option(
    "--upstream",
    required=True,
    envvar="POSTMOCK_UPSTREAM",
    metavar="URL",
    callback=converter(check_upstream_url),
    help="The real API every call is forwarded to.",
)
@click.option(
    "--out",
    required=True,
    type=FILE,
    metavar="COLLECTION.json",
    help="Collection to save the answers into (created when missing, extended when not).",
)
@click.option("--name", help="Collection name (a new file gets its file name).")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to bind.")
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@upstream_connection_options
@click.option(
    "--redact",
    multiple=True,
    metavar="NAME",
    help="Also keep this header's (or query parameter's) value out of the file. Repeatable.",
)
def record(
    upstream: str,
    out: Path,
    name: str | None,
    host: str,
    port: int,
    upstream_timeout: float,
    upstream_ca: Path | None,
    upstream_insecure: bool,
    redact: tuple[str, ...],
) -> None:
    """Forward every call to --upstream and save each answer as an example in --out."""
    from postmock.proxy.record import RecordOptions, run_record

    options = RecordOptions(
        upstream=upstream,
        out=out,
        name=name,
        host=host,
        port=port,
        timeout=upstream_timeout,
        ca_file=upstream_ca,
        insecure=upstream_insecure,
        redact=redact,
    )
    with domain_errors():
        run_record(options, Console())
