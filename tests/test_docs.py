"""Docs stay true: every hook is documented (titled with its signature) and tested."""

import inspect
import re

import pytest

from conftest import ROOT
from ganzoo import hookspecs

HOOKS = [name for name, fn in vars(hookspecs).items() if inspect.isfunction(fn) and name != "hookspec"]


def test_hookspecs_are_found():
    assert set(HOOKS) == {"register_tasks", "register_models", "register_datasets", "register_losses", "register_metrics",
                          "register_commands", "register_loggers", "on_train_start", "on_log", "on_sample",
                          "on_evaluate", "on_checkpoint", "on_train_end"}


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
    from ganzoo.cli import build_app
    import typer.main

    commands = typer.main.get_command(build_app()).commands
    reference = (ROOT / "docs" / "cli.md").read_text()
    for name in commands:
        assert f"## `ganzoo {name}" in reference, f"docs/cli.md lacks `ganzoo {name}`"
