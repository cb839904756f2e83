"""Load a collection and its variables into everything the server needs per request."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from postmock.collection import Collection, Example, LoadWarning, load_collection, load_environment
from postmock.config import ServeConfig
from postmock.errors import LoadError
from postmock.matching import MatchConfig, MatchIndex
from postmock.matching.cache import MatchCache
from postmock.server.responses import ResponsePlan
from postmock.templating.variables import VariableScope


@dataclass(frozen=True)
class MockState:
    """One compiled version of the mock; reloading swaps the whole object at once."""

    collection: Collection
    scope: VariableScope
    index: MatchIndex
    plans: Mapping[int, ResponsePlan]  # by Example.index
    server_response: ResponsePlan | None
    warnings: tuple[LoadWarning, ...]
    loaded_at: float
    cache: MatchCache = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cache", MatchCache(self.index))

    @property
    def example_count(self) -> int:
        return len(self.plans)


def load_state(config: ServeConfig) -> MockState:
    """Read the files named in the config and compile them; raises LoadError."""
    started = time.time()  # `loaded_at`: an edit after this may not be in this version
    collection = load_collection(config.collection)
    environment = load_environment(config.environment) if config.environment else None
    globals_ = load_environment(config.globals_file, "globals") if config.globals_file else None
    scope = VariableScope.build(collection, environment, globals_, dict(config.variables))
    index = MatchIndex.compile(
        collection,
        scope,
        MatchConfig(
            match_body=config.match_body,
            match_headers=config.match_headers,
            fuzzy=config.fuzzy,
        ),
    )
    plans = {
        ex.index: ResponsePlan.compile(ex, scope, item.label)
        for item in collection.items
        for ex in item.examples
    }
    server_response = None
    if config.server_response is not None:
        chosen = _find_server_response(collection, index, config.server_response)
        server_response = plans[chosen.index]
    warnings = collection.warnings
    for env in (environment, globals_):
        if env is not None:
            warnings += env.warnings
    return MockState(collection, scope, index, plans, server_response, warnings, started)


def _find_server_response(collection: Collection, index: MatchIndex, name: str) -> Example:
    found = index.find_name(name) or index.find_id(name)
    if found is None:
        errors = sorted({ex.name for ex in collection.examples if ex.code >= 500 and ex.name})
        hint = f"; 5xx examples: {', '.join(errors[:8])}" if errors else ""
        raise LoadError(
            f"--server-response: no example named {name!r}{hint}", file=collection.source
        )
    return found


def broken_edit(old: MockState, new: MockState) -> str | None:
    """Why `new` should not replace `old`, or None.

    A reload that loses examples while the loader had to skip something it did not skip
    before is a broken file (a schema-invalid edit: `"item": "nope"`), not an intentional
    removal: the running version stays. Removing requests from a valid file still reloads.
    """
    if new.example_count >= old.example_count:
        return None
    before = {(w.where, w.message) for w in old.warnings}
    fresh = [w for w in new.warnings if (w.where, w.message) not in before]
    if not fresh:
        return None
    # what the loader dropped says most: "… ignored", "… skipped"
    first = min(fresh, key=lambda w: not w.message.endswith(("ignored", "skipped")))
    where = f"{first.where}: " if first.where else ""
    return (
        f"the edit would serve {new.example_count} of {old.example_count} examples because "
        f"part of the file cannot be read ({where}{first.message})"
    )
