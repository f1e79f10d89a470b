"""Settings are declared once: the train flags, the API keywords, the TOML keys, the checks and the
docs table all follow the declarations in ganzoo/training/settings.py; evaluation defaults have
one home (ganzoo/metrics/eval_settings.py)."""

from __future__ import annotations

import inspect
import re

import pytest
import typer.main

import ganzoo
from conftest import ROOT
from ganzoo.errors import UsageError
from ganzoo.metrics.eval_settings import EVAL_DEFAULTS
from ganzoo.plugins import PluginSystem, load_plugins
from ganzoo.registry import Provider
from ganzoo.specs import MetricSpec
from ganzoo.training.config_file import setting_keys
from ganzoo.training.declared import Registered
from ganzoo.training.plan import plan_training
from ganzoo.training.settings import RECORDED, RESUMABLE, TrainSettings, declared_settings
from ganzoo.training.settings_table import PAGE, with_table

TINY = {"steps": 2, "batch_size": 8, "sets": ["ngf=8", "ndf=8"]}


def command(name: str):
    from ganzoo.cli import build_app

    return typer.main.get_command(build_app()).commands[name]


def test_the_docs_table_is_generated_from_the_declarations():
    page = PAGE.read_text(encoding="utf-8")
    assert with_table(page) == page, "docs/cli.md is stale: run `python -m ganzoo.training.settings_table`"


def test_every_declared_setting_is_a_train_flag_a_toml_key_and_an_api_keyword():
    train = command("train")
    flags = {param.name: param.opts for param in train.params}
    keys = setting_keys()
    for declared in declared_settings():
        assert declared.flag in flags[declared.name], declared.name
        assert keys[declared.flag.removeprefix("--")] == declared.name
        assert keys[declared.name] == declared.name  # a keyword of ganzoo.train
        assert declared.rules.help and declared.rules.panel, declared.name
    assert set(flags) == {d.name for d in declared_settings()} | {"model", "resume", "config"}
    assert set(RESUMABLE) <= {d.name for d in declared_settings()}
    assert "data_options" in RECORDED  # restored on resume, no flag of its own


def test_help_lists_what_plugins_registered_at_run_time(monkeypatch):
    plugins = load_plugins()
    by_name = {d.name: d for d in declared_settings()}
    assert by_name["eval_metric"].help(plugins).endswith("Registered: fid, is, kid, pr.")
    assert "Registered: digits, inception." in by_name["eval_extractor"].help(plugins)
    assert "csv, tensorboard" in by_name["loggers"].help(plugins)
    assert "Registered" not in by_name["dataset"].help(plugins)  # a long list: `ganzoo list datasets` instead
    assert by_name["eval_metric"].help(None) == by_name["eval_metric"].rules.help  # plugins that cannot load

    # a plugin's metric appears in `train --help` and `eval --help`, without any change to the core
    extended = PluginSystem()
    extended.load_entry_points()
    extended.metrics.register(
        "sharpness", MetricSpec(name="sharpness", summary="a plugin's metric", build="x:y"), Provider("test-plugin")
    )
    monkeypatch.setattr("ganzoo.training.declared.load_plugins", lambda: extended)
    train_help = {p.name: p.help for p in command("train").params}
    eval_help = {p.name: p.help for p in command("eval").params}
    assert "sharpness" in train_help["eval_metric"] and "sharpness" in eval_help["metric"]
    assert "sharpness" not in train_help["eval_extractor"] and "sharpness" not in eval_help["feature_extractor"]


def test_evaluation_defaults_have_one_home():
    evaluate = {p.name: p.default for p in command("eval").params}
    assert (evaluate["metric"], evaluate["n"], evaluate["feature_extractor"], evaluate["seed"]) == (
        ",".join(EVAL_DEFAULTS.metrics),
        EVAL_DEFAULTS.n,
        EVAL_DEFAULTS.extractor,
        EVAL_DEFAULTS.seed,
    )
    api = inspect.signature(ganzoo.Run.evaluate).parameters
    assert (api["metrics"].default, api["n"].default, api["extractor"].default) == (
        EVAL_DEFAULTS.metrics,
        EVAL_DEFAULTS.n,
        EVAL_DEFAULTS.extractor,
    )
    settings = TrainSettings(model="dcgan")
    assert ((settings.eval_metric,), settings.eval_extractor) == (EVAL_DEFAULTS.metrics, EVAL_DEFAULTS.extractor)
    assert f"[--n {EVAL_DEFAULTS.n}]" in (ROOT / "docs" / "cli.md").read_text()


def bad_values():
    """One value outside each declared bound or choice."""
    for d in declared_settings():
        rules, value = d.rules, None
        if rules.positive:
            value = 0 if d.kind is int else 0.0
        elif rules.below is not None:
            value = rules.below
        elif rules.minimum is not None:
            value = int(rules.minimum) - 1
        elif rules.choices is not None:
            value = ["no-such-thing"] if d.repeatable else "no-such-thing"
        if value is not None:
            yield pytest.param(d, value, id=d.name)


@pytest.mark.parametrize("declared, value", list(bad_values()))
def test_every_declared_bound_and_choice_is_checked_naming_the_flag(declared, value, tmp_path):
    given = {**TINY, declared.name: value, "out": str(tmp_path)}
    if declared.rules.only_with:
        given[declared.rules.only_with] = 1
    if declared.name == "epochs":  # one budget at a time
        given.pop("steps")
    with pytest.raises(UsageError) as caught:
        plan_training(TrainSettings(model="dcgan", **given), load_plugins())
    message = str(caught.value)
    registry = isinstance(declared.rules.choices, Registered)
    assert message.startswith(declared.flag) or (registry and "no-such-thing" in message), message
    assert not any(tmp_path.iterdir())


def test_api_keywords_are_type_checked_naming_the_flag(tmp_path):
    with pytest.raises(UsageError, match=re.escape("--steps must be an integer, got 'ten'")):
        ganzoo.train("dcgan", steps="ten", out=tmp_path)
    with pytest.raises(UsageError, match="--logger must be a list of strings"):
        ganzoo.train("dcgan", loggers=[3], out=str(tmp_path))
    assert not any(tmp_path.iterdir())


def test_the_plan_holds_the_resolved_settings(tmp_path):
    plan = plan_training(TrainSettings(model="dcgan", out=str(tmp_path), name="r", **TINY), load_plugins())
    settings = plan.settings
    assert (settings.dataset, settings.resolution, settings.batch_size, settings.steps) == ("digits", 16, 8, 2)
    assert (settings.sample_every, settings.log_every, settings.checkpoint_every, settings.ema_start) == (1, 1, 2, 0)
    assert settings.lr_schedule == "constant" and plan.run_dir == tmp_path / "r"
    assert set(plan.training_dict()) == set(RECORDED)
