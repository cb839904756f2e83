"""Postman collection files: the model and the lenient loader."""

from postmock.collection.environment import environment_from_json, load_environment
from postmock.collection.loader import collection_from_json, load_collection
from postmock.collection.model import (
    Body,
    Collection,
    Environment,
    Example,
    FormField,
    Item,
    KeyValue,
    LoadWarning,
    Request,
    Url,
    Variable,
)

__all__ = [
    "Body",
    "Collection",
    "Environment",
    "Example",
    "FormField",
    "Item",
    "KeyValue",
    "LoadWarning",
    "Request",
    "Url",
    "Variable",
    "collection_from_json",
    "environment_from_json",
    "load_collection",
    "load_environment",
]
