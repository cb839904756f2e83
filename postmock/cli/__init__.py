"""The command line: options -> frozen config -> core; domain errors -> exit codes. No logic.

One module per command; `base` holds the group and what the commands share.
"""

from __future__ import annotations

from postmock.cli import coverage as _coverage  # noqa: F401  (registers the command)
from postmock.cli import logs as _logs  # noqa: F401
from postmock.cli import record as _record  # noqa: F401
from postmock.cli import serve as _serve  # noqa: F401
from postmock.cli import validate as _validate  # noqa: F401
from postmock.cli.base import cli, domain_errors
from postmock.errors import ExitCode


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="postmock")


__all__ = ["ExitCode", "cli", "domain_errors", "main"]
