"""Docs stay true: every hook is documented (titled with its signature) and tested."""

import inspect
import re

import pytest

from conftest import ROOT
from ganzoo import hookspecs

HOOKS = [name for name, fn in vars(hookspecs).items() if inspect.isfunction(fn) and name != "hookspec"]


def test_hookspecs_are_found():
    assert set(HOOKS) == {
        "register_tasks",
        "register_models",
        "register_datasets",
        "register_losses",
        "register_metrics",
        "register_commands",
        "register_loggers",
        "on_train_start",
        "on_log",
        "on_sample",
        "on_evaluate",
        "on_checkpoint",
        "on_train_end",
    }


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_titled_with_its_signature(hook):
    signature = f"{hook}({', '.join(inspect.signature(getattr(hookspecs, hook)).parameters)})"
    headings = re.findall(r"^## `(.+)`$", (ROOT / "docs" / "plugins" / "hooks.md").read_text(), re.M)
    assert signature in headings, f"docs/plugins/hooks.md needs a section '## `{signature}`'"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test_or_builtin(hook):
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_docs.py")
    plugins = "".join(p.read_text() for p in (ROOT / "plugins").rglob("*.py"))
    assert f"def {hook}(" in tests + plugins, f"no test plugin or built-in implements {hook}"


def test_every_command_is_in_the_cli_reference():
    import typer.main

    from ganzoo.cli import build_app

    commands = typer.main.get_command(build_app()).commands
    reference = (ROOT / "docs" / "cli.md").read_text()
    for name in commands:
        assert f"## `ganzoo {name}" in reference, f"docs/cli.md lacks `ganzoo {name}`"


# -- the plugin API reference is rendered from docstrings (docs/plugins/reference.md) ----------
# griffe is what mkdocstrings renders with, so these tests see the docstrings the pages show.

REFERENCE = (ROOT / "docs" / "plugins" / "reference.md").read_text()


@pytest.fixture(scope="module")
def api():
    import griffe

    return griffe.load("ganzoo", search_paths=[str(ROOT)], resolve_aliases=True, resolve_external=False)["plugin"]


def public_names() -> list[str]:
    import ganzoo.plugin

    return list(ganzoo.plugin.__all__)


def documented(obj) -> bool:
    return bool(obj.docstring and obj.docstring.value.strip())


@pytest.mark.parametrize("name", public_names())
def test_every_public_name_has_a_docstring_and_a_place_in_the_reference(api, name):
    import ganzoo.plugin

    obj = api[name]
    assert documented(obj), f"ganzoo.plugin.{name} has no docstring (the reference page is rendered from it)"
    target = ganzoo.plugin.NAMESPACES.get(name, f"ganzoo.plugin.{name}")
    assert f"::: {target}\n" in REFERENCE, f"docs/plugins/reference.md lacks '::: {target}'"


@pytest.mark.parametrize("name", public_names())
def test_every_public_member_has_a_docstring(api, name):
    """Fields of the specs and contracts, methods of the protocols, members of the namespaces."""
    obj = api[name].final_target if api[name].is_alias else api[name]
    if obj.is_module:  # its __all__ (re-exports resolved), else what it defines
        names = (
            obj.exports
            if obj.exports is not None
            else [
                n
                for n, m in obj.members.items()
                if not n.startswith("_") and not m.is_alias and (m.is_function or m.is_class)
            ]
        )
        members = [obj[n].final_target if obj[n].is_alias else obj[n] for n in names]
    elif obj.is_class:
        members = [m for n, m in obj.members.items() if not n.startswith("_") and not m.is_alias]
    else:
        members = []
    missing = sorted(m.name for m in members if not documented(m))
    assert not missing, f"ganzoo.plugin.{name}: no docstring for {', '.join(missing)}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook))
    assert doc and len(doc) > 40, f"hookspecs.{hook} needs a docstring: it is the hook's reference documentation"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_section_renders_its_docstring(hook):
    page = (ROOT / "docs" / "plugins" / "hooks.md").read_text()
    assert f"::: ganzoo.hookspecs.{hook}\n" in page, f"docs/plugins/hooks.md does not render hookspecs.{hook}"
