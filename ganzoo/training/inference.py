"""Rebuild a finished (or interrupted) run's model from its folder, for generate and friends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.errors import CheckpointError, UnknownNameError, UsageError
from ganzoo.options import build_options
from ganzoo.plugins import PluginSystem, load_plugins
from ganzoo.protocols import INFERENCE, DataInfo, SamplesConditionally, inference_kinds
from ganzoo.registry import Entry
from ganzoo.shared_models import WEIGHTS, describe_plugin, is_shared_model, load_shared_weights, resolve_reference
from ganzoo.specs import ModelSpec, resolve
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.run_dir import RunDir


@dataclass
class LoadedRun:
    run_dir: RunDir
    config: dict[str, Any]
    model_entry: Entry[ModelSpec]
    model: nn.Module
    checkpoint: Path
    step: int
    data: DataInfo  # the training data's facts: size, classes, attributes


def load_run(
    path: Path | str,
    device: torch.device,
    checkpoint: Path | str | None = None,
    ema: bool = True,
    plugins: PluginSystem | None = None,
) -> LoadedRun:
    """The run's model with the checkpoint's weights; with ``ema`` (and an EMA in the checkpoint)
    its inference networks get the averaged weights."""
    plugins = plugins or load_plugins()
    run_dir = RunDir(resolve_reference(path))
    config = run_dir.read_config()
    try:
        model_name, options, data = config["model"], config["options"], config["data"]
    except KeyError as exc:
        raise CheckpointError(f"'{run_dir.config_path}' lacks '{exc.args[0]}': not a complete ganzoo run") from None
    if model_name not in plugins.models.names() and is_shared_model(config):
        raise CheckpointError(f"'{path}' is a model of {describe_plugin(config)}, which is not installed")
    entry = plugins.models.entry(model_name)  # a run of an uninstalled plugin: "unknown model"
    options = build_options(resolve(entry.spec.options), options, owner=f"model '{model_name}'")
    data = DataInfo(**data)
    model = resolve(entry.spec.build)(options, data)
    if is_shared_model(config):
        if checkpoint is not None:
            raise UsageError(f"'{path}' is a shared model with one set of weights: --checkpoint does not apply")
        weights = load_shared_weights(run_dir.path, config)
        _load_fitting(
            model, weights, f"'{run_dir.path / WEIGHTS}' does not fit model '{model_name}'", networks_only=True
        )
        step = int(config.get("step", 0))
        return LoadedRun(run_dir, config, entry, model.to(device).eval(), run_dir.path / WEIGHTS, step, data)
    if checkpoint is not None and str(checkpoint) == "best":  # kept by `train --eval-every`
        checkpoint = run_dir.checkpoints / "best.safetensors"
        if not checkpoint.is_file():
            raise CheckpointError(f"run '{run_dir.path}' has no best checkpoint: train it with --eval-every N")
    checkpoint = Path(checkpoint) if checkpoint else run_dir.latest_checkpoint()
    state, info = load_checkpoint(checkpoint)
    written_by, this_run = info.get("run_id"), config.get("run_id")
    if written_by and this_run and written_by != this_run:  # as `train --resume` refuses it
        raise CheckpointError(
            f"checkpoint '{checkpoint}' belongs to another run (written by run {written_by}; "
            f"'{run_dir.path}' is run {this_run}): use the run folder it came from"
        )
    if "model" not in state:
        raise CheckpointError(f"checkpoint '{checkpoint}' holds no model weights")
    misfit = f"checkpoint '{checkpoint}' does not fit model '{model_name}' as configured in '{run_dir.config_path}'"
    _load_fitting(model, state["model"], misfit)
    if ema and state.get("ema"):
        for name, averaged in state["ema"].items():
            # AveragedModel keeps the network as .module plus an n_averaged counter
            weights = {k.removeprefix("module."): v for k, v in averaged.items() if k.startswith("module.")}
            _load_fitting(getattr(model, name), weights, f"{misfit} (moving average of {name})")
    return LoadedRun(run_dir, config, entry, model.to(device).eval(), checkpoint, int(info.get("step", 0)), data)


def _load_fitting(
    module: nn.Module, weights: dict[str, torch.Tensor], misfit: str, networks_only: bool = False
) -> None:
    """``module.load_state_dict(weights)``, or one line saying how they differ (not torch's
    dump of every mismatch): a config.json edited after training is the usual cause. With
    ``networks_only`` (a shared model: its inference networks), only the networks the weights
    name are loaded, and each of them whole."""
    expected = module.state_dict()
    if networks_only:
        names = {key.split(".", 1)[0] for key in weights}
        expected = {key: value for key, value in expected.items() if key.split(".", 1)[0] in names}
    shapes = [key for key in expected if key in weights and weights[key].shape != expected[key].shape]
    missing = [key for key in expected if key not in weights]
    unexpected = [key for key in weights if key not in expected]
    problems = []
    if shapes:
        first = shapes[0]
        problems.append(
            f"{len(shapes)} tensor(s) have other shapes (first: {first} is "
            f"{list(weights[first].shape)} in the checkpoint, {list(expected[first].shape)} in the model)"
        )
    if missing:
        problems.append(f"{len(missing)} tensor(s) missing (first: {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensor(s) (first: {unexpected[0]})")
    if problems:
        raise CheckpointError(f"{misfit}: {'; '.join(problems)}")
    try:
        module.load_state_dict(weights, strict=not networks_only)
    except RuntimeError as exc:  # anything the comparison above did not foresee, still one line
        raise CheckpointError(f"{misfit}: {str(exc).strip().splitlines()[-1].strip()}") from None


def require_inference(run: LoadedRun, kind: str) -> None:
    if not isinstance(run.model, INFERENCE[kind]):  # the capability its class implements
        offered = ", ".join(inference_kinds(run.model)) or "nothing"
        raise UsageError(f"model '{run.model_entry.name}' cannot {kind} (it offers: {offered})")


def class_choices(run: LoadedRun, given: list[str] | None) -> list[int] | None:
    """``--class`` values (names, indices, or ``all``) as indices into the run's classes (or
    attributes); None when none were given."""
    if not given:
        return None
    if not isinstance(run.model, SamplesConditionally):
        raise UsageError(
            f"--class: model '{run.model_entry.name}' ({run.model_entry.spec.task}) is not conditioned on classes"
        )
    names = run.data.classes or run.data.attributes
    what = "class" if run.data.classes else "attribute"
    chosen: list[int] = []
    for value in given:
        if value == "all":
            chosen += range(len(names))
        elif value in names:
            chosen.append(names.index(value))
        elif value.isdigit() and int(value) < len(names):
            chosen.append(int(value))
        else:
            folded = [n for n in names if n.lower() == value.lower()]
            if not folded:
                raise UnknownNameError(what, value, names)
            chosen.append(names.index(folded[0]))
    return chosen
