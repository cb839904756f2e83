"""The house rules that code can check: imports follow the data flow, no cycles, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "postmock"

#: Each room may import only from rooms above it in this list (and from itself).
#: Data flows file → model → index → server → call log → views; the server drives the
#: call log and the views it shows, so it sits below them here.
LAYERS: list[set[str]] = [
    {"errors", "config", "__init__", "py"},
    {"collection"},
    {"templating"},
    {"matching"},
    {"validate"},
    {"calllog"},
    {"views"},
    {"server"},
    {"testing", "proxy"},
    {"cli", "__main__"},
]
RANK = {room: n for n, rooms in enumerate(LAYERS) for room in rooms}
#: The front door: `postmock/__init__` may expose these upward modules, lazily (a module
#: `__getattr__`), so `from postmock import MockServer` works and `import postmock` stays fast.
FRONT_DOOR = {("postmock", "postmock.testing")}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, name: str, is_package: bool) -> set[str]:
    """Every postmock module `path` imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("postmock"):
                out.add(base)
                out |= {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("postmock")}
    return out


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_imports_follow_the_layers() -> None:
    mods = modules()
    wrong = []
    for name, path in mods.items():
        for target in imports(path, name, path.name == "__init__.py"):
            if target not in mods:
                continue  # `from postmock.x import name`: the module itself is counted
            here, there = room(name), room(target)
            if (name, target) in FRONT_DOOR:
                continue
            if here != there and RANK[there] > RANK[here]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "imports against the flow:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles() -> None:
    mods = modules()
    graph = {
        name: {t for t in imports(path, name, path.name == "__init__.py") if t in mods} - {name}
        for name, path in mods.items()
    }
    # A package's __init__ is imported by everything inside it: leave those edges out.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    assert lines <= 450, f"{path.relative_to(PACKAGE.parent)} has {lines} lines: split it"


def test_the_front_door_stays_lazy() -> None:
    """`import postmock` must not load what the front door exposes (the CLI imports it)."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text("utf-8"))
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    eager = {n.module for n in top_level if isinstance(n, ast.ImportFrom)}
    assert not eager & {target for _, target in FRONT_DOOR}
