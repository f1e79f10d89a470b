"""Training settings: what the user asked for, resolved against the model and dataset and
validated up front, with errors that name the flag."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.errors import UsageError
from ganzoo.options import build_options, parse_assignments, to_dict
from ganzoo.plugins import PluginSystem
from ganzoo.registry import Entry
from ganzoo.specs import DatasetSpec, ModelSpec, resolve


@dataclass
class TrainSettings:
    """The knobs of ``ganzoo train``; None means "the model's or dataset's default"."""

    model: str
    dataset: str | None = None
    data_root: str | None = None
    resolution: int | None = None
    batch_size: int | None = None
    steps: int | None = None
    seed: int = 0
    device: str = "auto"
    out: str = "runs"
    name: str | None = None
    sample_every: int | None = None
    log_every: int | None = None
    ema_decay: float = 0.999
    ema_start: int | None = None
    sets: list[str] = field(default_factory=list)  # model options as KEY=VALUE


@dataclass
class TrainPlan:
    """Everything a run needs, resolved: stored in config.json, enough to rebuild the run."""

    model: Entry[ModelSpec]
    dataset: Entry[DatasetSpec]
    options: Any  # the model's options dataclass instance
    data_root: str | None
    resolution: int
    batch_size: int
    steps: int
    seed: int
    device: str
    sample_every: int
    log_every: int
    ema_decay: float
    ema_start: int
    run_dir: Path

    def training_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in
                ("resolution", "batch_size", "steps", "seed", "device", "sample_every", "log_every",
                  "ema_decay", "ema_start")}


def plan_training(settings: TrainSettings, plugins: PluginSystem) -> TrainPlan:
    model = plugins.models.entry(settings.model)
    spec = model.spec
    dataset_name = settings.dataset or spec.default_dataset
    if not dataset_name:
        raise UsageError(f"model '{spec.name}' has no default dataset: pass --dataset NAME")
    dataset = plugins.datasets.entry(dataset_name)
    if dataset.spec.kind != spec.data_kind:
        suitable = [e.name for e in plugins.datasets if e.spec.kind == spec.data_kind]
        raise UsageError(
            f"--dataset {dataset_name} holds {dataset.spec.kind} data, but {spec.name} "
            f"({spec.task}) trains on {spec.data_kind} data; try one of: {', '.join(suitable) or 'none installed'}"
        )
    if settings.data_root and dataset.spec.embedded:
        raise UsageError(f"--data-root: dataset '{dataset_name}' is embedded and reads no files")

    resolution = _default(settings.resolution, _default_resolution(dataset.spec, spec))
    if resolution not in spec.resolutions:
        raise UsageError(f"--resolution {resolution}: {spec.name} supports "
                         f"{', '.join(map(str, spec.resolutions))}")
    batch_size = _positive("--batch-size", _default(settings.batch_size, spec.default_batch_size))
    steps = _positive("--steps", _default(settings.steps, spec.default_steps))
    sample_every = _positive("--sample-every", _default(settings.sample_every, max(1, steps // 10)))
    log_every = _positive("--log-every", _default(settings.log_every, max(1, min(50, steps // 20))))
    if not 0.0 <= settings.ema_decay < 1.0:
        raise UsageError(f"--ema-decay must be in [0, 1), got {settings.ema_decay}")
    # By default averaging starts after a fifth of the run, so untrained weights never enter it.
    ema_start = steps // 5 if settings.ema_start is None else settings.ema_start
    if ema_start < 0:
        raise UsageError(f"--ema-start must be >= 0, got {ema_start}")

    owner = f"model '{spec.name}'"
    options_cls = resolve(spec.options)
    options = build_options(options_cls, parse_assignments(options_cls, settings.sets, owner), owner)
    if "loss" in to_dict(options) and options.loss not in plugins.losses:
        plugins.losses.get(options.loss)  # raises the "unknown loss ... did you mean" error

    name = settings.name or f"{spec.name}-{dataset_name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if not re.fullmatch(r"[\w.-]+", name):
        raise UsageError(f"--name '{name}' may only hold letters, digits, '.', '_' and '-'")
    run_dir = Path(settings.out) / name
    if (run_dir / "config.json").exists():
        raise UsageError(f"run folder '{run_dir}' already holds a run: choose another --name")
    return TrainPlan(model, dataset, options, settings.data_root, resolution, batch_size, steps,
                     settings.seed, settings.device, sample_every, log_every, settings.ema_decay, ema_start,
                     run_dir)


def _default_resolution(dataset: DatasetSpec, model: ModelSpec) -> int:
    """The dataset's preferred size if the model supports it, else the nearest supported one."""
    wanted = dataset.default_resolution
    return min(model.resolutions, key=lambda r: (abs(r - wanted), r))


def _default(value, default):
    """``value`` unless it was not given (0 is a value, and an invalid one gets its error)."""
    return default if value is None else value


def _positive(flag: str, value: int) -> int:
    if value < 1:
        raise UsageError(f"{flag} must be a positive integer, got {value}")
    return value


def plan_to_dict(plan: TrainPlan) -> dict[str, Any]:
    return {
        "model": plan.model.name,
        "dataset": plan.dataset.name,
        "data_root": plan.data_root,
        "options": dataclasses.asdict(plan.options),
        "training": plan.training_dict(),
    }
