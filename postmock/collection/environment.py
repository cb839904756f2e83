"""Lenient loader for Postman environment and globals files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from postmock.collection.convert import text
from postmock.collection.loader import _Loader
from postmock.collection.model import Environment
from postmock.collection.reader import read_json
from postmock.errors import LoadError


def load_environment(path: str | Path, scope: str = "environment") -> Environment:
    """Load an environment file, or a globals file (which may be a bare list)."""
    file = str(path)
    data = read_json(path, f"{scope} file")
    return environment_from_json(data, file, scope)


def environment_from_json(
    data: Any, file: str = "<environment>", scope: str = "environment"
) -> Environment:
    """Convert a parsed environment or globals document into the model."""
    loader = _Loader(file)
    if isinstance(data, list):  # old globals exports: a bare array of variables
        return Environment(
            name=Path(file).stem,
            source=file,
            values=loader.variables(data, ""),
            scope="globals",
            warnings=tuple(loader.warnings),
        )
    if not isinstance(data, dict):
        raise LoadError(f"not a Postman {scope} file (the top level is not an object)", file=file)
    if "values" not in data:
        if "info" in data and ("item" in data or "items" in data):
            raise LoadError(f"this is a collection, not an {scope} file", file=file)
        raise LoadError(f"not a Postman {scope} file (no 'values' list)", file=file)
    declared = text(data.get("_postman_variable_scope"))
    kind = (
        "globals"
        if declared == "globals" or (not declared and scope == "globals")
        else "environment"
    )
    return Environment(
        name=text(data.get("name")) or Path(file).stem,
        source=file,
        values=loader.variables(data.get("values"), "values"),
        scope=kind,  # type: ignore[arg-type]
        warnings=tuple(loader.warnings),
    )
