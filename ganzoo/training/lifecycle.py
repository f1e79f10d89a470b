"""Lifecycle hooks: the training loop tells plugins (and the run's loggers) what happened.

Each hook is one pluggy call (``pm.hook.on_log(run=..., step=..., scalars=...)``), so ``tryfirst``,
``trylast`` and wrappers order and wrap implementations as pluggy documents. Every plugin's code runs
behind its isolation guard (ganzoo._isolation): an implementation that raises is reported once,
switched off for the rest of the run, and neither stops training nor the implementations after it.
The time spent in hooks is counted, so that the loop can leave it out of its images-per-second figures.

A run's own components (its console report, records, sample files, checkpoint files: see ganzoo.training)
are listeners registered for the run with :meth:`Lifecycle.start`, as pytest's terminal reporter is a plugin on
pytest's hooks. They are ganzoo's code, not a plugin's: they run unguarded, so their failure (a full disk) is
the run's. The trainer starts the lifecycle on rank 0 alone: the other processes of a launch have no listeners,
and so write and report nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ganzoo._isolation import Policy
from ganzoo.plugins import PluginSystem
from ganzoo.specs import resolve

#: The lifecycle hooks, in the order a run meets them (see ganzoo.hookspecs).
LIFECYCLE_HOOKS = ("on_train_start", "on_log", "on_sample", "on_evaluate", "on_checkpoint", "on_train_end")


class Lifecycle:
    def __init__(self, plugins: PluginSystem, warn: Callable[[str], None]):
        self.plugins = plugins
        self.warn = warn
        self.run: Any = None
        # Exception only: Ctrl-C inside a hook stops training as it does anywhere else. The policy's `off`
        # holds the (plugin, hook) pairs that raised during this run.
        self.policy = Policy(catches=(Exception,))
        self.seconds = 0.0  # spent inside hook implementations
        self.started = False
        self._loggers: list[str] = []  # plugin names of this run's loggers, registered by start()
        self._listeners: list[str] = []  # plugin names of this run's own components
        hook = plugins.pm.hook
        self._everyone = {
            "on_train_start": hook.on_train_start,
            "on_log": hook.on_log,
            "on_sample": hook.on_sample,
            "on_evaluate": hook.on_evaluate,
            "on_checkpoint": hook.on_checkpoint,
            "on_train_end": hook.on_train_end,
        }
        self._callers = self._everyone

    def start(self, run: Any, loggers: list[str], step: int, listeners: Sequence[object] = ()) -> None:
        """Register the run's loggers (built from their specs), then its ``listeners``, and call
        on_train_start. Without a ``run`` (a Trainer used by a benchmark) only the listeners hear of it."""
        self.run, self.started = run, True
        if run is None:
            loggers = []
        for name in loggers:
            spec = self.plugins.loggers.get(name)
            try:
                self.plugins.register(resolve(spec.build)(run), f"logger:{name}")
            except Exception as exc:  # a logger that cannot start must not stop training
                self.warn(
                    f"warning: logger '{name}' could not start and is off for this run: "
                    f"{type(exc).__name__}: {exc}".splitlines()[0]
                )
                continue
            self._loggers.append(f"logger:{name}")
        for listener in listeners:  # registered last: the first called of their kind (tryfirst, plain, trylast)
            name = f"run:{type(listener).__name__}"
            self.plugins.pm.register(listener, name=name)
            self._listeners.append(name)
        if run is None:  # nobody else listens
            others = [plugin for name, plugin in self.plugins.pm.list_name_plugin() if name not in self._listeners]
            self._callers = {
                hook: self.plugins.pm.subset_hook_caller(hook, remove_plugins=others) for hook in LIFECYCLE_HOOKS
            }
        self.emit("on_train_start", step=step)

    def note(self, message: str) -> None:
        """A line for whoever reports the run (the console and log.txt); nothing before start(), or for ""."""
        if self.started and message:
            self.warn(message)

    def emit(self, hook: str, **kwargs: Any) -> None:
        """Call lifecycle hook ``hook`` (one of LIFECYCLE_HOOKS) with ``run`` and ``kwargs``."""
        if not self.started:  # a Trainer that did not start it (the processes other than rank 0): nobody listens
            return
        started = time.perf_counter()
        try:
            with self.plugins.isolation.applying(self.policy):
                self._callers[hook](run=self.run, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self._report()

    def end(self, step: int, status: str) -> None:
        """Call on_train_end, then unregister the run's loggers."""
        try:
            self.emit("on_train_end", step=step, status=status)
        finally:
            for name in self._loggers + self._listeners:
                plugin = self.plugins.pm.get_plugin(name)
                if plugin is not None:
                    self.plugins.pm.unregister(plugin)
            self._loggers, self._listeners, self.run, self.started = [], [], None, False
            self._callers = self._everyone

    def _report(self) -> None:
        """One line per implementation that failed; the guard has switched it off already."""
        for plugin, hook, exc in self.policy.failures:
            who = plugin.removeprefix("logger:")
            kind = "logger" if plugin.startswith("logger:") else "plugin"
            self.warn(
                f"warning: {kind} '{who}' failed in {hook} ({type(exc).__name__}: {exc}".splitlines()[0]
                + f"); its {hook} is off for the rest of this run"
            )
        self.policy.failures.clear()
