"""The plugin manager: every plugin, built-in or third-party, comes through the ``ganzoo``
entry-point group, is validated, and registers its entries through callbacks that record it
as their provider. Hooks are called through pluggy (``pm.hook.register_models(...)``), each
plugin's code behind a guard (ganzoo._isolation): a plugin that fails is reported in one line
and left out, and the others still run."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from ganzoo import hookspecs
from ganzoo._isolation import Isolation, Policy
from ganzoo.errors import GanzooError, PluginError
from ganzoo.registry import Provider, Registry
from ganzoo.specs import DatasetSpec, LoggerSpec, LossSpec, MetricSpec, ModelSpec, TaskSpec

if TYPE_CHECKING:
    import typer

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
        self.isolation = Isolation()  # hooks run through pluggy, each plugin's code behind a guard
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
            raise PluginError(
                f"model '{model.name}' declares task '{model.task}', which no installed plugin "
                f"registers (known tasks: {', '.join(self.tasks.names())})"
            )
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
        """Import every plugin of the entry-point group, then register all of their entries together."""
        disabled = {n.strip() for n in os.environ.get("GANZOO_DISABLE_PLUGINS", "").split(",") if n.strip()}
        imported: list[tuple[ModuleType, PluginInfo]] = []
        for ep in _sorted_entry_points():
            dist = ep.dist
            info = PluginInfo(ep.name, dist.name if dist else None, dist.version if dist else None, ep.value)
            if ep.name in self.plugins:
                first = self.plugins[ep.name]
                if (first.distribution, first.module) != (info.distribution, info.module):
                    print(
                        f"ganzoo: warning: plugin '{ep.name}' from {_origin(info)} is not loaded: the plugin name "
                        f"'{ep.name}' is already taken by {_origin(first)}; rename its entry point",
                        file=sys.stderr,
                    )
                continue  # (the same plugin seen twice on sys.path is simply loaded once)
            self.plugins[ep.name] = info
            if ep.name in disabled:
                info.status = "disabled"
                continue
            try:
                imported.append((ep.load(), info))
            except ISOLATED as exc:  # any failure of foreign code is isolated
                self._fail(info, "failed to import", exc)
        self._add_all(imported)

    def add(self, plugin: ModuleType | object, info: PluginInfo | str) -> PluginInfo:
        """Register one plugin object (a module, or an object with hook methods) and its entries."""
        if isinstance(info, str):
            info = PluginInfo(info, module=plugin.__name__ if isinstance(plugin, ModuleType) else None)
        self.plugins[info.name] = info
        self._add_all([(plugin, info)])
        return info

    def register(self, plugin: object, name: str) -> None:
        """Register ``plugin`` with pluggy, each hook implementation behind an isolation guard (see
        ganzoo._isolation); raises pluggy.PluginValidationError for a hook that no hookspec declares."""
        self.isolation.register(self.pm, plugin, name)

    def remove(self, name: str, keep_info: bool = False) -> None:
        """Unregister a plugin and every entry it gave."""
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for registry in self.registries.values():
            registry.unregister_provider(name)
        if not keep_info:
            self.plugins.pop(name, None)

    def register_commands(self, app: typer.Typer, after_each: Callable[[PluginInfo], None]) -> None:
        """Call ``register_commands(app)`` through pluggy; ``after_each(plugin_info)`` runs after each piece of a
        plugin's code (to see which commands it added). A plugin that raises is reported; the others go on."""
        policy = Policy(catches=ISOLATED, after_each=lambda name: after_each(self._info(name)))
        with self.isolation.applying(policy):
            self.pm.hook.register_commands(app=app)
        for name, hook, exc in policy.failures:
            self._fail(self._info(name), f"failed in {hook}", exc)

    def _add_all(self, plugins: Sequence[tuple[object, PluginInfo]]) -> None:
        """Register the plugins with pluggy (one that pluggy rejects is reported), then their entries."""
        added = []
        for plugin, info in plugins:
            try:
                self.register(plugin, info.name)
            except ISOLATED as exc:
                self._fail(info, "is invalid", exc)
                continue
            callers = self.pm.get_hookcallers(self.pm.get_plugin(info.name)) or []
            info.hooks = sorted({caller.name for caller in callers})
            added.append(info)
        self._register_entries(added)

    def _register_entries(self, added: list[PluginInfo]) -> None:
        """Call each registering hook once, through pluggy, for the plugins just added, so tryfirst, trylast and
        wrappers apply among them. What a plugin registers is staged; it is committed (in load order, so the
        built-ins come first whatever the call order) only if every hook of that plugin succeeded."""
        staged: dict[str, list[tuple[Registry, Any]]] = {info.name: [] for info in added}
        failed: dict[str, BaseException] = {}
        policy = Policy(catches=ISOLATED)
        for hook_name, (kind, _, spec_cls) in REGISTERING_HOOKS.items():

            def register(spec: Any, _hook: str = hook_name, _kind: str = kind, _cls: type = spec_cls) -> None:
                plugin = self.isolation.running  # the plugin whose hook is calling
                if plugin not in staged:
                    raise PluginError(f"the register callback of {_hook} was called outside that hook")
                if not isinstance(spec, _cls):
                    raise PluginError(f"{_hook} expects {_cls.__name__}, got {type(spec).__name__}")
                staged[plugin].append((self.registries[_kind], spec))

            others = [plugin for name, plugin in self.pm.list_name_plugin() if name not in staged or name in failed]
            with self.isolation.applying(policy):
                self.pm.subset_hook_caller(hook_name, remove_plugins=others)(register=register)
            for name, _, exc in policy.failures:
                failed.setdefault(name, exc)  # its first failure is the one reported
            policy.failures.clear()
        for info in added:
            try:
                if info.name not in failed:
                    for registry, spec in staged[info.name]:
                        registry.register(spec.name, spec, info.provider)
            except ISOLATED as exc:  # a name that another plugin has, or one that is not valid
                failed[info.name] = exc
            if info.name in failed:
                self.remove(info.name, keep_info=True)
                self._fail(info, "failed to register", failed[info.name])

    def _info(self, name: str) -> PluginInfo:
        return self.plugins.get(name) or PluginInfo(name)

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
        return (0 if ep.dist is not None and ep.dist.name == "ganzoo" else 1, ep.name)

    return sorted(eps, key=key)


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
