"""`postmock validate`: schema validation plus mock-readiness lints, file by file.

A file that is not a collection at all (missing, not JSON, a v1 collection, an environment)
gets exactly one `load` error; a collection gets its schema errors and its lint warnings,
each with its human path, filtered by the file's rules (`settings.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
from postmock.validate.locate import Locator, parts
from postmock.validate.schema import schema_issues, schema_version
from postmock.validate.settings import RuleFinder, Rules


@dataclass(frozen=True)
class ValidateConfig:
    """What to check and how: the files, an optional environment, the rules given.

    `select`/`ignore` None means "as the file's configuration says"; `config` names one
    configuration file for every collection instead of finding each one's nearest.
    """

    files: tuple[Path, ...]
    environment: Path | None = None
    strict: bool = False
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    config: Path | None = None
    isolated: bool = False  # no configuration file at all


def validate(config: ValidateConfig) -> ValidationResult:
    """Check every file. Raises LoadError when --environment or a config file is unusable."""
    environment = load_environment(config.environment) if config.environment else None
    finder = None if config.isolated else RuleFinder(config.config)
    reports = []
    for path in config.files:
        rules = finder.for_file(Path(path)) if finder is not None else Rules()
        rules = rules.merged(config.select, config.ignore, config.strict)
        reports.append(validate_file(path, environment, rules))
    return ValidationResult(tuple(reports), strict=config.strict)


def validate_file(
    path: Path | str, environment: Environment | None = None, rules: Rules | None = None
) -> FileReport:
    """Schema errors and lint warnings of one file, or its one `load` error."""
    file = str(path)
    rules = rules or Rules()
    try:
        data = read_json(path, "collection")
        collection = collection_from_json(data, file)
    except LoadError as exc:
        return FileReport(file, (Finding(file, exc.where, exc.message, "error", "load"),))
    document, prefix = _unwrap(data)
    version = schema_version(document)
    findings = []
    if rules.keeps("schema", "error"):
        findings += [
            Finding(file, issue.path, issue.message, "error", "schema")
            for issue in schema_issues(document, version, prefix)
        ]
    scope = VariableScope.build(collection, environment)
    context = LintContext(collection, scope, environment_given=environment is not None)
    findings += lint(context, lambda code: rules.keeps(code, "warning"))
    locator = Locator(collection)
    located = [replace(f, where=locator.human(f.path)) for f in findings]
    located.sort(key=lambda f: _order(f.path))  # along the file, like a compiler's output
    return FileReport(file, tuple(located), version, rules.strict)


def _order(path: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts `item[2]` before `item[10]`, and the root first."""
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in parts(path) or ())


def _unwrap(data: Any) -> tuple[Any, str]:
    """The collection inside the Postman API's {"collection": {...}} envelope, and its path."""
    inner = data.get("collection") if isinstance(data, dict) else None
    if isinstance(inner, dict) and "info" in inner:
        return inner, "collection"
    return data, ""
