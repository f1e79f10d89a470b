"""Settings declared once: a dataclass field made with :func:`setting` carries its flag, help,
help panel, default, bounds, choices and resume rule. The ``ganzoo train`` flags, the Python
API's keywords, the TOML keys, the generic checks (here) and the docs' settings table are all
derived from these declarations. No torch here: the CLI reads this module to build its flags."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from ganzoo.errors import GanzooError, UsageError
from ganzoo.options import check_number, typed_value
from ganzoo.plugins import PluginSystem, load_plugins


@dataclass(frozen=True)
class Registered:
    """Choices that plugins provide at run time: the names in one registry (``ganzoo list
    REGISTRY``), optionally only the entries of one ``kind`` (metrics or feature extractors)."""

    registry: str  # a key of PluginSystem.registries
    kind: str | None = None
    listed: bool = True  # whether help texts list the names (not for long lists such as datasets)

    def names(self, plugins: PluginSystem) -> list[str]:
        return [e.name for e in plugins.registries[self.registry] if self.kind is None or e.spec.kind == self.kind]

    def check(self, flag: str, value: str, plugins: PluginSystem) -> None:
        spec = plugins.registries[self.registry].get(value)  # an unknown name: "did you mean"
        if self.kind is not None and spec.kind != self.kind:
            raise UsageError(f"{flag} {value}: that is not a {self.kind} (see `ganzoo list {self.registry}`)")

    def help_suffix(self, plugins: PluginSystem | None) -> str:
        """What the help text adds: the names registered now, or where to find them."""
        if plugins is not None and self.listed:
            names = self.names(plugins)
            if names:
                return f" Registered: {', '.join(names)}."
        return ""


def plugins_for_help() -> PluginSystem | None:
    """The installed plugins, whose names help texts list; None when they cannot load (the
    CLI reports why itself, once)."""
    try:
        return load_plugins()
    except GanzooError:
        return None


@dataclass(frozen=True, kw_only=True)
class Setting:
    """The declaration of one setting (see :func:`setting`)."""

    help: str
    panel: str = ""
    flag: str | None = None  # default: --name-with-dashes
    metavar: str | None = None
    resumable: bool = False  # whether --resume may change it
    recorded: bool = True  # kept under "training" in config.json (and so restored on resume)
    cli: bool = True  # a flag of its own (else only restored from config.json)
    shown: str | None = None  # the default as the docs show it, when it is resolved at run time
    more: str = ""  # "See MORE." ends its meaning in the docs table (a link)
    positive: bool = False
    minimum: float | None = None
    below: float | None = None  # an exclusive upper bound
    choices: tuple[str, ...] | Registered | None = None
    only_with: str | None = None  # checked only when this other setting is given (--eval-every)


def setting(default: Any, help: str, panel: str = "", **rules: Any) -> Any:
    """A dataclass field declaring one setting; ``rules`` are :class:`Setting`'s other fields."""
    meta = {"setting": Setting(help=help, panel=panel, **rules)}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=type(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class Declared:
    """A setting as its class declares it: name, value type, default and rules."""

    name: str
    kind: type  # int, float, str, bool, list (of str) or dict
    default: Any
    rules: Setting

    @property
    def flag(self) -> str:
        return self.rules.flag or "--" + self.name.replace("_", "-")

    @property
    def repeatable(self) -> bool:
        return self.kind is list

    def help(self, plugins: PluginSystem | None = None) -> str:
        """The help text, then a default resolved at run time, and for a choice plugins provide the
        names they registered."""
        choices, shown = self.rules.choices, self.rules.shown
        return (
            self.rules.help
            + (f" Default: {shown}." if shown else "")
            + (choices.help_suffix(plugins) if isinstance(choices, Registered) else "")
        )


_DECLARED: dict[type, tuple[Declared, ...]] = {}


def declared(cls: type) -> tuple[Declared, ...]:
    """Every declared setting of the dataclass ``cls``, in declaration order."""
    if cls not in _DECLARED:
        hints = typing.get_type_hints(cls)
        found = []
        for f in dataclasses.fields(cls):
            if "setting" in f.metadata:
                default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
                found.append(Declared(f.name, value_type(hints[f.name]), default, f.metadata["setting"]))
        _DECLARED[cls] = tuple(found)
    return _DECLARED[cls]


def value_type(hint: Any) -> type:
    """``int | None`` -> int, ``list[str]`` -> list, ``dict[str, Any]`` -> dict."""
    origin = typing.get_origin(hint)
    if origin in (list, dict):
        return origin
    return next((a for a in typing.get_args(hint) if a is not type(None)), hint)


def typed_settings(settings: Any) -> Any:
    """``settings`` with every given value as its setting's type; a value of another type, NaN, an
    infinity or an integer beyond 64 bits is a usage error naming the flag."""
    changes = {}
    for d in declared(type(settings)):
        value = getattr(settings, d.name)
        if value is None or not d.rules.cli:
            continue
        try:
            changes[d.name] = typed_value(d.kind, value)
        except TypeError as exc:
            raise UsageError(f"{d.flag} must be {exc}, got {value!r}") from None
        check_number(d.flag, value)
    return dataclasses.replace(settings, **changes)


def check_rules(settings: Any, plugins: PluginSystem) -> None:
    """The bounds and choices every declared setting states, over resolved ``settings``."""
    for d in declared(type(settings)):
        value, rules = getattr(settings, d.name), d.rules
        if value is None:
            continue
        if rules.positive and not value > 0:
            wanted = "a positive integer" if d.kind is int else "positive"
            raise UsageError(f"{d.flag} must be {wanted}, got {value}")
        if rules.below is not None:
            if not (rules.minimum or 0) <= value < rules.below:
                raise UsageError(f"{d.flag} must be in [{rules.minimum or 0:g}, {rules.below:g}), got {value}")
        elif rules.minimum is not None and value < rules.minimum:
            raise UsageError(f"{d.flag} must be >= {rules.minimum:g}, got {value}")
        if rules.only_with is not None and getattr(settings, rules.only_with) is None:
            continue  # a choice among registered names matters only with its setting (bounds always do)
        for item in value if d.repeatable else [value]:
            if isinstance(rules.choices, Registered):
                rules.choices.check(d.flag, item, plugins)
            elif rules.choices is not None and item not in rules.choices:
                raise UsageError(f"{d.flag} must be one of {', '.join(rules.choices)}; got '{item}'")


def markdown_table(cls: type) -> str:
    """The docs' table of the settings of ``cls`` that are flags: option, default, meaning."""
    rows = ["| option | default | meaning |", "| --- | --- | --- |"]
    for d in declared(cls):
        if not d.rules.cli:
            continue
        metavar = d.rules.metavar or _doc_metavar(d)
        option = f"`{d.flag}{' ' + metavar if metavar else ''}`"
        meaning = d.rules.help + (f" See {d.rules.more}." if d.rules.more else "")
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in (option, _doc_default(d), meaning)) + " |")
    return "\n".join(rows) + "\n"


def _doc_metavar(d: Declared) -> str:
    if isinstance(d.rules.choices, tuple):
        return "|".join(d.rules.choices)
    return {int: "N", float: "X", str: "NAME", bool: ""}.get(d.kind, "")


def _doc_default(d: Declared) -> str:
    if d.rules.shown is not None:
        return d.rules.shown
    if d.default is None or d.default == [] or d.default == "":
        return ""
    if isinstance(d.default, bool):
        return "on" if d.default else "off"
    return f"`{d.default}`"
