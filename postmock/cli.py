"""The command line: options -> frozen config -> core; domain errors -> exit codes. No logic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from . import __version__
from .errors import ExitCode, PostmockError

F = TypeVar("F", bound=Callable[..., Any])


class DomainError(click.ClickException):
    """A PostmockError on its way out: one line on stderr, its exit code, no traceback."""

    def __init__(self, error: PostmockError) -> None:
        super().__init__(str(error))
        self.exit_code = int(error.exit_code)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn PostmockError into a click error at the edge."""
    try:
        yield
    except PostmockError as exc:
        raise DomainError(exc) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="postmock")
def cli() -> None:
    """Serve a Postman Collection as a local mock server, the way Postman's mocks answer."""


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="postmock")


__all__ = ["DomainError", "ExitCode", "cli", "domain_errors", "main"]
