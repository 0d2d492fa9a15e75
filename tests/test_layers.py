"""The hub's own modules import each other without cycles — counting imports made inside
functions and for type checking only — and every module stays small enough to read. The
layer contracts themselves are checked by lint-imports (pyproject.toml), run by .ci/run."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def import_cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in modules:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def hub_graph():
    return grimp.build_graph("hub", "integrations", include_external_packages=False)


def test_no_import_cycles():
    assert import_cycles(hub_graph()) == []


def test_the_engine_imports_nothing_above_it():
    """The recipes, the system pages and the web sit above the engine (docs/engine.md)."""
    graph = hub_graph()
    above = ("hub.recipes", "hub.system", "hub.web")
    wrong = {
        module: sorted(
            i for i in graph.find_modules_directly_imported_by(module) if i.startswith(above)
        )
        for module in graph.find_descendants("hub.engine")
    }
    assert {module: found for module, found in wrong.items() if found} == {}


def test_the_cycle_finder_finds_a_cycle():
    class Graph:
        modules = {"a", "b", "c"}
        imports = {"a": {"b"}, "b": {"a"}, "c": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.imports[module]

    assert import_cycles(Graph()) == [["a", "b"]]


def test_no_module_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in ("hub", "integrations")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
