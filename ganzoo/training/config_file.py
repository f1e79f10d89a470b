"""`ganzoo train --config FILE`: a run's settings written down (TOML), or a finished run's own
config.json, so an experiment can be repeated.

TOML keys are the flag names (``batch-size``; ``batch_size`` too), model options go under
``[model]`` and dataset options under ``[dataset]``, each of which may name the model or dataset
with ``name = ...`` (or give ``model = "dcgan"`` at the top). Flags given on the command line (or
keywords given to ``ganzoo.train``) override the file. No torch here: the CLI reads this module."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from ganzoo.errors import UsageError, did_you_mean
from ganzoo.options import check_number, describe_type, typed_value
from ganzoo.training.settings import RECORDED, TrainSettings, declared_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: What a config file may hold besides the settings: the model and dataset (names and options).
TABLES = {"model": "option_values", "dataset": "data_options"}


def setting_keys() -> dict[str, str]:
    """Every key a config file (or a ``ganzoo.train`` keyword) may use -> the setting it sets:
    the flag without dashes, with ``_`` or ``-``, and the setting's own name."""
    keys = {}
    for declared in declared_settings():
        flag = declared.flag.removeprefix("--")
        for key in (declared.name, declared.name.replace("_", "-"), flag, flag.replace("-", "_")):
            keys[key] = declared.name
    return keys


def read_config_file(path: Path | str) -> dict[str, Any]:
    """The settings a TOML file or a run's config.json gives, by setting name (plus ``model``,
    ``option_values`` and ``data_options``)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--config '{path}' is not a file")
    if path.suffix == ".json":
        return _from_run_config(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        hint = ""
        if "overwrite" in str(exc):  # the usual cause: `model = "x"` beside a [model] table
            hint = (
                " (a key given twice? With a [model] or [dataset] table, name the model inside its table: name = ...)"
            )
        raise UsageError(f"--config '{path}' is not valid TOML: {exc}{hint}") from None
    return _from_toml(table, path)


def _from_toml(table: dict[str, Any], path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    keys = setting_keys()
    by_name = {declared.name: declared for declared in declared_settings()}
    for key, value in table.items():
        if key in TABLES and isinstance(value, dict):  # [model] / [dataset]: a name and options
            options = dict(value)
            if "name" in options:
                values[key] = _string(key, options.pop("name"), path)
            values[TABLES[key]] = options
        elif key == "model":
            values["model"] = _string("model", value, path)
        elif key in keys:
            declared = by_name[keys[key]]
            try:
                values[declared.name] = typed_value(declared.kind, value)
            except TypeError:
                raise UsageError(
                    f"'{key}' in --config '{path}' must be {describe_type(declared.kind)}, not {value!r}"
                ) from None
            check_number(f"'{key}' in --config '{path}'", value)  # before an int turned float hides its size
        else:
            known = sorted({k for k in keys if "_" not in k} | set(TABLES))
            raise UsageError(f"unknown key '{key}' in --config '{path}'.{did_you_mean(key, known)}")
    return values


def _from_run_config(path: Path) -> dict[str, Any]:
    """A run's config.json: the model, dataset and every recorded setting, as resolved when it
    started, so the repeated run trains identically (with the same seed)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        training = config["training"]
        values = {
            "model": config["model"],
            "dataset": config["dataset"],
            "data_root": config.get("data_root"),
            "option_values": dict(config["options"]),
        }
        values.update({key: training[key] for key in RECORDED if key in training})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"--config '{path}' is not a ganzoo run's config.json ({type(exc).__name__}: {exc})") from None
    return values


def _check_tables(values: dict[str, Any], model: str, path: Path) -> None:
    """The file's [model] and [dataset] options against their declarations, so that a wrong one
    is named with the file it is in (the plan checks them again with the flags applied)."""
    from ganzoo.options import build_options  # lazy: the plugins are loaded only to train
    from ganzoo.plugins import load_plugins
    from ganzoo.specs import resolve

    plugins = load_plugins()
    tables: list[tuple[str, str, Any]] = [("model", "option_values", plugins.models.entry(model).spec)]
    dataset = values.get("dataset")
    if isinstance(dataset, str) and dataset in plugins.datasets.names():
        tables.append(("dataset", "data_options", plugins.datasets.entry(dataset).spec))
    for table, key, spec in tables:
        if values.get(key) and spec.options is not None:
            owner = f"{table} '{spec.name}' ([{table}] in --config '{path}')"
            build_options(resolve(spec.options), values[key], owner)


def _string(key: str, value: Any, path: Path) -> str:
    if not isinstance(value, str):
        raise UsageError(f"'{key}' in --config '{path}' must be a string, not {value!r}")
    return value


def merged_settings(model: str | None, given: dict[str, Any], config: Path | str | None = None) -> TrainSettings:
    """Settings from (in rising precedence) the defaults, a config file and ``given`` (flags typed
    on the command line, or keywords): one path for ``ganzoo train`` and ``ganzoo.train``. Options
    merge per key (the file's ``set = ["ngf=8"]`` stays under a flag's ``--set lr=1e-3``), and a
    budget given (steps or epochs) replaces the file's."""
    values = read_config_file(config) if config is not None else {}
    model = model or values.pop("model", None)
    values.pop("model", None)
    if config is not None and model is not None:
        _check_tables(values, model, Path(config))
    if model is None:
        raise UsageError(
            "missing MODEL: e.g. `ganzoo train dcgan` (see `ganzoo list models`), "
            'a config file naming it (`model = "dcgan"`), or `ganzoo train --resume RUN`'
        )
    if given.get("steps") is not None or given.get("epochs") is not None:
        values.pop("steps", None), values.pop("epochs", None)  # a budget given replaces the file's
    assignments = {d.name for d in declared_settings() if d.rules.metavar == "KEY=VALUE"}
    for key, value in given.items():
        if key in assignments and isinstance(values.get(key), list):  # --set: the file's, then the flags'
            values[key] = [*values[key], *value]  # (a later KEY wins, so the merge is per key)
        elif isinstance(value, dict) and isinstance(values.get(key), dict):  # typed options: per key
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    fields = {f.name for f in dataclasses.fields(TrainSettings)}
    return TrainSettings(model=model, **{k: v for k, v in values.items() if k in fields})
