"""Plugins through real entry points: discovery, provenance, isolation of broken plugins."""

import pytest

from conftest import assert_no_traceback, list_json, make_distribution, run_cli, with_site
from ganzoo import ModelSpec, hookimpl
from ganzoo.errors import PluginError
from ganzoo.plugins import PluginSystem, load_plugins

HELLO = """
from ganzoo import ModelSpec, hookimpl

@hookimpl
def register_models(register):
    register(ModelSpec(name="hellogan", summary="a test architecture", task="unconditional",
                       build="ganzoo_dcgan.recipe:DCGAN", options="ganzoo_dcgan.options:DCGANOptions",
                       default_dataset="digits"))
"""


def test_builtins_come_through_entry_points():
    system = load_plugins()
    assert {"dcgan", "datasets", "losses"} <= set(system.plugins)
    for name in ("dcgan", "datasets", "losses"):
        assert system.plugins[name].distribution == "ganzoo"
        assert system.plugins[name].status == "loaded"
    assert system.models.entry("dcgan").provider.plugin == "dcgan"


def test_third_party_distribution_is_listed_with_provider(tmp_path):
    site = make_distribution(tmp_path / "site", "ganzoo-hello", "ganzoo_hello", HELLO, entry_name="hello")
    rows = list_json("models", env=with_site(site))
    hello = next(r for r in rows if r["name"] == "hellogan")
    assert (hello["plugin"], hello["distribution"], hello["version"]) == ("hello", "ganzoo-hello", "0.1")
    assert any(r["name"] == "dcgan" and r["distribution"] == "ganzoo" for r in rows)


def test_broken_plugin_is_reported_and_the_rest_works(tmp_path):
    site = make_distribution(
        tmp_path / "site", "ganzoo-broken", "ganzoo_broken", "raise RuntimeError('boom at import')\n"
    )
    result = run_cli("list", "models", "--json", env=with_site(site))
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "ganzoo_broken" in line or "broken" in line]
    assert len(warnings) == 1 and "boom at import" in warnings[0] and "ganzoo-broken 0.1" in warnings[0]
    assert_no_traceback(result)
    assert "dcgan" in result.stdout

    listed = run_cli("plugins", "--json", env=with_site(site))
    assert '"status": "failed"' in listed.stdout and "boom at import" in listed.stdout


def test_strict_plugins_make_a_broken_plugin_fatal(tmp_path):
    site = make_distribution(tmp_path / "site", "ganzoo-broken", "ganzoo_broken", "raise RuntimeError('boom')\n")
    result = run_cli("list", env=with_site(site, {"GANZOO_STRICT_PLUGINS": "1"}))
    assert result.returncode == 1
    assert "boom" in result.stderr and "GANZOO_STRICT_PLUGINS" in result.stderr
    assert_no_traceback(result)


def test_disabled_plugins_are_skipped(tmp_path):
    site = make_distribution(tmp_path / "site", "ganzoo-hello", "ganzoo_hello", HELLO, entry_name="hello")
    providers = sorted({row["plugin"] for row in list_json("models", env=with_site(site))})
    assert "hello" in providers and "dcgan" in providers
    rows = list_json("models", env=with_site(site, {"GANZOO_DISABLE_PLUGINS": ", ".join(providers)}))
    assert rows == []
    result = run_cli("plugins", "--all", "--json", env=with_site(site, {"GANZOO_DISABLE_PLUGINS": "hello"}))
    assert '"status": "disabled"' in result.stdout


def test_duplicate_model_from_a_second_plugin_names_both(tmp_path):
    clash = HELLO.replace('"hellogan"', '"dcgan"')
    site = make_distribution(tmp_path / "site", "ganzoo-clash", "ganzoo_clash", clash)
    result = run_cli("list", "models", "--json", env=with_site(site))
    assert result.returncode == 0
    assert "dcgan (ganzoo 0.1.0)" in result.stderr and "ganzoo_clash (ganzoo-clash 0.1)" in result.stderr
    assert_no_traceback(result)


class Misspelt:
    @hookimpl
    def register_modles(self, register):  # noqa: D401 - the typo is the point
        pass


class HalfBroken:
    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="first", summary="", task="unconditional", build="x:y", options="x:z"))
        raise ValueError("second entry failed")


class WrongSpec:
    @hookimpl
    def register_datasets(self, register):
        register("not a spec")


@pytest.fixture
def system(monkeypatch):
    monkeypatch.delenv("GANZOO_STRICT_PLUGINS", raising=False)
    system = PluginSystem()
    system.load_entry_points()
    return system


def test_misspelt_hook_is_caught(system, capsys):
    info = system.add(Misspelt(), "misspelt")
    assert info.status == "failed" and "register_modles" in info.error
    assert "misspelt" in capsys.readouterr().err
    assert "misspelt" not in {p for p in system.pm.list_name_plugin()}


def test_failed_registration_leaves_no_partial_entries(system):
    info = system.add(HalfBroken(), "halfbroken")
    assert info.status == "failed" and "second entry failed" in info.error
    assert "first" not in system.models


def test_wrong_spec_type_rejected(system):
    info = system.add(WrongSpec(), "wrongspec")
    assert info.status == "failed" and "DatasetSpec" in info.error


def test_strict_mode_raises_in_process(system, monkeypatch):
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="halfbroken"):
        system.add(HalfBroken(), "halfbroken")


def test_plugin_commands_are_added(tmp_path):
    source = '''
    import typer
    from ganzoo import hookimpl

    @hookimpl
    def register_commands(app):
        @app.command()
        def hello(name: str = "world"):
            """Say hello."""
            typer.echo(f"hello {name}")
    '''
    site = make_distribution(tmp_path / "site", "ganzoo-cmd", "ganzoo_cmd", source)
    result = run_cli("hello", "--name", "gan", env=with_site(site))
    assert result.returncode == 0 and result.stdout.strip() == "hello gan"


class MetricsAndLosses:
    @hookimpl
    def register_metrics(self, register):
        from ganzoo import MetricSpec

        register(MetricSpec("sharpness", "mean gradient magnitude of samples", "x:y"))
        register(MetricSpec("tiny-features", "a toy feature extractor", "x:z", kind="feature-extractor"))

    @hookimpl
    def register_losses(self, register):
        from ganzoo import LossSpec

        register(LossSpec("wasserstein-toy", "a test loss", "ganzoo_losses.adversarial:HingeLoss"))


def test_metrics_and_losses_are_registered_with_provider(system):
    info = system.add(MetricsAndLosses(), "toys")
    assert info.status == "loaded" and info.hooks == ["register_losses", "register_metrics"]
    assert [e.name for e in system.metrics.list("*") if e.provider.plugin == "toys"] == ["sharpness", "tiny-features"]
    assert system.metrics.entry("sharpness").provider.plugin == "toys"
    assert "wasserstein-toy" in system.losses
    system.remove("toys")
    assert "sharpness" not in system.metrics and "toys" not in system.plugins


def test_a_plugin_cannot_replace_a_builtin_command(tmp_path):
    source = """
    import typer
    from ganzoo import hookimpl

    @hookimpl
    def register_commands(app):
        @app.command()
        def train():
            typer.echo("hijacked")

        @app.command()
        def greet():
            typer.echo("hello")
    """
    site = make_distribution(tmp_path / "site", "ganzoo-hijack", "ganzoo_hijack", source, entry_name="hijack")
    result = run_cli("train", "dcgn", env=with_site(site))
    assert "hijacked" not in result.stdout and result.returncode == 2  # the built-in train ran: unknown model
    warnings = [line for line in result.stderr.splitlines() if "hijack" in line]
    assert len(warnings) == 1 and "'train'" in warnings[0] and "ganzoo (built-in)" in warnings[0], result.stderr
    assert run_cli("greet", env=with_site(site)).stdout.strip() == "hello"  # its other commands still come


@pytest.mark.parametrize("raising", ["import sys; sys.exit(3)", "raise KeyboardInterrupt"])
def test_exit_or_interrupt_at_a_plugins_import_is_isolated(tmp_path, raising):
    site = make_distribution(tmp_path / "site", "ganzoo-quits", "ganzoo_quits", raising + "\n", entry_name="quits")
    result = run_cli("list", "models", "--json", env=with_site(site))
    assert result.returncode == 0 and "dcgan" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "quits" in line]
    assert len(warnings) == 1 and "failed to import" in warnings[0], result.stderr
    assert_no_traceback(result)


def test_an_entry_point_named_like_a_builtin_plugin_is_reported(tmp_path):
    site = make_distribution(tmp_path / "site", "ganzoo-impostor", "ganzoo_impostor", HELLO, entry_name="dcgan")
    result = run_cli("list", "models", "--json", env=with_site(site))
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "impostor" in line]
    assert len(warnings) == 1 and "already taken" in warnings[0] and "ganzoo 0.1.0" in warnings[0], result.stderr
    assert "hellogan" not in result.stdout and '"dcgan"' in result.stdout
