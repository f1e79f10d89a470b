"""The plugin manager: every plugin, built-in or third-party, comes through the ``ganzoo``
entry-point group, is validated, and registers its entries through callbacks that record it
as their provider. A plugin that fails is reported in one line and left out."""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from ganzoo import hookspecs
from ganzoo.errors import GanzooError, PluginError
from ganzoo.registry import Provider, Registry
from ganzoo.specs import DatasetSpec, LoggerSpec, LossSpec, MetricSpec, ModelSpec, TaskSpec

ENTRY_POINT_GROUP = "ganzoo"
#: What a plugin's own code may raise and still be isolated: a plugin calling sys.exit() or
#: raising KeyboardInterrupt while importing must not end ganzoo.
ISOLATED = (Exception, SystemExit, KeyboardInterrupt)
#: hook name -> (registry, what one entry is called, the spec class entries must be)
REGISTERING_HOOKS = {
    "register_tasks": ("tasks", "task", TaskSpec),
    "register_models": ("models", "model", ModelSpec),
    "register_datasets": ("datasets", "dataset", DatasetSpec),
    "register_losses": ("losses", "loss", LossSpec),
    "register_metrics": ("metrics", "metric", MetricSpec),
    "register_loggers": ("loggers", "logger", LoggerSpec),
}


@dataclass
class PluginInfo:
    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    status: str = "loaded"  # loaded | failed | disabled
    error: str | None = None
    hooks: list[str] = field(default_factory=list)

    @property
    def provider(self) -> Provider:
        return Provider(self.name, self.distribution, self.version)


class PluginSystem:
    """A plugin manager plus the registries the plugins fill."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("ganzoo")
        self.pm.add_hookspecs(hookspecs)
        self.registries: dict[str, Registry] = {
            kind: Registry(singular) for kind, singular, _ in REGISTERING_HOOKS.values()
        }
        self.plugins: dict[str, PluginInfo] = {}

    # -- the registries -------------------------------------------------------------
    @property
    def tasks(self) -> Registry[TaskSpec]:
        return self.registries["tasks"]

    def data_kind(self, model: ModelSpec) -> str:
        """The data kind a model trains on: its task's (a task no plugin registers is an error)."""
        if model.task not in self.tasks:
            raise PluginError(f"model '{model.name}' declares task '{model.task}', which no installed plugin "
                              f"registers (known tasks: {', '.join(self.tasks.names())})")
        return self.tasks.get(model.task).data_kind

    @property
    def models(self) -> Registry[ModelSpec]:
        return self.registries["models"]

    @property
    def datasets(self) -> Registry[DatasetSpec]:
        return self.registries["datasets"]

    @property
    def losses(self) -> Registry[LossSpec]:
        return self.registries["losses"]

    @property
    def metrics(self) -> Registry[MetricSpec]:
        return self.registries["metrics"]

    @property
    def loggers(self) -> Registry[LoggerSpec]:
        return self.registries["loggers"]

    # -- loading ----------------------------------------------------------------------
    def load_entry_points(self) -> None:
        disabled = {n.strip() for n in os.environ.get("GANZOO_DISABLE_PLUGINS", "").split(",") if n.strip()}
        for ep in _sorted_entry_points():
            dist = getattr(ep, "dist", None)
            info = PluginInfo(ep.name, dist.name if dist else None, dist.version if dist else None, ep.value)
            if ep.name in self.plugins:
                first = self.plugins[ep.name]
                if (first.distribution, first.module) != (info.distribution, info.module):
                    print(f"ganzoo: warning: plugin '{ep.name}' from {_origin(info)} is not loaded: the plugin name "
                          f"'{ep.name}' is already taken by {_origin(first)}; rename its entry point",
                          file=sys.stderr)
                continue  # (the same plugin seen twice on sys.path is simply loaded once)
            if ep.name in disabled:
                info.status = "disabled"
                self.plugins[ep.name] = info
                continue
            try:
                module = ep.load()
            except ISOLATED as exc:  # any failure of foreign code is isolated
                self._fail(info, "failed to import", exc)
                continue
            self.add(module, info)

    def add(self, module: ModuleType | Any, info: PluginInfo | str) -> PluginInfo:
        """Register one plugin object and its entries; used for entry points and by tests."""
        if isinstance(info, str):
            info = PluginInfo(info, module=getattr(module, "__name__", None))
        self.plugins[info.name] = info
        try:
            self.pm.register(module, name=info.name)
            self.pm.check_pending()  # a misspelt hook name fails here, naming the hook
        except ISOLATED as exc:
            if self.pm.is_registered(module):
                self.pm.unregister(module)
            self._fail(info, "is invalid", exc)
            return info
        info.hooks = sorted(impl_hook for impl_hook in _hook_names(self.pm, info.name))
        try:
            self._register_entries(info)
        except ISOLATED as exc:
            self.remove(info.name, keep_info=True)
            self._fail(info, "failed to register", exc)
        return info

    def remove(self, name: str, keep_info: bool = False) -> None:
        """Unregister a plugin and every entry it gave."""
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for registry in self.registries.values():
            registry.unregister_provider(name)
        if not keep_info:
            self.plugins.pop(name, None)

    def call_for_each(self, hook_name: str, after_each=None, **kwargs: Any) -> None:
        """Call ``hook_name`` plugin by plugin so one failing plugin cannot stop the others;
        ``after_each(plugin_info)`` runs after each plugin's call (to check what it did)."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            info = self.plugins.get(impl.plugin_name) or PluginInfo(impl.plugin_name)
            try:
                impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except ISOLATED as exc:
                self._fail(info, f"failed in {hook_name}", exc)
            if after_each is not None:
                after_each(info)

    def _register_entries(self, info: PluginInfo) -> None:
        """Stage everything the plugin registers; commit only if all of it is valid."""
        staged: list[tuple[Registry, str, Any]] = []
        for hook_name, (kind, _, spec_cls) in REGISTERING_HOOKS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin_name != info.name:
                    continue

                def register(spec: Any, _kind=kind, _cls=spec_cls) -> None:
                    if not isinstance(spec, _cls):
                        raise PluginError(f"{hook_name} expects {_cls.__name__}, got {type(spec).__name__}")
                    staged.append((self.registries[_kind], spec.name, spec))

                impl.function(register=register)
        for registry, name, spec in staged:
            registry.register(name, spec, info.provider)

    def _fail(self, info: PluginInfo, what: str, exc: BaseException) -> None:
        info.status = "failed"
        info.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        self.plugins[info.name] = info
        message = f"plugin '{info.name}'"
        if info.distribution:
            message += f" (from {info.distribution} {info.version})"
        message += f" {what} and is skipped: {info.error}"
        if os.environ.get("GANZOO_STRICT_PLUGINS", "") not in ("", "0"):
            raise PluginError(message + " (GANZOO_STRICT_PLUGINS is set)") from exc
        print(f"ganzoo: warning: {message}", file=sys.stderr)
        if os.environ.get("GANZOO_DEBUG"):
            traceback.print_exception(exc)


def _origin(info: PluginInfo) -> str:
    """'ganzoo-extra 1.2 (module extra_plugin)' for messages naming where a plugin comes from."""
    where = f"{info.distribution} {info.version}" if info.distribution else "an unknown distribution"
    return f"{where} (module {info.module})" if info.module else where


def _sorted_entry_points() -> list[metadata.EntryPoint]:
    """Built-in plugins (shipped in the ganzoo distribution) first, then the rest by name."""
    eps = list(metadata.entry_points(group=ENTRY_POINT_GROUP))

    def key(ep: metadata.EntryPoint) -> tuple:
        dist = getattr(ep, "dist", None)
        return (0 if dist is not None and dist.name == "ganzoo" else 1, ep.name)

    return sorted(eps, key=key)


def _hook_names(pm: pluggy.PluginManager, plugin_name: str) -> list[str]:
    plugin = pm.get_plugin(plugin_name)
    callers = pm.get_hookcallers(plugin) or []
    return [caller.name for caller in callers]


_SYSTEM: PluginSystem | None = None


def load_plugins(reload: bool = False) -> PluginSystem:
    """The process-wide plugin system, loaded from entry points on first use."""
    global _SYSTEM
    if _SYSTEM is None or reload:
        system = PluginSystem()
        system.load_entry_points()
        _SYSTEM = system
        if not system.plugins:
            raise GanzooError("no models are registered: is ganzoo installed (pip install -e .)?")
    return _SYSTEM
