"""The public plugin API (ganzoo.plugin): plugins import only it, every name in it is documented,
and importing it stays cheap."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import ganzoo.plugin
import ganzoo.protocols

ROOT = Path(__file__).resolve().parent.parent
#: The packages written against the public API: the built-in plugins, the example plugin, ganzoo-stylegan.
PLUGIN_PACKAGES = sorted(
    [
        *ROOT.glob("plugins/ganzoo_*"),
        ROOT / "examples/ganzoo-mlpgan/ganzoo_mlpgan",
        ROOT / "extensions/ganzoo-stylegan/ganzoo_stylegan",
    ]
)
PUBLIC = "ganzoo.plugin"


def imported_modules(tree: ast.AST):
    """(line, module) for every import in a module, function-local ones included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "ganzoo":  # `from ganzoo import plugin` is the public module too
                for alias in node.names:
                    yield node.lineno, PUBLIC if alias.name == "plugin" else f"ganzoo ({alias.name})"
            else:
                yield node.lineno, node.module


def forbidden_imports(package: Path) -> list[str]:
    own = package.name
    found = []
    for path in sorted(package.rglob("*.py")):
        for line, module in imported_modules(ast.parse(path.read_text(), str(path))):
            top = module.split(".")[0].split(" ")[0]
            core = top == "ganzoo" and module != PUBLIC and not module.startswith(PUBLIC + ".")
            other_plugin = top.startswith("ganzoo_") and top != own
            if core or other_plugin:
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found.append(f"{shown}:{line}: imports {module}")
    return found


def test_the_plugin_packages_are_found():
    names = {package.name for package in PLUGIN_PACKAGES}
    assert {"ganzoo_dcgan", "ganzoo_datasets", "ganzoo_exgan", "ganzoo_mlpgan", "ganzoo_stylegan"} <= names
    assert all((package / "__init__.py").is_file() for package in PLUGIN_PACKAGES)


@pytest.mark.parametrize("package", PLUGIN_PACKAGES, ids=lambda package: package.name)
def test_plugins_import_only_the_public_module(package):
    """Of ganzoo, only ganzoo.plugin; no other plugin's package (torch, the standard library,
    third-party libraries and the plugin's own modules are fine)."""
    assert forbidden_imports(package) == []


def test_the_scan_catches_core_and_cross_plugin_imports(tmp_path):
    package = tmp_path / "ganzoo_toy"
    package.mkdir()
    (package / "__init__.py").write_text("from ganzoo.plugin import ModelSpec\nfrom ganzoo_toy import model\n")
    (package / "model.py").write_text(
        "import torch\n\ndef load():\n    from ganzoo.data.cache import data_home\n"
        "    import ganzoo_datasets.digits\n    from ganzoo import create_loss\n"
    )
    assert [entry.split(": ", 1)[1] for entry in forbidden_imports(package)] == [
        "imports ganzoo.data.cache",
        "imports ganzoo_datasets.digits",
        "imports ganzoo (create_loss)",
    ]


# -- every public name resolves and is documented ---------------------------------------------------

#: The public namespaces: ganzoo.plugin and the building-block modules it exposes.
NAMESPACES = [PUBLIC, *(f"{PUBLIC}.{name}" for name in ganzoo.plugin.NAMESPACES)]


def namespace(name: str) -> ModuleType:
    module = ganzoo.plugin
    for part in name.split(".")[2:]:
        module = getattr(module, part)
    return module


@pytest.mark.parametrize("name", NAMESPACES)
def test_every_public_name_resolves(name):
    """(That each has a docstring, as the reference page renders it, is tests/test_docs.py's.)"""
    module = namespace(name)
    assert module.__doc__, f"{name} has no module docstring"
    assert module.__all__ and len(set(module.__all__)) == len(module.__all__)
    for public in module.__all__:
        getattr(module, public)  # AttributeError: a name in __all__ that does not exist


def test_every_contract_of_the_core_is_public():
    """A class added to ganzoo.protocols is a contract plugins implement or receive: it is exported."""
    contracts = {
        name
        for name, obj in vars(ganzoo.protocols).items()
        if inspect.isclass(obj) and obj.__module__ == ganzoo.protocols.__name__ and not name.startswith("_")
    }
    assert contracts - set(ganzoo.plugin.__all__) == set()


def test_the_namespaces_are_the_core_modules_and_unknown_names_fail():
    assert ganzoo.plugin.layers is importlib.import_module("ganzoo.layers")
    assert "layers" in dir(ganzoo.plugin)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ganzoo.plugin.nothing  # noqa: B018


# -- cheap to import ----------------------------------------------------------------------------------


def test_importing_the_public_module_and_registering_the_plugins_does_not_import_torch():
    code = (
        "import sys, ganzoo.plugin\n"
        "assert 'torch' not in sys.modules, 'import ganzoo.plugin'\n"
        "import ganzoo\n"
        "ganzoo.load_plugins()\n"
        "assert 'torch' not in sys.modules, 'registering the plugins'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
