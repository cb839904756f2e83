"""`postmock coverage`: collection + kept calls -> which examples were served; exit code for CI."""

from __future__ import annotations

import json
from pathlib import Path

import click

from postmock.cli.base import FILE, cli, domain_errors, examples
from postmock.config import DEFAULT_URL
from postmock.errors import ExitCode

EXAMPLES = examples(
    "postmock coverage collection.json",
    "postmock coverage collection.json --db .postmock/calls.db --fail-under 80",
    "postmock coverage collection.json --url http://127.0.0.1:3000 --format json",
)


@cli.command(epilog=EXAMPLES)
@click.argument("collection", type=FILE)
@click.option(
    "--url",
    default=DEFAULT_URL,
    show_default=True,
    envvar="POSTMOCK_URL",
    help="A running postmock server whose calls to count.",
)
@click.option(
    "--db",
    type=FILE,
    envvar="POSTMOCK_LOG_DB",
    help="Count the calls of a call-log store file instead.",
)
@click.option(
    "--api-key", envvar="POSTMOCK_API_KEY", metavar="KEY", help="x-api-key for a private server."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json: one document (total, served, percent, examples).",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Exit 1 when fewer than PCT percent of the examples were served.",
)
def coverage(
    collection: Path,
    url: str,
    db: Path | None,
    api_key: str | None,
    fmt: str,
    fail_under: float | None,
) -> None:
    """Show which examples of COLLECTION the kept calls were served, and which never.

    Exit 0, or 1 under --fail-under (or when the collection or calls cannot be read).
    """
    from postmock.testing.coverage import coverage as measure_coverage
    from postmock.testing.coverage import render_text

    with domain_errors():
        report = measure_coverage(collection, url=url, db=db, api_key=api_key)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(report))
    if fail_under is not None and report.percent < fail_under:
        click.echo(
            f"Error: {report.percent:g}% of the examples were served, under --fail-under "
            f"{fail_under:g}%",
            err=True,
        )
        raise SystemExit(int(ExitCode.PROBLEMS))
