"""What `postmock validate` reports: one Finding per problem, grouped per file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from postmock.validate.locate import pointer

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem in one file, at one JSON path (`item[2].response[0].code`; "" = the root)."""

    file: str
    path: str
    message: str
    severity: Severity
    code: str  # schema, load, no-examples, duplicate-name, shadowed, unresolved-variable, ...
    where: str = ""  # the human path: `Pets › Update pet › Storage failure` ("" = unknown)

    @property
    def pointer(self) -> str:
        """The RFC 6901 JSON pointer of `path` (`/item/2/response/0/code`)."""
        return pointer(self.path)

    def to_json(self) -> dict[str, str]:
        return {
            "file": self.file,
            "path": self.path,
            "pointer": self.pointer,
            "where": self.where,
            "message": self.message,
            "severity": self.severity,
            "code": self.code,
        }


@dataclass(frozen=True)
class FileReport:
    """Everything found in one file; `version` is the schema it was checked against, if any."""

    file: str
    findings: tuple[Finding, ...] = ()
    version: str | None = None
    strict: bool = False  # warnings fail this file (--strict or its config)

    @property
    def failed(self) -> bool:
        return self.errors > 0 or (self.strict and self.warnings > 0)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "version": self.version,
            "valid": self.errors == 0,
            "errors": self.errors,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class ValidationResult:
    """The reports of every file checked, in command-line order."""

    reports: tuple[FileReport, ...]
    strict: bool = False

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for report in self.reports for f in report.findings)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.reports)

    @property
    def warnings(self) -> int:
        return sum(r.warnings for r in self.reports)

    @property
    def failed(self) -> bool:
        """True when the exit code must be 1: any error, or any warning under --strict."""
        return any(r.failed for r in self.reports) or (self.strict and self.warnings > 0)

    def summary(self) -> str:
        """`3 files, 2 errors, 5 warnings`."""
        return (
            f"{plural(len(self.reports), 'file')}, {plural(self.errors, 'error')}, "
            f"{plural(self.warnings, 'warning')}"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "files": [r.to_json() for r in self.reports],
            "findings": [f.to_json() for f in self.findings],
            "summary": {
                "files": len(self.reports),
                "errors": self.errors,
                "warnings": self.warnings,
                "strict": self.strict,
                "ok": not self.failed,
            },
        }


def plural(n: int, word: str) -> str:
    """`1 error`, `2 errors`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
