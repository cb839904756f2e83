"""What every command shares: the group, errors -> exit codes, option converters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from postmock import __version__
from postmock.errors import PostmockError


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


def converter(parse: Callable[[str], Any]) -> Callable[[click.Context, click.Parameter, Any], Any]:
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


def header_list(value: str) -> tuple[str, ...]:
    return tuple(h.strip() for h in value.split(",") if h.strip())


FILE = click.Path(dir_okay=False, path_type=Path)
