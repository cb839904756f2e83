"""`postmock validate`: files and rules -> ValidateConfig -> report and exit code."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from postmock.cli.base import FILE, cli, domain_errors, examples
from postmock.errors import ExitCode
from postmock.validate.settings import split_codes

EXAMPLES = examples(
    "postmock validate *.postman_collection.json",
    "postmock validate api.json --ignore shadowed,duplicate-name --strict",
    "postmock validate api.json --format github      # annotations in GitHub Actions",
    "postmock validate api.json --format sarif > postmock.sarif",
)


def _codes(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...] | None:
    """Repeated or comma/space-separated codes; None when the option was not given."""
    if not values:
        return None
    try:
        return split_codes(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@cli.command(epilog=EXAMPLES)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--environment",
    "-e",
    type=FILE,
    envvar="POSTMOCK_ENVIRONMENT",
    help="Environment file whose variables count as defined (for unresolved-variable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    show_default=True,
    envvar="POSTMOCK_FORMAT",
    help="text: Rich on a terminal, plain lines when piped; json: one document; "
    "github: Actions annotations; sarif: SARIF 2.1.0 for code scanning.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    callback=_codes,
    envvar="POSTMOCK_SELECT",
    help="Report only these codes (comma or space separated, repeatable; ALL = every code).",
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="CODES",
    callback=_codes,
    envvar="POSTMOCK_IGNORE",
    help="Do not report these codes (e.g. shadowed,duplicate-name).",
)
@click.option(
    "--strict",
    is_flag=True,
    envvar="POSTMOCK_STRICT",
    help="Exit 1 on warnings too, not only on errors.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="POSTMOCK_CONFIG",
    help="Use this .postmock.toml / pyproject.toml instead of each file's nearest one.",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
def validate(
    files: tuple[Path, ...],
    environment: Path | None,
    fmt: str,
    select: tuple[str, ...] | None,
    ignore: tuple[str, ...] | None,
    strict: bool,
    config: Path | None,
    isolated: bool,
) -> None:
    """Check collection FILES against the Postman schema, then lint them for mocking.

    Settings come from the nearest .postmock.toml ([validate]) or pyproject.toml
    ([tool.postmock.validate]) above each file: select, ignore, strict. Exit 0 when no
    file has errors (warnings allowed), 1 on any error (or warning with --strict), 2 on
    a bad command line or option value.
    """
    # jsonschema and the lints are only paid for by `validate`.
    from postmock.validate.report import render as render_validation
    from postmock.validate.run import ValidateConfig
    from postmock.validate.run import validate as run_validation

    run = ValidateConfig(files, environment, strict, select, ignore, config, isolated)
    with domain_errors():
        result = run_validation(run)
    render_validation(result, Console(), fmt)  # type: ignore[arg-type]
    raise SystemExit(int(ExitCode.PROBLEMS if result.failed else ExitCode.OK))
