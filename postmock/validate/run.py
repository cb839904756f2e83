"""`postmock validate`: schema validation plus mock-readiness lints, file by file.

A file that is not a collection at all (missing, not JSON, a v1 collection, an environment)
gets exactly one `load` error; a collection gets its schema errors and its lint warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postmock.collection.environment import load_environment
from postmock.collection.loader import collection_from_json
from postmock.collection.model import Environment
from postmock.collection.reader import read_json
from postmock.errors import LoadError
from postmock.templating.variables import VariableScope
from postmock.validate.findings import FileReport, Finding, ValidationResult
from postmock.validate.lints import LintContext, lint
from postmock.validate.schema import schema_issues, schema_version


@dataclass(frozen=True)
class ValidateConfig:
    """What to check and how: the files, an optional environment, --strict."""

    files: tuple[Path, ...]
    environment: Path | None = None
    strict: bool = False


def validate(config: ValidateConfig) -> ValidationResult:
    """Check every file. Raises LoadError only when the --environment file is unusable."""
    environment = load_environment(config.environment) if config.environment else None
    reports = tuple(validate_file(path, environment) for path in config.files)
    return ValidationResult(reports, strict=config.strict)


def validate_file(path: Path | str, environment: Environment | None = None) -> FileReport:
    """Schema errors and lint warnings of one file, or its one `load` error."""
    file = str(path)
    try:
        data = read_json(path, "collection")
        collection = collection_from_json(data, file)
    except LoadError as exc:
        return FileReport(file, (Finding(file, exc.where, exc.message, "error", "load"),))
    document, prefix = _unwrap(data)
    version = schema_version(document)
    findings = [
        Finding(file, issue.path, issue.message, "error", "schema")
        for issue in schema_issues(document, version, prefix)
    ]
    scope = VariableScope.build(collection, environment)
    findings += lint(LintContext(collection, scope, environment_given=environment is not None))
    return FileReport(file, tuple(findings), version)


def _unwrap(data: Any) -> tuple[Any, str]:
    """The collection inside the Postman API's {"collection": {...}} envelope, and its path."""
    inner = data.get("collection") if isinstance(data, dict) else None
    if isinstance(inner, dict) and "info" in inner:
        return inner, "collection"
    return data, ""
