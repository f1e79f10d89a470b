"""Lifecycle hooks: the training loop tells plugins (and the run's loggers) what happened.

Each implementation is called on its own, so one that raises is reported once, switched off
for the rest of the run, and neither stops training nor the other plugins. The time spent in
hooks is counted, so that the loop can leave it out of its images-per-second figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ganzoo.plugins import PluginSystem
from ganzoo.specs import resolve

#: The lifecycle hooks, in the order a run meets them (see ganzoo.hookspecs).
LIFECYCLE_HOOKS = ("on_train_start", "on_log", "on_sample", "on_evaluate", "on_checkpoint", "on_train_end")


class Lifecycle:
    def __init__(self, plugins: PluginSystem, warn: Callable[[str], None]):
        self.pm = plugins.pm
        self.plugins = plugins
        self.warn = warn
        self.run: Any = None
        self.off: set[tuple[str, str]] = set()  # (plugin, hook) pairs that raised during this run
        self.seconds = 0.0  # spent inside hook implementations
        self._loggers: list[str] = []  # plugin names of this run's loggers, registered by start()

    def start(self, run: Any, loggers: list[str], step: int) -> None:
        """Register the run's loggers (built from their specs) and call on_train_start."""
        self.run = run
        for name in loggers:
            spec = self.plugins.loggers.get(name)
            try:
                logger = resolve(spec.build)(run)
                self.pm.register(logger, name=f"logger:{name}")
            except Exception as exc:  # a logger that cannot start must not stop training
                self.warn(f"warning: logger '{name}' could not start and is off for this run: "
                          f"{type(exc).__name__}: {exc}".splitlines()[0])
                continue
            self._loggers.append(f"logger:{name}")
        self.emit("on_train_start", step=step)

    def emit(self, hook: str, **kwargs: Any) -> None:
        if self.run is None:  # a Trainer used without run() (benchmarks, tests): nobody listens
            return
        started = time.perf_counter()
        kwargs["run"] = self.run
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            key = (impl.plugin_name, hook)
            if key in self.off:
                continue
            try:
                impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as exc:
                self.off.add(key)
                who = impl.plugin_name.removeprefix("logger:")
                kind = "logger" if impl.plugin_name.startswith("logger:") else "plugin"
                self.warn(f"warning: {kind} '{who}' failed in {hook} ({type(exc).__name__}: {exc}".splitlines()[0]
                          + f"); its {hook} is off for the rest of this run")
        self.seconds += time.perf_counter() - started

    def end(self, step: int, status: str) -> None:
        """Call on_train_end, then unregister the run's loggers."""
        try:
            self.emit("on_train_end", step=step, status=status)
        finally:
            for name in self._loggers:
                plugin = self.pm.get_plugin(name)
                if plugin is not None:
                    self.pm.unregister(plugin)
            self._loggers, self.run = [], None
