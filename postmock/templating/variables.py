"""Variable scopes and `{{name}}` substitution, the way Postman's mock servers resolve them.

Priority, highest first: `--var` overrides, environment, globals (only when asked), collection.
Disabled entries are ignored; on duplicate keys the last enabled one wins. Unknown names
stay literally `{{name}}` (in a URL path they become wildcards).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from postmock.collection.model import Collection, Environment, Variable

VARIABLE = re.compile(r"\{\{([^{}]*?)\}\}")
MAX_DEPTH = 20
# Characters one resolution may add: a value that references itself more than once
# (`a = "{{a}}{{a}}"`) grows exponentially per pass; stop before it eats the memory.
MAX_GROWTH = 1 << 20


def layer(variables: Iterable[Variable]) -> dict[str, str]:
    """The enabled variables of one source as a dict; the last duplicate wins."""
    out: dict[str, str] = {}
    for var in variables:
        if not var.disabled:
            out[var.key] = var.value
    return out


@dataclass(frozen=True)
class VariableScope:
    """Merged variables of every source (already flattened by priority)."""

    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        collection: Collection | None = None,
        environment: Environment | None = None,
        globals_: Environment | None = None,
        overrides: Mapping[str, str] | None = None,
    ) -> VariableScope:
        """Merge the sources, lowest priority first so higher ones overwrite."""
        merged: dict[str, str] = {}
        if collection is not None:
            merged.update(layer(collection.variables))
        if globals_ is not None:
            merged.update(layer(globals_.values))
        if environment is not None:
            merged.update(layer(environment.values))
        if overrides:
            merged.update(overrides)
        return cls(merged)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def resolve(self, text: str, extra: Mapping[str, str] | None = None) -> str:
        """Substitute known `{{name}}` references, nested up to MAX_DEPTH passes."""
        if "{{" not in text:
            return text
        values = self.values if not extra else {**self.values, **extra}

        def sub(m: re.Match[str]) -> str:
            value = values.get(m.group(1))
            return m.group(0) if value is None else value

        limit = len(text) + MAX_GROWTH
        for _ in range(MAX_DEPTH):
            new = VARIABLE.sub(sub, text)
            if new == text or len(new) > limit:
                break
            text = new
        return text

    def unresolved(self, text: str) -> list[str]:
        """Names still unresolved in `text` (dynamic `$` variables excluded)."""
        return [n for n in VARIABLE.findall(self.resolve(text)) if not n.startswith("$")]


def parse_assignment(pair: str) -> tuple[str, str]:
    """Split a `--var KEY=VALUE` argument; raises ValueError when there is no `=`."""
    key, sep, value = pair.partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {pair!r}")
    return key, value
