"""The package's layout is its architecture: imports point down the layers, and there are no circles.

Every import counts, including those inside functions (a late import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import csm_nb

PACKAGE = Path(csm_nb.__file__).parent

# Lowest first. A module may import its own layer or any layer below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("csm_nb.errors",),
    ("csm_nb.config",),
    ("csm_nb.vocabulary", "csm_nb.model", "csm_nb.frames"),
    ("csm_nb.method",),
    ("csm_nb.data",),
    ("csm_nb.render",),
    ("csm_nb.forms",),
    ("csm_nb.pages",),
    ("csm_nb.run",),
    ("csm_nb.cli", "csm_nb.__main__", "csm_nb"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports (``from csm_nb.x import y`` counts ``csm_nb.x.y`` when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("csm_nb"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csm_nb"):
            assert node.level == 0, f"{path}: relative import; use the absolute csm_nb.… name"
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) - {name} for name, path in paths.items()}


GRAPH = graph()


def test_every_module_is_in_a_layer() -> None:
    assert len(GRAPH) > 30
    for module in GRAPH:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module: str) -> None:
    upward = sorted(t for t in GRAPH[module] if t != "csm_nb" and layer_of(t) > layer_of(module))
    assert not upward, f"{module} (layer {layer_of(module)}) imports {upward} from a higher layer"


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circles() -> None:
    edges = {m: {t for t in ts if t != "csm_nb"} for m, ts in GRAPH.items()}
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_the_checks_catch_a_circle_and_an_upward_import() -> None:
    # The checks themselves: a planted circle is found, and a page is above the data.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert layer_of("csm_nb.pages.value_report") > layer_of("csm_nb.data.store") > layer_of("csm_nb.method.cashflow")
