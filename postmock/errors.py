"""One exception base for every domain error; the CLI turns them into exit codes."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    PROBLEMS = 1  # invalid input, or validation problems found
    USAGE = 2  # bad command line (click's own code)
    STARTUP_FAILURE = 3  # the server could not start (port in use, ...)


class PostmockError(Exception):
    """Base of every error postmock reports to a user as one line."""

    exit_code: ExitCode = ExitCode.PROBLEMS

    def __init__(self, message: str, *, file: Path | str | None = None, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.where = where

    def __str__(self) -> str:
        prefix = ""
        if self.file:
            prefix = self.file + (f": {self.where}" if self.where else "") + ": "
        elif self.where:
            prefix = self.where + ": "
        return prefix + self.message


class LoadError(PostmockError):
    """A collection, environment or globals file cannot be used at all."""


class StartupError(PostmockError):
    """The server could not start."""

    exit_code = ExitCode.STARTUP_FAILURE


class LogStoreError(PostmockError):
    """A call-log store or server cannot be read."""
