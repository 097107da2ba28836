"""The layout rules a reader relies on: no module imports one that imports it back."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("components", "gitsource", "ops", "settings")


def project_imports(path: Path) -> set[str]:
    """The project modules a file imports, type-only imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            is_package = (ROOT / node.module.replace(".", "/")).is_dir()
            found |= {f"{node.module}.{alias.name}" for alias in node.names} if is_package else {node.module}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] in PACKAGES}
    return found


def module_graph() -> dict[str, set[str]]:
    """Module → the modules it imports. A package's __init__ only re-exports its modules, so it is
    left out: `from settings import X` counts as an import of the module defining X only through it."""
    graph = {
        f"{package}.{path.stem}": project_imports(path) for package in PACKAGES for path in (ROOT / package).glob("[!_]*.py")
    }
    return {name: {dep for dep in deps if dep in graph} for name, deps in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found = []

    def walk(module: str, trail: list[str]) -> None:
        for dep in sorted(graph[module]):
            if dep == trail[0]:
                found.append([*trail, dep])
            elif dep not in trail and dep > trail[0]:
                walk(dep, [*trail, dep])

    for module in sorted(graph):
        walk(module, [module])
    return found


def test_no_module_imports_one_that_imports_it_back():
    graph = module_graph()
    assert graph["ops.report"] and graph["ops.drift"]  # the graph sees imports, type-only ones too
    assert cycles(graph) == []


def test_the_cycle_check_sees_a_cycle():
    assert cycles({"ops.a": {"ops.b"}, "ops.b": {"ops.c"}, "ops.c": {"ops.a"}}) == [["ops.a", "ops.b", "ops.c", "ops.a"]]
