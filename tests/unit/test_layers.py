"""The core's layers, read from the source: every import goes down or sideways, never up, and
no module imports itself back through others. docs/architecture.md has the same map in words.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import REPO

AGENT = REPO / "agent"

# Lowest first. A module may import its own folder and any folder of a lower or the same
# layer (same-layer folders do not import each other in a circle: see the cycle test).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "geometry", "keys", "stop", "files"}),
    frozenset({"actions"}),
    frozenset({"desktop"}),
    frozenset({"perception"}),
    frozenset({"record"}),
    frozenset({"guard", "secret_places", "config"}),
    frozenset({"taskfile"}),
    frozenset({"learn"}),
    frozenset({"policy"}),
    frozenset({"loop"}),
    frozenset({"run"}),
    frozenset({"report", "benchmark", "office", "fleet"}),
    frozenset({"cli", "agent", "__main__"}),  # `agent` is the package itself (its version)
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(AGENT.rglob("*.py"))}


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """(module imported, line) for every import in the file, lazy ones inside functions too;
    `from agent.x import y` counts as agent.x.y when that is a module, else agent.x."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield (full if full in MODULES else node.module), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


def _folder(module: str) -> str:
    """The top-level piece of the core a module belongs to: `desktop` for agent.desktop.local."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_folder_of_the_core_has_a_layer() -> None:
    assert {_folder(name) for name in MODULES} == set(RANK)


def test_imports_go_down_never_up() -> None:
    upward = []
    for module, path in MODULES.items():
        for imported, line in _imports(path):
            if not imported.startswith("agent"):
                continue
            source, target = _folder(module), _folder(imported)
            if source != target and RANK[target] > RANK[source]:
                upward.append(f"{path.relative_to(REPO)}:{line}: {module} imports {imported}")
    assert upward == []


def test_desktop_perception_and_policies_never_reach_the_runner_or_the_command_line() -> None:
    reaching = [
        f"{module} imports {imported}"
        for module, path in MODULES.items()
        if _folder(module) in {"desktop", "perception", "policy"}
        for imported, _ in _imports(path)
        if _folder(imported) in {"run", "cli", "loop"} and imported.startswith("agent")
    ]
    assert reaching == []


def test_the_core_never_imports_qt_or_the_ui_except_the_command_lines_front_door() -> None:
    found = [
        f"{module} imports {imported}"
        for module, path in MODULES.items()
        for imported, _ in _imports(path)
        if imported.split(".")[0] in QT
        or (imported.split(".")[0] == "ui" and module != "agent.cli.main")
    ]
    assert found == []


def test_no_import_cycles() -> None:
    graph = {
        module: {imported for imported, _ in _imports(path) if imported in MODULES} - {module}
        for module, path in MODULES.items()
    }
    # A package's __init__ is imported with any of its modules: count it as an edge.
    for module in list(graph):
        parent = module.rpartition(".")[0]
        if parent in graph and parent != "agent":
            graph[module].add(parent)
    cycles = []
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
