"""Typed model options: dataclass fields with help, choices and bounds, set by ``--set KEY=VALUE``."""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from typing import Any

from ganzoo.errors import UnknownNameError, UsageError


def option(
    default: Any, help: str, *, choices: tuple | None = None, min: float | None = None, max: float | None = None
) -> Any:
    """A dataclass field carrying what ``ganzoo info`` shows and what ``--set`` validates."""
    meta = {"help": help, "choices": choices, "min": min, "max": max}
    return dataclasses.field(default=default, metadata=meta)


def describe(options_cls: type) -> list[dict]:
    """Name, type, default, help (and bounds) of every option, for docs and ``ganzoo info``."""
    hints = typing.get_type_hints(options_cls)
    rows = []
    for f in dataclasses.fields(options_cls):
        rows.append(
            {
                "name": f.name,
                "type": _type_name(hints[f.name]),
                "default": f.default,
                "help": f.metadata.get("help", ""),
                "choices": f.metadata.get("choices"),
                "min": f.metadata.get("min"),
                "max": f.metadata.get("max"),
            }
        )
    return rows


def build_options(options_cls: type, values: dict[str, Any], owner: str) -> Any:
    """Instantiate ``options_cls`` from values that should already be typed (a TOML table, the
    Python API's ``options=``, a run's config.json): each is checked against its field's type,
    finiteness and bounds, so a wrong one is a usage error naming it, never a failure deep in
    a network's constructor."""
    names = {f.name for f in dataclasses.fields(options_cls)}
    hints = typing.get_type_hints(options_cls)
    checked = {}
    for key, value in values.items():
        if key not in names:
            raise UnknownNameError(f"option of {owner}", key, names)
        try:
            checked[key] = typed_value(hints[key], value)
        except TypeError as exc:
            raise UsageError(f"option '{key}' of {owner} must be {exc}, got {value!r}") from None
        check_number(f"option '{key}' of {owner}", value)
    instance = options_cls(**checked)
    for f in dataclasses.fields(options_cls):
        _check_bounds(f, getattr(instance, f.name), owner)
    return instance


def parse_assignments(options_cls: type, assignments: list[str], owner: str, flag: str = "--set") -> dict[str, Any]:
    """Turn ``["ngf=32", "loss=hinge"]`` into typed values; errors name the key."""
    hints = typing.get_type_hints(options_cls)
    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    values: dict[str, Any] = {}
    for item in assignments:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise UsageError(f"{flag} expects KEY=VALUE, got '{item}'")
        if key not in fields:
            raise UnknownNameError(f"option of {owner}", key, fields)
        values[key] = _convert(text.strip(), hints[key], key, owner)
    return values


def to_dict(options: Any) -> dict[str, Any]:
    return dataclasses.asdict(options)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(text: str, tp: Any, key: str, owner: str) -> Any:
    try:
        if tp is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if tp is float:
            return _finite(float(text), key, owner, text)
        if tp is int:
            return _in_int64(int(text), f"option '{key}' of {owner}")
        if tp is str:
            return text
    except UsageError:  # _finite's and _in_int64's own messages (a UsageError is a ValueError too)
        raise
    except ValueError:
        pass
    else:
        raise UsageError(f"option '{key}' of {owner} has unsupported type {_type_name(tp)}")
    raise UsageError(f"option '{key}' of {owner} expects {_type_name(tp)}, got '{text}'")


INT64_MAX = 2**63 - 1


def _finite(value: float, key: str, owner: str, text: str) -> float:
    if not math.isfinite(value):
        raise UsageError(f"option '{key}' of {owner} must be a finite number, got '{text}'")
    return value


def _in_int64(value: int, what: str) -> int:
    """Integers beyond 64 bits overflow every tensor and RNG they reach: refuse them up front."""
    if abs(value) > INT64_MAX:
        raise UsageError(f"{what} must be an integer of at most 63 bits, got {value}")
    return value


def describe_type(kind: type) -> str:
    return {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        list: "a list of strings",
        dict: "a table",
    }.get(kind, str(kind))


def typed_value(kind: Any, value: Any) -> Any:
    """``value`` as ``kind`` (an int where a float is declared becomes a float, a path where a
    string is declared its string; no other conversion: not str to number, not float to int, not
    bool to number), or TypeError saying what was expected."""
    if kind is list:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
            raise TypeError(describe_type(kind))
        return list(items)
    if isinstance(value, bool) and kind is not bool:
        raise TypeError(describe_type(kind))
    if kind is float and isinstance(value, int):
        return float(value)
    if kind is str and isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(kind, type) and not isinstance(value, kind):
        raise TypeError(describe_type(kind))
    return value


def check_number(what: str, value: Any) -> None:
    """A numeric setting from the command line: finite, and within 64-bit integers."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{what} must be a finite number, got {value}")
    if isinstance(value, int):
        _in_int64(value, what)


def _check_bounds(f: dataclasses.Field, value: Any, owner: str) -> None:
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        allowed = ", ".join(map(str, meta["choices"]))
        raise UsageError(f"option '{f.name}' of {owner} must be one of {allowed}; got '{value}'")
    if meta.get("min") is not None and value < meta["min"]:
        raise UsageError(f"option '{f.name}' of {owner} must be >= {meta['min']}; got {value}")
    if meta.get("max") is not None and value > meta["max"]:
        raise UsageError(f"option '{f.name}' of {owner} must be <= {meta['max']}; got {value}")
