"""What every command shares: the group, errors -> exit codes, option converters, help.

Every command of the group is a `PostmockCommand`: its `--help` shows each option's
`POSTMOCK_*` variable, and a bad value that came from one is reported under the
variable's name, not the option's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from postmock import __version__
from postmock.config import DEFAULT_UPSTREAM_TIMEOUT
from postmock.errors import PostmockError

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn PostmockError into one line on stderr and its exit code: never a traceback."""
    try:
        yield
    except PostmockError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise click.exceptions.Exit(int(exc.exit_code)) from None


def env_source(ctx: click.Context, param: click.Parameter | None) -> str | None:
    """The environment variable a parameter's value came from, or None."""
    if not isinstance(param, click.Option) or param.name is None or not param.envvar:
        return None
    if ctx.get_parameter_source(param.name) is not ParameterSource.ENVIRONMENT:
        return None
    names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
    return next((n for n in names if n in os.environ), names[0])


class PostmockCommand(click.Command):
    """A command whose help names every option's variable and whose errors name it too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, click.Option) and param.envvar:
                param.show_envvar = True

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.BadParameter as exc:
            name = env_source(ctx, exc.param)
            if name is not None:
                exc.param_hint = f"{name} (environment variable)"
            elif isinstance(exc.param, click.Option):  # given on the command line: no env hint
                exc.param_hint = " / ".join(f"'{opt}'" for opt in exc.param.opts)
            raise


class PostmockGroup(click.Group):
    command_class = PostmockCommand


GROUP_EPILOG = """\b
Examples:
  postmock serve collection.json -e env.json
  postmock validate *.postman_collection.json --strict
  postmock logs --follow

Every option can come from a POSTMOCK_* variable (shown in each command's --help).

\b
Shell completion (bash; or zsh_source, fish_source):
  eval "$(_POSTMOCK_COMPLETE=bash_source postmock)"
"""


@click.group(
    cls=PostmockGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=GROUP_EPILOG,
)
@click.version_option(__version__, prog_name="postmock")
def cli() -> None:
    """Serve a Postman Collection as a local mock server, the way Postman's mocks answer."""


def examples(*lines: str) -> str:
    """A command's epilog: its examples, kept as written by click's help formatter."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


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


class Lines(click.ParamType):
    """A repeatable option whose variable holds one value per line (values may have spaces).

    `POSTMOCK_VAR="greeting=hello world"` is one assignment; several go on several lines.
    """

    name = "text"

    def split_envvar_value(self, rv: str) -> list[str]:
        return [line.lstrip() for line in rv.splitlines() if line.strip()]

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value


LINES = Lines()


# Directories pass: the loader says "is a directory" in one line with exit 1 (README).
FILE = click.Path(path_type=Path)


def upstream_connection_options(f: F) -> F:
    """`--upstream-timeout`, `--upstream-ca`, `--upstream-insecure`: `serve` and `record`."""
    options = [
        click.option(
            "--upstream-timeout",
            type=click.FloatRange(0, min_open=True),
            default=DEFAULT_UPSTREAM_TIMEOUT,
            show_default=True,
            envvar="POSTMOCK_UPSTREAM_TIMEOUT",
            metavar="SECONDS",
            help="Give up on the upstream (504) after this long without a byte.",
        ),
        click.option(
            "--upstream-ca",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            envvar="POSTMOCK_UPSTREAM_CA",
            metavar="FILE",
            help="Verify an HTTPS upstream with these CA certificates (PEM) instead of the "
            "system's.",
        ),
        click.option(
            "--upstream-insecure",
            is_flag=True,
            envvar="POSTMOCK_UPSTREAM_INSECURE",
            help="Do not verify an HTTPS upstream's certificate.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f
