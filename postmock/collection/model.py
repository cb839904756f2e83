"""The typed, immutable model of a Postman collection; nothing outside the loader sees raw JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BodyMode = Literal["none", "raw", "urlencoded", "formdata", "file", "graphql"]
SchemaVersion = Literal["2.0", "2.1", "unknown"]


@dataclass(frozen=True)
class KeyValue:
    """A header, query parameter, form field or URL variable."""

    key: str
    value: str
    disabled: bool = False


@dataclass(frozen=True)
class Variable:
    """A collection, environment or globals variable (disabled ones are kept, flagged)."""

    key: str
    value: str
    disabled: bool = False


@dataclass(frozen=True)
class Url:
    """A request URL, split the way Postman stores it.

    `path` holds the raw segments as written, so they may contain `{{var}}` or `:var`.
    `host` is the host joined with dots, possibly a `{{baseUrl}}` variable.
    """

    raw: str
    host: str = ""
    path: tuple[str, ...] = ()
    query: tuple[KeyValue, ...] = ()
    variables: tuple[KeyValue, ...] = ()
    protocol: str = ""
    port: str = ""


@dataclass(frozen=True)
class FormField:
    """A urlencoded or form-data field; `type` is "text" or "file"."""

    key: str
    value: str
    type: Literal["text", "file"] = "text"
    disabled: bool = False


@dataclass(frozen=True)
class Body:
    """A request body in one of Postman's modes."""

    mode: BodyMode = "none"
    raw: str = ""
    language: str = ""  # options.raw.language: json, text, xml, html, javascript
    fields: tuple[FormField, ...] = ()  # urlencoded / formdata
    graphql_query: str = ""
    graphql_variables: str = ""
    file_src: str = ""


@dataclass(frozen=True)
class Request:
    """What an example answers: method, URL, headers and body."""

    method: str = "GET"
    url: Url = field(default_factory=lambda: Url(raw=""))
    headers: tuple[KeyValue, ...] = ()
    body: Body = field(default_factory=Body)


@dataclass(frozen=True)
class Example:
    """A saved example (a `response[]` entry) with the request it answers.

    `request` is the example's `originalRequest`, or its item's request when it has none.
    `index` is its position among all examples of the collection, in file order.
    `location` is its JSON path in the file, e.g. `item[3].item[0].response[1]`.
    """

    name: str
    request: Request
    code: int = 200
    status: str = ""
    headers: tuple[KeyValue, ...] = ()
    body: str | None = None
    preview_language: str = ""
    id: str = ""
    item_name: str = ""
    item_location: str = ""
    location: str = ""
    index: int = 0
    has_original_request: bool = True
    code_given: bool = True


@dataclass(frozen=True)
class Item:
    """A request item (not a folder) with its examples, and the folders above it."""

    name: str
    request: Request
    examples: tuple[Example, ...] = ()
    id: str = ""
    folders: tuple[str, ...] = ()
    location: str = ""

    @property
    def label(self) -> str:
        """The request's name with the folder it is in: `Pets › Get pet` (one folder shown)."""
        name = self.name or self.request.url.raw or "(unnamed request)"
        return f"{self.folders[-1]} › {name}" if self.folders and self.folders[-1] else name


@dataclass(frozen=True)
class LoadWarning:
    """Something in a file that was skipped or could not be used as written."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.where}: {self.message}"
            if self.where
            else f"{self.file}: {self.message}"
        )


@dataclass(frozen=True)
class Collection:
    """A loaded collection: its request items in file order, and every example, pooled."""

    name: str
    source: str
    schema_version: SchemaVersion
    items: tuple[Item, ...] = ()
    variables: tuple[Variable, ...] = ()
    warnings: tuple[LoadWarning, ...] = ()

    @property
    def examples(self) -> tuple[Example, ...]:
        """Every example of the collection, in file order."""
        return tuple(ex for item in self.items for ex in item.examples)


@dataclass(frozen=True)
class Environment:
    """An environment or globals file."""

    name: str
    source: str
    values: tuple[Variable, ...] = ()
    scope: Literal["environment", "globals"] = "environment"
    warnings: tuple[LoadWarning, ...] = ()
