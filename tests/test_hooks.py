"""Hooks go through pluggy: tryfirst/trylast order, wrappers, and isolation of a plugin that raises."""

from __future__ import annotations

import itertools
import sys
import time
import types

import pytest
import typer

from conftest import make_distribution
from ganzoo import LoggerSpec, LossSpec, ModelSpec, hookimpl
from ganzoo.errors import PluginError
from ganzoo.plugins import PluginSystem
from ganzoo.training.lifecycle import Lifecycle

_unique = itertools.count()


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """What the hook implementations did, in order; plugin modules append to it through `hooks_record`."""
    record = types.ModuleType("hooks_record")
    record.calls = []
    monkeypatch.setitem(sys.modules, "hooks_record", record)
    monkeypatch.delenv("GANZOO_STRICT_PLUGINS", raising=False)
    return record.calls


@pytest.fixture
def install(tmp_path, monkeypatch):
    """install(name=source, ...): one fake distribution per plugin on sys.path; returns a PluginSystem that
    loaded them (and the built-ins) from entry points, as `ganzoo` does."""

    def install(**sources: str) -> PluginSystem:
        site = tmp_path / "site"
        for name, source in sources.items():
            module = f"hooks_{next(_unique)}_{name}"  # each test imports fresh modules
            make_distribution(site, f"ganzoo-{name}", module, source, entry_name=name)
        monkeypatch.syspath_prepend(str(site))
        system = PluginSystem()
        system.load_entry_points()
        return system

    return install


def model_plugin(name: str, options: str = "") -> str:
    """A plugin whose register_models (with these hookimpl options) records its name and registers `<name>-gan`."""
    return f'''
from ganzoo import ModelSpec, hookimpl
from hooks_record import calls

@hookimpl({options})
def register_models(register):
    calls.append("{name}")
    register(ModelSpec(name="{name}-gan", summary="", task="unconditional", build="x:y", options="x:z"))
'''


# -- registering hooks --------------------------------------------------------------------------------


def test_registering_hooks_follow_tryfirst_and_trylast(install, calls):
    # load order is first, last, plain (by entry-point name); last-registered-first would be plain, last, first
    system = install(
        a_first=model_plugin("first", "tryfirst=True"),
        b_last=model_plugin("last", "trylast=True"),
        c_plain=model_plugin("plain"),
    )
    assert calls == ["first", "plain", "last"]
    for name, plugin in (("first-gan", "a_first"), ("last-gan", "b_last"), ("plain-gan", "c_plain")):
        assert system.models.entry(name).provider.plugin == plugin


WRAPPERS = {
    "wrapper": """
@hookimpl(wrapper=True)
def register_models(register):
    calls.append("before")
    result = yield
    calls.append("after")
    register(ModelSpec(name="wrapped-gan", summary="", task="unconditional", build="x:y", options="x:z"))
    return result
""",
    "hookwrapper": """
@hookimpl(hookwrapper=True)
def register_models(register):
    calls.append("before")
    outcome = yield
    outcome.get_result()
    calls.append("after")
    register(ModelSpec(name="wrapped-gan", summary="", task="unconditional", build="x:y", options="x:z"))
""",
}


@pytest.mark.parametrize("kind", WRAPPERS)
def test_a_wrapper_runs_around_the_registering_hooks(install, calls, kind):
    source = "from ganzoo import ModelSpec, hookimpl\nfrom hooks_record import calls\n" + WRAPPERS[kind]
    system = install(a_wrapping=source, b_plain=model_plugin("plain"))
    assert calls == ["before", "plain", "after"]
    assert system.models.entry("wrapped-gan").provider.plugin == "a_wrapping"  # what it registers is its own


HALF_BROKEN = """
from ganzoo import LossSpec, ModelSpec, hookimpl
from hooks_record import calls

@hookimpl
def register_models(register):
    register(ModelSpec(name="half-gan", summary="", task="unconditional", build="x:y", options="x:z"))

@hookimpl(tryfirst=True)
def register_losses(register):
    register(LossSpec(name="half-loss", summary="", build="x:y"))
    raise ValueError("the second loss failed")

@hookimpl
def register_metrics(register):
    calls.append("half metrics")
"""

GOOD_LOSS = """
from ganzoo import LossSpec, hookimpl
from hooks_record import calls

@hookimpl
def register_losses(register):
    calls.append("good")
    register(LossSpec(name="good-loss", summary="", build="x:y"))
"""


def test_a_plugin_failing_half_way_leaves_no_entries_and_the_others_run(install, calls, capsys):
    system = install(a_half=HALF_BROKEN, b_good=GOOD_LOSS)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "a_half" in line]
    assert len(warnings) == 1 and "failed to register" in warnings[0] and "the second loss failed" in warnings[0]
    assert system.plugins["a_half"].status == "failed" and not system.pm.has_plugin("a_half")
    assert "half-gan" not in system.models and "half-loss" not in system.losses  # all or nothing
    assert calls == ["good"]  # the plugin after it in the same call ran; its own later hooks did not
    assert system.losses.entry("good-loss").provider.plugin == "b_good"


def test_register_outside_its_hook_is_an_error(calls):
    kept = []

    class Keeper:
        @hookimpl
        def register_models(self, register):
            kept.append(register)

    system = PluginSystem()
    system.add(Keeper(), "keeper")
    with pytest.raises(PluginError, match="outside that hook"):
        kept[0](ModelSpec(name="late-gan", summary="", task="unconditional", build="x:y", options="x:z"))


# -- register_commands -------------------------------------------------------------------------------


class Commands:
    def __init__(self, name: str, calls: list[str], fail: bool = False):
        self.name, self.calls, self.fail = name, calls, fail

    @hookimpl(tryfirst=True)
    def register_commands(self, app):
        self.calls.append(self.name)
        app.command(name=self.name)(lambda: None)
        if self.fail:
            raise RuntimeError("no more commands")


def test_register_commands_goes_through_pluggy_with_isolation(calls, capsys):
    system = PluginSystem()
    system.add(Commands("broken", calls, fail=True), "broken")
    system.add(Commands("fine", calls), "fine")
    app, seen = typer.Typer(), []
    system.register_commands(app, after_each=lambda info: seen.append(info.name))
    assert calls == ["fine", "broken"]  # both tryfirst: last registered first
    assert seen == ["fine", "broken"] and [c.name for c in app.registered_commands] == ["fine", "broken"]
    warnings = [line for line in capsys.readouterr().err.splitlines() if "broken" in line]
    assert len(warnings) == 1 and "failed in register_commands" in warnings[0]


# -- lifecycle hooks ---------------------------------------------------------------------------------


class Listener:
    """Records its on_log and on_checkpoint calls; ``fail`` makes its on_log raise."""

    def __init__(self, name: str, calls: list[str], fail: bool = False):
        self.name, self.calls, self.fail = name, calls, fail

    def record_log(self, step):
        self.calls.append(f"{self.name}:{step}")
        if self.fail:
            raise ValueError("the service is down")


def listener(options: dict, **kwargs) -> Listener:
    """A Listener whose on_log carries these hookimpl options (tryfirst=True...)."""

    class Hooks(Listener):
        @hookimpl(**options)
        def on_log(self, step, scalars):
            self.record_log(step)

        @hookimpl
        def on_checkpoint(self, path):
            self.calls.append(f"{self.name}:checkpoint")

    return Hooks(**kwargs)


def running(system: PluginSystem, warnings: list[str]) -> Lifecycle:
    lifecycle = Lifecycle(system, warnings.append)
    lifecycle.start(run="RUN", loggers=[], step=0)
    return lifecycle


def test_lifecycle_hooks_follow_tryfirst_and_trylast(calls):
    system = PluginSystem()
    system.add(listener({"tryfirst": True}, name="first", calls=calls), "first")
    system.add(listener({"trylast": True}, name="last", calls=calls), "last")
    system.add(listener({}, name="plain", calls=calls), "plain")
    system.add(listener({}, name="later", calls=calls), "later")
    running(system, []).emit("on_log", step=5, scalars={})
    assert calls == ["first:5", "later:5", "plain:5", "last:5"]


class TwoImplementations:
    """One plugin implementing on_log twice (``specname``), first and last."""

    def __init__(self, calls: list[str]):
        self.calls = calls

    @hookimpl(specname="on_log", trylast=True)
    def log_last(self, step):
        self.calls.append(f"own-last:{step}")

    @hookimpl(specname="on_log", tryfirst=True)
    def log_first(self, step):
        self.calls.append(f"own-first:{step}")


def test_one_plugin_may_implement_a_hook_twice(calls):
    system = PluginSystem()
    system.add(TwoImplementations(calls), "twice")
    system.add(listener({}, name="plain", calls=calls), "plain")
    running(system, []).emit("on_log", step=2, scalars={})
    assert calls == ["own-first:2", "plain:2", "own-last:2"]


class Wrapping:
    def __init__(self, calls: list[str]):
        self.calls = calls

    @hookimpl(wrapper=True)
    def on_log(self, step):
        self.calls.append("before")
        result = yield
        self.calls.append("after")
        return result


class OldWrapping(Wrapping):
    @hookimpl(hookwrapper=True)
    def on_log(self, step):
        self.calls.append("before")
        yield
        self.calls.append("after")


@pytest.mark.parametrize("wrapper", [Wrapping, OldWrapping])
def test_a_wrapper_runs_around_the_lifecycle_hooks(calls, wrapper):
    system = PluginSystem()
    system.add(wrapper(calls), "wrapping")  # registered first, still outermost
    system.add(listener({"tryfirst": True}, name="first", calls=calls), "first")
    system.add(listener({}, name="plain", calls=calls), "plain")
    running(system, []).emit("on_log", step=1, scalars={})
    assert calls == ["before", "first:1", "plain:1", "after"]


def test_a_failing_lifecycle_hook_is_off_for_the_run_and_reported_once(calls):
    system = PluginSystem()
    system.add(listener({}, name="plain", calls=calls), "plain")
    system.add(listener({"tryfirst": True}, name="raiser", calls=calls, fail=True), "raiser")
    warnings: list[str] = []
    lifecycle = running(system, warnings)
    for step in (1, 2, 3):
        lifecycle.emit("on_log", step=step, scalars={})
    lifecycle.emit("on_checkpoint", step=3, path="ckpt")
    assert calls == ["raiser:1", "plain:1", "plain:2", "plain:3", "raiser:checkpoint", "plain:checkpoint"]
    assert warnings == [
        "warning: plugin 'raiser' failed in on_log (ValueError: the service is down); "
        "its on_log is off for the rest of this run"
    ]
    lifecycle.end(step=3, status="finished")

    calls.clear()  # the next run calls it again
    running(system, warnings).emit("on_log", step=1, scalars={})
    assert calls == ["raiser:1", "plain:1"] and len(warnings) == 2


class BrokenWrapping(Wrapping):
    """Raises before its yield (``when="before"``) or after it."""

    def __init__(self, calls: list[str], when: str):
        super().__init__(calls)
        self.when = when

    @hookimpl(wrapper=True)
    def on_log(self, step):
        if self.when == "before":
            raise RuntimeError("broken wrapper")
        yield
        raise RuntimeError("broken wrapper")


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_failing_wrapper_is_isolated(calls, when):
    system = PluginSystem()
    system.add(listener({}, name="plain", calls=calls), "plain")
    system.add(BrokenWrapping(calls, when), "broken")
    system.add(Wrapping(calls), "outer")
    warnings: list[str] = []
    lifecycle = running(system, warnings)
    lifecycle.emit("on_log", step=1, scalars={})
    lifecycle.emit("on_log", step=2, scalars={})
    assert calls == ["before", "plain:1", "after", "before", "plain:2", "after"]
    assert len(warnings) == 1 and "plugin 'broken' failed in on_log (RuntimeError: broken wrapper)" in warnings[0]


class FlakyLogger:
    def __init__(self, run):
        self.run = run

    @hookimpl
    def on_log(self, run, step, scalars):
        time.sleep(0.02)
        raise OSError("disk full")


class FlakyLoggers:
    @hookimpl
    def register_loggers(self, register):
        register(LoggerSpec("flaky", "a logger that fails", build=FlakyLogger))


def test_a_loggers_failure_is_reported_as_the_logger_and_hook_time_is_counted(calls):
    system = PluginSystem()
    system.add(FlakyLoggers(), "flakies")
    system.add(listener({}, name="plain", calls=calls), "plain")
    warnings: list[str] = []
    lifecycle = Lifecycle(system, warnings.append)
    lifecycle.start(run="RUN", loggers=["flaky"], step=0)
    lifecycle.emit("on_log", step=1, scalars={})
    assert calls == ["plain:1"] and lifecycle.seconds >= 0.02
    assert len(warnings) == 1 and "logger 'flaky' failed in on_log (OSError: disk full)" in warnings[0]
    lifecycle.end(step=1, status="finished")
    assert not system.pm.has_plugin("logger:flaky")


def test_a_plugin_added_in_process_lists_its_hooks_and_entries(calls):
    class Losses:
        @hookimpl(trylast=True)
        def register_losses(self, register):
            register(LossSpec(name="toy-loss", summary="", build="x:y"))

    system = PluginSystem()
    info = system.add(Losses(), "toys")
    assert info.status == "loaded" and info.hooks == ["register_losses"]
    assert system.losses.entry("toy-loss").provider.plugin == "toys"
