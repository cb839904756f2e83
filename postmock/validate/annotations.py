"""`validate --format github` and `--format sarif`: what CI systems read.

GitHub Actions turns `::error file=…,title=…::message` lines into annotations on the run
and the pull request; SARIF 2.1.0 is what code-scanning tools upload
(`github/codeql-action/upload-sarif`). Both carry the human path and the JSON path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from postmock import __version__
from postmock.collection.reader import decode
from postmock.errors import LoadError
from postmock.validate.findings import Finding, ValidationResult
from postmock.validate.locate import escape, line_numbers, line_of
from postmock.validate.settings import CODES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow command's property value: as a message, plus `:` and `,`."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


Lines = dict[str, dict[str, int]]  # file -> JSON path -> line


def finding_lines(result: ValidationResult) -> Lines:
    """The line of every finding's JSON path, file by file (a file that cannot be read: none).

    Costs one pass over each file with findings (~1 s for the 4 MB GitHub collection), so
    only the CI formats pay it.
    """
    out: Lines = {}
    for report in result.reports:
        paths = {f.path for f in report.findings}
        if not paths:
            continue
        try:
            text = decode(Path(report.file).read_bytes())
        except (OSError, LoadError):
            continue
        out[report.file] = line_numbers(text, paths)
    return out


def _line(lines: Lines, finding: Finding) -> int | None:
    found = lines.get(finding.file)
    return line_of(found, finding.path) if found is not None else None


def github_line(finding: Finding, line: int | None = None) -> str:
    """`::warning file=F,line=N,title=postmock shadowed::Where: message (JSON path)`."""
    where = f"{finding.where}: " if finding.where else ""
    path = f" ({finding.path})" if finding.path else ""
    at = f",line={line}" if line is not None else ""
    props = f"file={_property(finding.file)}{at},title={_property('postmock ' + finding.code)}"
    return f"::{finding.severity} {props}::{_data(escape(where + finding.message) + path)}"


def github_lines(result: ValidationResult) -> list[str]:
    """One workflow command per finding, at its line, then a plain summary line."""
    lines = finding_lines(result)
    return [github_line(f, _line(lines, f)) for f in result.findings] + [result.summary()]


def _uri(file: str) -> str:
    path = Path(file)
    return path.resolve().as_uri() if path.is_absolute() else path.as_posix()


def _result(finding: Finding, line: int | None) -> dict[str, Any]:
    logical: dict[str, Any] = {"fullyQualifiedName": finding.path or "(root)", "kind": "object"}
    if finding.where:
        logical["name"] = finding.where
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.file)}}
    # GitHub code scanning places a result only with a region (startLine at least)
    physical["region"] = {"startLine": line or 1}
    return {
        "ruleId": finding.code,
        "level": finding.severity,
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical, "logicalLocations": [logical]}],
        "properties": {"jsonPath": finding.path, "jsonPointer": finding.pointer},
    }


def sarif(result: ValidationResult) -> dict[str, Any]:
    """The whole run as one SARIF 2.1.0 log."""
    rules = [{"id": code, "shortDescription": {"text": text}} for code, text in CODES.items()]
    lines = finding_lines(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "postmock",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": [_result(f, _line(lines, f)) for f in result.findings],
            }
        ],
    }


def sarif_text(result: ValidationResult) -> str:
    return json.dumps(sarif(result), indent=2, ensure_ascii=False)
