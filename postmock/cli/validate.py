"""`postmock validate`: files -> ValidateConfig -> report and exit code."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from postmock.cli.base import FILE, cli, domain_errors
from postmock.errors import ExitCode


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--environment",
    "-e",
    type=FILE,
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
