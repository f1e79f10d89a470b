"""The core's import graph: no cycle between modules, and layers that only import downwards.

The layers are the ones docs/architecture.md lists (its ``# layer`` block, read here), so the
doc and the check cannot drift apart. The graph is grimp's and counts function-local imports
(an import inside a function is still an import: hiding one there proves nothing); imports
under ``if TYPE_CHECKING:`` never run and are left out. A function-local import is allowed
only to keep a module cheap to import (torch-free ``import ganzoo`` and CLI start-up, heavy
libraries one feature needs), and says so with a ``# lazy:`` comment.
"""

from __future__ import annotations

import ast
from collections import deque
from functools import cache
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "ganzoo"
DOC = ROOT / "docs" / "architecture.md"


# -- the declared layers ---------------------------------------------------------------------------


def declared_layers() -> list[tuple[str, tuple[str, ...]]]:
    """(layer, module names) from top to bottom: the ```text block of docs/architecture.md whose
    first line starts with ``# layer``. Names are relative to ganzoo/ (``__init__`` is the package
    itself); an indented line continues the layer above it."""
    lines = DOC.read_text().splitlines()
    start = next(
        (i for i, line in enumerate(lines[:-1]) if line.strip() == "```text" and lines[i + 1].startswith("# layer")),
        None,
    )
    assert start is not None, f"{DOC.relative_to(ROOT)} has no ```text block starting with '# layer'"
    layers: list[tuple[str, list[str]]] = []
    for line in lines[start + 2 :]:
        if line.strip() == "```":
            break
        if not line.strip():
            continue
        if line[0].isspace():
            layers[-1][1].extend(_names(line))
        else:
            name, _, rest = line.partition(" ")
            layers.append((name, _names(rest)))
    return [
        (name, tuple(PACKAGE if m == "__init__" else f"{PACKAGE}.{m}" for m in modules)) for name, modules in layers
    ]


def _names(text: str) -> list[str]:
    return [name for name in text.replace(",", " ").split() if name]


@cache
def rank_by_prefix() -> dict[str, tuple[int, str]]:
    ranks: dict[str, tuple[int, str]] = {}
    for rank, (layer, modules) in enumerate(declared_layers()):
        for module in modules:
            assert module not in ranks, f"{module} is named by two layers ({ranks[module][1]} and {layer})"
            ranks[module] = (rank, layer)
    return ranks


def layer_of(module: str) -> tuple[int, str] | None:
    """The (rank, name) of the layer whose longest module name is ``module`` or a package above it
    (the package itself, ``ganzoo``, matches only itself)."""
    ranks = rank_by_prefix()
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        found = ranks.get(".".join(parts[:end]))
        if found is not None:
            return found
    return ranks.get(PACKAGE) if module == PACKAGE else None


# -- the graph -----------------------------------------------------------------------------------------


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        PACKAGE, include_external_packages=True, exclude_type_checking_imports=True, cache_dir=None
    )


def internal(module: str) -> bool:
    return module == PACKAGE or module.startswith(f"{PACKAGE}.")


@cache
def internal_modules() -> list[str]:
    return sorted(m for m in graph().modules if internal(m))


@cache
def imports_of(module: str) -> list[str]:
    return sorted(graph().find_modules_directly_imported_by(module))


def source_file(module: str) -> str:
    path = Path(*module.split("."))
    return str(path / "__init__.py") if (ROOT / path).is_dir() else f"{path}.py"


def where(importer: str, imported: str) -> str:
    """``ganzoo/x.py:12 (from ganzoo.y import z)``, for each line of ``importer`` importing ``imported``."""
    details = graph().get_import_details(importer=importer, imported=imported)
    return "; ".join(f"{source_file(importer)}:{d['line_number']} ({d['line_contents'].strip()})" for d in details)


def shortest_cycle(start: str, members: set[str]) -> list[str]:
    """The shortest import path from ``start`` back to itself through ``members``."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        for imported in imports_of(module):
            if imported not in members or imported in came_from:
                continue
            came_from[imported] = module
            if imported == start:
                path = [start]
                while path[-1] != start or len(path) == 1:
                    path.append(came_from[path[-1]])
                return path[::-1]
            queue.append(imported)
    raise AssertionError(f"{start} is on no cycle")


def strongly_connected(modules: list[str]) -> list[set[str]]:
    """Tarjan's strongly connected components of the internal graph (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter([m for m in imports_of(root) if internal(m)]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter([m for m in imports_of(child) if internal(m)])))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                components.append(component)
    return components


# -- the checks ----------------------------------------------------------------------------------------


def test_the_graph_counts_function_local_imports():
    """Without this, every check below could be passed by moving imports into functions."""
    checked = 0
    for path in MODULE_FILES:
        importer = module_name(path)
        for group in function_local_imports(ast.parse(path.read_text())):
            for node in group:
                if isinstance(node, ast.ImportFrom) and not node.level and internal(node.module or ""):
                    targets = [
                        t
                        for t in [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
                        if t in graph().modules
                    ]
                    assert any(graph().direct_import_exists(importer=importer, imported=t) for t in targets), (
                        f"the graph misses {path.relative_to(ROOT)}:{node.lineno} ({ast.unparse(node)})"
                    )
                    checked += 1
    assert checked, "no function-local import of a ganzoo module left to check the graph with"


def test_every_module_is_in_a_declared_layer():
    layers = declared_layers()
    assert layers, "the layer block is empty"
    missing = [m for m in internal_modules() if layer_of(m) is None]
    assert not missing, (
        f"modules in no layer: {', '.join(missing)}; add them to the '# layer' block of {DOC.relative_to(ROOT)}"
    )
    unknown = [m for _, modules in layers for m in modules if m not in graph().modules]
    assert not unknown, f"the layer block of {DOC.relative_to(ROOT)} names modules that do not exist: {unknown}"


def test_no_import_cycle_between_modules():
    cycles = []
    for component in strongly_connected(internal_modules()):
        if len(component) > 1:
            path = shortest_cycle(min(component), component)
            steps = "\n    ".join(f"{a} -> {b}: {where(a, b)}" for a, b in zip(path, path[1:]))
            cycles.append(f"{' -> '.join(path)}\n    {steps}")
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_layers_only_import_downwards():
    upwards = []
    for importer in internal_modules():
        importer_layer = layer_of(importer)
        for imported in imports_of(importer):
            if not internal(imported):
                continue
            imported_layer = layer_of(imported)
            if importer_layer and imported_layer and imported_layer[0] < importer_layer[0]:
                upwards.append(
                    f"{importer} (layer {importer_layer[1]}) imports {imported} (layer "
                    f"{imported_layer[1]}, higher): {where(importer, imported)}"
                )
    assert not upwards, "imports upwards:\n" + "\n".join(upwards)


def test_the_core_imports_no_plugin():
    """Built-in plugins are reached through the registries, like third-party ones."""
    found = [
        f"{importer} imports {imported}: {where(importer, imported)}"
        for importer in internal_modules()
        for imported in imports_of(importer)
        if imported.startswith(f"{PACKAGE}_")
    ]
    assert not found, "\n".join(found)


# -- function-local imports ----------------------------------------------------------------------------


def function_local_imports(tree: ast.Module) -> list[list[ast.Import | ast.ImportFrom]]:
    """The runs of consecutive import statements inside functions (outside ``if TYPE_CHECKING:``)."""
    groups: list[list[ast.Import | ast.ImportFrom]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            previous = None
            for statement in block:
                if inside and isinstance(statement, (ast.Import, ast.ImportFrom)):
                    if previous is None:
                        groups.append([])
                    groups[-1].append(statement)
                    previous = statement
                else:
                    previous = None
                visit(statement, inside)

    visit(tree, False)
    return groups


def imports_torch_at_top(tree: ast.Module) -> bool:
    names = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom) and not node.level]
    return any(name == "torch" or name.startswith("torch.") for name in names)


def is_ganzoo_import(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return bool(node.level) or internal(node.module or "")
    return any(internal(alias.name) for alias in node.names)


MODULE_FILES = sorted((ROOT / PACKAGE).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_function_local_imports_are_laziness_that_says_why(path):
    """Each run of function-local imports has a ``# lazy:`` comment (on its lines or the line above)
    saying what import cost it saves; a module that imports torch anyway has nothing of ganzoo's to
    save, so it imports ganzoo modules at the top."""
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    torch_module = imports_torch_at_top(tree)
    problems = []
    for group in function_local_imports(tree):
        first, last = group[0].lineno, group[-1].end_lineno or group[-1].lineno
        said = any("# lazy:" in lines[i - 1] for i in range(max(1, first - 1), last + 1))
        if not said:
            problems.append(f"{path.relative_to(ROOT)}:{first}: function-local import without a '# lazy:' reason")
        for node in group:
            if torch_module and is_ganzoo_import(node):
                problems.append(
                    f"{path.relative_to(ROOT)}:{node.lineno}: `{ast.unparse(node)}` inside a function "
                    "of a module that imports torch anyway: import it at the top"
                )
    assert not problems, "\n".join(problems)
