"""The engine's place in the layers (docs/engine.md): it imports nothing from the recipes above
it, the system pages or the web, and its own modules import each other without a cycle.
Every import counts, also one inside a function or under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "hub" / "engine"
# The pages and the webhook intake belong to the web layer (moving to hub/web).
WEB_PARTS = {"views", "webhooks", "urls", "templatetags"}
ABOVE = ("hub.recipes", "hub.system", "hub.web")


def engine_modules() -> dict[str, Path]:
    found = {}
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE).with_suffix("").parts
        if parts[0] in WEB_PARTS or parts[0] == "migrations":
            continue
        name = ".".join(("hub", "engine", *parts)).removesuffix(".__init__")
        found[name] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # ``from hub.engine import step_record`` imports the module step_record.
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in known
            )
    return names


def test_the_engine_imports_nothing_above_it():
    modules = engine_modules()
    wrong = {
        name: sorted(i for i in imports_of(path, set(modules)) if i.startswith(ABOVE))
        for name, path in modules.items()
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_no_import_cycle_among_engine_modules():
    modules = engine_modules()
    edges = {
        name: {i for i in imports_of(path, set(modules)) if i in modules and i != name}
        for name, path in modules.items()
    }

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(edges[start])
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(edges[current])
        return False

    cycles = sorted(name for name in modules if reaches(name, name))
    assert cycles == []
