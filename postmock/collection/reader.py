"""Read a JSON file the way Postman exports look in the wild: BOMs, UTF-16, clear errors."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from postmock.errors import LoadError

# orjson parses a 4 MB collection ~7x faster than json: it is start-up time on big files.
# json stays for its error messages (line and column), read only when a file is broken.
_fast_loads: Callable[[str | bytes], Any] = orjson.loads


def decode(data: bytes) -> str:
    """Decode file bytes: UTF-8 (with or without BOM), or UTF-16 when it carries a BOM."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def read_json(path: str | Path, what: str = "file") -> Any:
    """Load a JSON document, raising LoadError with one line that says where it broke."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"{what} not found", file=path) from None
    except IsADirectoryError:
        raise LoadError(f"is a directory, not a {what}", file=path) from None
    except OSError as exc:
        raise LoadError(f"cannot read {what}: {exc.strerror or exc}", file=path) from None
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"not UTF-8 text (byte {exc.start}); save the {what} as UTF-8", file=path
        ) from None
    if not text.strip():
        raise LoadError(f"empty file, not a {what}", file=path)
    try:
        return _fast_loads(text)
    except ValueError:
        pass  # parse again with the stdlib for its line and column
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if _OPENAPI_YAML.search(text[:4096]):
            raise LoadError(OPENAPI_HELP, file=path) from None
        raise LoadError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=path
        ) from None
    except RecursionError:  # orjson stops at 1024 levels, json near the recursion limit
        raise LoadError(
            f"nested too deeply to read (over {_MAX_DEPTH} levels of JSON)", file=path
        ) from None


_MAX_DEPTH = 1024
#: An OpenAPI/Swagger document in YAML: a top-level `openapi:` or `swagger:` key.
_OPENAPI_YAML = re.compile(r"^(openapi|swagger)\s*:", re.M)
OPENAPI_HELP = (
    "this is an OpenAPI/Swagger description, not a Postman collection; import it into "
    "Postman (File > Import) and export the collection, or convert it with: "
    "npx openapi-to-postmanv2 -s SPEC -o collection.json"
)
