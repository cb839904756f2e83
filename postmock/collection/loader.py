"""Lenient loader: Postman v2.0/v2.1 collections and environments into the frozen model.

Anything that cannot be used is skipped with a warning that says where (its JSON path);
only a file that is not a collection at all raises LoadError.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from postmock.collection.convert import (
    is_disabled,
    parse_header_string,
    parse_url_string,
    split_path,
    text,
)
from postmock.collection.model import (
    Body,
    Collection,
    Example,
    FormField,
    Item,
    KeyValue,
    LoadWarning,
    Request,
    SchemaVersion,
    Url,
    Variable,
)
from postmock.collection.reader import OPENAPI_HELP, read_json
from postmock.errors import LoadError

V1_HELP = (
    "this is a Postman Collection v1 file; postmock reads v2.0 and v2.1. Re-export it from "
    "Postman as v2.1, or convert it with: npx postman-collection-transformer convert "
    "-i IN.json -o OUT.json -j 1.0.0 -p 2.1.0"
)


class _Loader:
    """Collects warnings while converting one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.warnings: list[LoadWarning] = []

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(LoadWarning(self.file, where, message))

    # -- small parts -------------------------------------------------------------

    def key_values(self, raw: Any, where: str) -> tuple[KeyValue, ...]:
        """Headers or query params: a list of {key, value, disabled}, or a header string."""
        if raw is None:
            return ()
        if isinstance(raw, str):
            return tuple(parse_header_string(raw))
        if not isinstance(raw, list):
            self.warn(where, f"expected a list, got {type(raw).__name__}; ignored")
            return ()
        out = []
        for n, entry in enumerate(raw):
            if not isinstance(entry, dict):
                self.warn(f"{where}[{n}]", "not an object; skipped")
                continue
            if entry.get("key") is None and entry.get("value") is None:
                continue
            out.append(
                KeyValue(text(entry.get("key")), text(entry.get("value")), is_disabled(entry))
            )
        return tuple(out)

    def variables(self, raw: Any, where: str) -> tuple[Variable, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.warn(where, f"expected a list of variables, got {type(raw).__name__}; ignored")
            return ()
        out = []
        for n, entry in enumerate(raw):
            # Postman's SDK names a variable by `key`, falling back to its `id`.
            key = entry.get("key", entry.get("id")) if isinstance(entry, dict) else None
            if key is None:
                self.warn(f"{where}[{n}]", "variable without a key; skipped")
                continue
            out.append(Variable(text(key), text(entry.get("value")), is_disabled(entry)))
        return tuple(out)

    def url(self, raw: Any, where: str) -> Url:
        if raw is None:
            return Url(raw="")
        if isinstance(raw, str):
            return parse_url_string(raw)
        if not isinstance(raw, dict):
            self.warn(where, f"URL must be a string or an object, got {type(raw).__name__}")
            return Url(raw="")
        raw_text = text(raw.get("raw"))
        if "host" not in raw and "path" not in raw:
            parsed = parse_url_string(raw_text)
            query = (
                self.key_values(raw["query"], f"{where}.query") if "query" in raw else parsed.query
            )
            return Url(
                raw=raw_text,
                host=parsed.host,
                path=parsed.path,
                query=query,
                variables=self.key_values(raw.get("variable"), f"{where}.variable"),
                protocol=parsed.protocol,
                port=parsed.port,
            )
        host = raw.get("host")
        host_text = ".".join(text(h) for h in host) if isinstance(host, list) else text(host)
        return Url(
            raw=raw_text,
            host=host_text,
            path=self.path(raw.get("path"), f"{where}.path"),
            query=self.key_values(raw.get("query"), f"{where}.query"),
            variables=self.key_values(raw.get("variable"), f"{where}.variable"),
            protocol=text(raw.get("protocol")),
            port=text(raw.get("port")),
        )

    def path(self, raw: Any, where: str) -> tuple[str, ...]:
        if raw is None:
            return ()
        if isinstance(raw, str):
            return split_path(raw)
        if not isinstance(raw, list):
            self.warn(where, f"path must be a string or a list, got {type(raw).__name__}")
            return ()
        out = []
        for n, seg in enumerate(raw):
            if isinstance(seg, dict):
                out.append(text(seg.get("value")))
            elif isinstance(seg, (str, int, float)) or seg is None:
                out.append(text(seg))
            else:
                self.warn(f"{where}[{n}]", "path segment is not a string; skipped")
        return tuple(out)

    def body(self, raw: Any, where: str) -> Body:
        if raw is None or raw == {}:
            return Body()
        if not isinstance(raw, dict):
            self.warn(where, f"body must be an object, got {type(raw).__name__}; ignored")
            return Body()
        if raw.get("disabled") is True:
            return Body()
        mode = raw.get("mode")
        if mode == "raw":
            options = raw.get("options")
            language = ""
            if isinstance(options, dict) and isinstance(options.get("raw"), dict):
                language = text(options["raw"].get("language"))
            return Body(mode="raw", raw=text(raw.get("raw")), language=language)
        if mode in ("urlencoded", "formdata"):
            return Body(mode=mode, fields=self.form_fields(raw.get(mode), f"{where}.{mode}"))
        if mode == "file":
            f = raw.get("file")
            src = text(f.get("src")) if isinstance(f, dict) else ""
            return Body(mode="file", file_src=src)
        if mode == "graphql":
            g = raw.get("graphql")
            if not isinstance(g, dict):
                return Body(mode="graphql")
            return Body(
                mode="graphql",
                graphql_query=text(g.get("query")),
                graphql_variables=text(g.get("variables")),
            )
        if mode is None:
            return Body()
        self.warn(where, f"unknown body mode {mode!r}; ignored")
        return Body()

    def form_fields(self, raw: Any, where: str) -> tuple[FormField, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.warn(where, "form fields must be a list; ignored")
            return ()
        out = []
        for n, entry in enumerate(raw):
            if not isinstance(entry, dict):
                self.warn(f"{where}[{n}]", "not an object; skipped")
                continue
            kind: Literal["text", "file"] = "file" if entry.get("type") == "file" else "text"
            value = entry.get("src") if kind == "file" else entry.get("value")
            if isinstance(value, list):
                value = ",".join(text(v) for v in value)
            out.append(FormField(text(entry.get("key")), text(value), kind, is_disabled(entry)))
        return tuple(out)

    def request(self, raw: Any, where: str) -> Request | None:
        if isinstance(raw, str):
            return Request(method="GET", url=parse_url_string(raw))
        if not isinstance(raw, dict):
            self.warn(where, f"request must be a string or an object, got {type(raw).__name__}")
            return None
        method = text(raw.get("method")).strip().upper() or "GET"
        return Request(
            method=method,
            url=self.url(raw.get("url"), f"{where}.url"),
            headers=self.key_values(raw.get("header"), f"{where}.header"),
            body=self.body(raw.get("body"), f"{where}.body"),
        )

    # -- examples and items ----------------------------------------------------------

    def example(
        self, raw: Any, where: str, item: Request, item_name: str, item_where: str, index: int
    ) -> Example | None:
        if not isinstance(raw, dict):
            self.warn(where, f"example must be an object, got {type(raw).__name__}; skipped")
            return None
        original = raw.get("originalRequest")
        request = item
        parsed: Request | None = None
        if original is not None:
            parsed = self.request(original, f"{where}.originalRequest")
            if parsed is not None:
                request = parsed
                # No URL, or `""`: the example answers its item's URL.
                if isinstance(original, dict) and original.get("url") in (None, ""):
                    request = Request(parsed.method, item.url, parsed.headers, parsed.body)
        code, code_given = 200, "code" in raw and raw["code"] is not None
        if code_given:
            try:
                code = int(raw["code"])
            except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
                self.warn(
                    f"{where}.code", f"status code {raw['code']!r} is not a number; using 200"
                )
                code, code_given = 200, False
            if not 100 <= code <= 599:
                self.warn(f"{where}.code", f"status code {code} is out of range; using 200")
                code, code_given = 200, False
        body = raw["body"] if "body" in raw else raw.get("data")
        if body is not None and not isinstance(body, str):
            body = json.dumps(body, ensure_ascii=False)
            self.warn(f"{where}.body", "body is not a string; served as its JSON text")
        return Example(
            name=text(raw.get("name")),
            request=request,
            code=code,
            status=text(raw.get("status")),
            headers=self.key_values(raw.get("header"), f"{where}.header"),
            body=body,
            preview_language=text(raw.get("_postman_previewlanguage")),
            id=text(raw.get("id") or raw.get("_postman_id")),
            item_name=item_name,
            item_location=item_where,
            location=where,
            index=index,
            has_original_request=parsed is not None,
            code_given=code_given,
        )

    def items(
        self, raw: Any, where: str, folders: tuple[str, ...] = ()
    ) -> Iterator[tuple[dict[str, Any], str, tuple[str, ...]]]:
        """Yield (raw item, JSON path, folder names) for every request item, depth first.

        A stack, not recursion: folders nested thousands deep are read like shallow ones.
        """
        if raw is None:
            return
        if not isinstance(raw, list):
            self.warn(where, f"expected a list of items, got {type(raw).__name__}; ignored")
            return
        stack: list[tuple[list[Any], str, tuple[str, ...], int]] = [(raw, where, folders, 0)]
        while stack:
            entries, base, names, n = stack.pop()
            if n >= len(entries):
                continue
            stack.append((entries, base, names, n + 1))  # the rest of this list, later
            entry, path = entries[n], f"{base}[{n}]"
            if not isinstance(entry, dict):
                self.warn(path, "item is not an object; skipped")
                continue
            if "request" in entry:
                yield entry, path, names
                continue
            key = "item" if "item" in entry else "items"
            if isinstance(entry.get(key), list):
                if key == "items":
                    self.warn(path, "folder uses 'items' instead of 'item'; read as 'item'")
                stack.append((entry[key], f"{path}.{key}", (*names, text(entry.get("name"))), 0))
            else:
                self.warn(path, "neither a request nor a folder; skipped")


def _schema_version(info: dict[str, Any]) -> SchemaVersion | str:
    schema = text(info.get("schema") or info.get("_postman_schema"))
    if "v2.1" in schema or "2.1.0" in schema:
        return "2.1"
    if "v2.0" in schema or "2.0.0" in schema:
        return "2.0"
    if "v1" in schema or "1.0.0" in schema:
        return "1"
    return "unknown"


def load_collection(path: str | Path) -> Collection:
    """Load a v2.0 or v2.1 collection file, leniently."""
    file = str(path)
    data = read_json(path, "collection")
    return collection_from_json(data, file)


def collection_from_json(data: Any, file: str = "<collection>") -> Collection:
    """Convert an already parsed collection document into the model."""
    if not isinstance(data, dict):
        raise LoadError("not a Postman collection (the top level is not an object)", file=file)
    if (
        "collection" in data
        and isinstance(data["collection"], dict)
        and "info" in data["collection"]
    ):
        data = data["collection"]  # the Postman API's {"collection": {...}} envelope
    if ("openapi" in data or "swagger" in data) and "item" not in data:
        raise LoadError(OPENAPI_HELP, file=file)
    info = data.get("info")
    looks_v1 = isinstance(data.get("requests"), list) or ("order" in data and "info" not in data)
    if not isinstance(info, dict):
        if looks_v1:
            raise LoadError(V1_HELP, file=file)
        if data.get("_postman_variable_scope") or "values" in data:
            raise LoadError("this is an environment file, not a collection", file=file)
        raise LoadError("not a Postman collection (no 'info' object)", file=file)
    version = _schema_version(info)
    if version == "1":
        raise LoadError(V1_HELP, file=file)
    loader = _Loader(file)
    if "item" not in data:
        if isinstance(data.get("items"), list):
            loader.warn("items", "collection uses 'items' instead of 'item'; read as 'item'")
        elif looks_v1:
            raise LoadError(V1_HELP, file=file)
        else:
            loader.warn("", "collection has no 'item' list; it serves nothing")
    if version == "unknown":
        loader.warn("info.schema", "no v2.0/v2.1 schema URL; read as v2.1")
    top_key = "item" if "item" in data else "items"
    items: list[Item] = []
    index = 0
    for raw, where, folders in loader.items(data.get(top_key), top_key):
        request = loader.request(raw.get("request"), f"{where}.request")
        if request is None:
            continue
        name = text(raw.get("name"))
        examples: list[Example] = []
        responses = raw.get("response")
        if responses is not None and not isinstance(responses, list):
            loader.warn(f"{where}.response", "examples must be a list; ignored")
            responses = None
        for n, rex in enumerate(responses or []):
            ex = loader.example(rex, f"{where}.response[{n}]", request, name, where, index)
            if ex is not None:
                examples.append(ex)
                index += 1
        items.append(
            Item(
                name=name,
                request=request,
                examples=tuple(examples),
                id=text(raw.get("id") or raw.get("_postman_id")),
                folders=folders,
                location=where,
            )
        )
    return Collection(
        name=text(info.get("name")) or Path(file).stem,
        source=file,
        schema_version=version if version in ("2.0", "2.1") else "unknown",  # type: ignore[arg-type]
        items=tuple(items),
        variables=loader.variables(data.get("variable"), "variable"),
        warnings=tuple(loader.warnings),
    )
