"""The training plan: the settings resolved against the model and dataset (every default that
depends on them filled in) and checked up front, with errors that name the flag.

The checks each setting declares (types, bounds, choices) are made by ganzoo.training.declared;
what is written out here is what relates settings to each other, to the model and dataset, to
the processes of the launch and to the run folder."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.augment import TRAIN_AUGMENTS, parse_policy
from ganzoo.data.loading import dataset_options
from ganzoo.errors import GanzooError, UsageError, shortened
from ganzoo.options import build_options, parse_assignments
from ganzoo.plugins import PluginSystem
from ganzoo.registry import Entry
from ganzoo.specs import DatasetSpec, ModelSpec, resolve
from ganzoo.training.declared import check_rules, typed_settings
from ganzoo.training.run_dir import RunDir
from ganzoo.training.settings import RECORDED, TrainSettings


@dataclass(kw_only=True)
class TrainPlan:
    """Everything a run needs, resolved: enough to rebuild the run (see plan_to_dict)."""

    settings: TrainSettings  # resolved: steps is None only under an --epochs budget
    model: Entry[ModelSpec]
    dataset: Entry[DatasetSpec]
    options: Any  # the model's options dataclass instance
    run_dir: Path
    time_limit: float | None  # seconds

    def training_dict(self) -> dict[str, Any]:
        """config.json's "training": the recorded settings, resolved."""
        return {key: getattr(self.settings, key) for key in RECORDED}


def plan_training(
    settings: TrainSettings,
    plugins: PluginSystem,
    resuming: bool = False,
    world_size: int = 1,
    check_fresh: bool = True,
) -> TrainPlan:
    """The resolved, validated plan. ``world_size``: the processes of a torchrun launch, over
    which the (global) batch is split; ``check_fresh``: whether a new run's folder is checked
    here (under torchrun only rank 0 creates it)."""
    settings = typed_settings(settings)  # wrong types, NaN, infinities and >64-bit integers fail here, by flag
    model = plugins.models.entry(settings.model)
    dataset = _dataset(settings, model.spec, plugins)
    resolved = _resolved(settings, model.spec, dataset.spec, plugins)
    check_rules(resolved, plugins)  # the bounds and choices each setting declares
    if resolved.resolution not in model.spec.resolutions:
        raise UsageError(
            f"--resolution {resolved.resolution}: {model.spec.name} supports "
            f"{', '.join(map(str, model.spec.resolutions))}"
        )
    _check_processes(resolved, world_size)
    options = _model_options(settings, model.spec, plugins)
    run_dir = _run_dir(resolved, check=not resuming and check_fresh)
    return TrainPlan(
        settings=resolved,
        model=model,
        dataset=dataset,
        options=options,
        run_dir=run_dir,
        time_limit=parse_duration(settings.time),
    )


def _dataset(settings: TrainSettings, spec: ModelSpec, plugins: PluginSystem) -> Entry[DatasetSpec]:
    """The dataset (the model's default unless given), of the kind of data the model's task trains on."""
    name = _default(settings.dataset, spec.default_dataset)
    if name is None:
        raise UsageError(f"model '{spec.name}' has no default dataset: pass --dataset NAME")
    dataset = plugins.datasets.entry(name)
    data_kind = plugins.data_kind(spec)
    if dataset.spec.kind != data_kind:
        suitable = [e.name for e in plugins.datasets if e.spec.kind == data_kind]
        raise UsageError(
            f"--dataset {name} holds {dataset.spec.kind} data, but {spec.name} ({spec.task}) trains "
            f"on {data_kind} data; try one of: {', '.join(suitable) or 'none installed'}"
        )
    if settings.data_root == "":  # (Path("") is the current folder: never what was meant)
        raise UsageError("--data-root must name a folder, got ''")
    if settings.data_root is not None and dataset.spec.embedded:
        raise UsageError(f"--data-root: dataset '{name}' is embedded and reads no files")
    return dataset


def _resolved(settings: TrainSettings, spec: ModelSpec, dataset: DatasetSpec, plugins: PluginSystem) -> TrainSettings:
    """``settings`` with every default that depends on the model, the dataset or the budget filled in."""
    if settings.steps is not None and settings.epochs is not None:
        raise UsageError("--steps and --epochs are two budgets for the same thing: give one")
    steps = None if settings.epochs else _default(settings.steps, spec.default_steps)
    horizon = steps or 1000  # cadence defaults for an epoch budget, before the dataset size is known
    try:
        augment = ",".join(parse_policy(settings.augment, TRAIN_AUGMENTS))
    except ValueError as exc:
        raise UsageError(f"--augment: {exc}") from None
    return dataclasses.replace(
        settings,
        dataset=dataset.name,
        resolution=_default(settings.resolution, _default_resolution(dataset, spec)),
        batch_size=_default(settings.batch_size, spec.default_batch_size),
        steps=steps,
        lr_schedule=_default(settings.lr_schedule, spec.lr_schedule),
        # by default averaging starts after a fifth of the run, so untrained weights never enter it
        ema_start=_default(settings.ema_start, int(horizon * spec.ema_start_fraction)),
        sample_every=_default(settings.sample_every, max(1, horizon // 10)),
        log_every=_default(settings.log_every, max(1, min(50, horizon // 20))),
        checkpoint_every=_default(settings.checkpoint_every, min(1000, horizon)),
        augment=augment,
        data_options=dataset_options(dataset, settings.data_sets, settings.data_options),
        loggers=checked_loggers(settings.loggers, plugins),
        name=_default(settings.name, f"{spec.name}-{dataset.name}-{time.strftime('%Y%m%d-%H%M%S')}"),
    )


def _check_processes(settings: TrainSettings, world_size: int) -> None:
    """The batch splits evenly over the processes of the launch and their micro-batches."""
    batch, accumulate = settings.batch_size, settings.accumulate
    shares = world_size * accumulate
    if batch % shares:
        over = f"{world_size} processes" + (f" x {accumulate} micro-batches" if accumulate > 1 else "")
        raise UsageError(
            f"--batch-size {batch} does not split evenly over {over} ({batch / shares:g} each); "
            f"use a multiple of {shares}"
        )
    if settings.sync_bn and world_size == 1:
        raise UsageError(
            "--sync-bn shares BatchNorm statistics between the processes of a torchrun launch; this run has one process"
        )


def _model_options(settings: TrainSettings, spec: ModelSpec, plugins: PluginSystem) -> Any:
    """The model's options: restored values, then --set, then --loss."""
    owner = f"model '{spec.name}'"
    options_cls = resolve(spec.options)
    fields = {f.name for f in dataclasses.fields(options_cls)}
    values = {**settings.option_values, **parse_assignments(options_cls, settings.sets, owner)}
    if settings.loss is not None:
        if "loss" not in fields:
            raise UsageError(f"--loss: model '{spec.name}' has no adversarial loss option")
        values["loss"] = settings.loss
    options = build_options(options_cls, values, owner)
    if "loss" in fields and options.loss is not None:
        plugins.losses.get(options.loss)  # an unknown loss (--set loss=...) fails here, with "did you mean"
    return options


MAX_NAME_BYTES = 255  # a folder name on the usual file systems (ext4, APFS, NTFS)


def _run_dir(settings: TrainSettings, check: bool) -> Path:
    """OUT/NAME; for a new run (``check``) a new or empty folder inside --out (checked again, locked,
    when it is created)."""
    name, out = settings.name, settings.out
    if not re.fullmatch(r"[\w.-]+", name) or name in (".", ".."):
        raise UsageError(
            f"--name '{shortened(name)}' must be one folder name of letters, digits, '.', '_' and '-' (not '.' or '..')"
        )
    if len(name.encode()) > MAX_NAME_BYTES:
        raise UsageError(f"--name '{shortened(name)}' is too long: a folder name has at most {MAX_NAME_BYTES} bytes")
    run_dir = Path(out) / name
    if check:
        if not run_dir.resolve().is_relative_to(Path(out).resolve()):
            raise UsageError(
                f"--name '{name}': '{run_dir}' leads outside --out '{out}' "
                f"(to '{run_dir.resolve()}'); choose another --name"
            )
        RunDir(run_dir).check_fresh()
    return run_dir


def checked_loggers(names: list[str], plugins: PluginSystem) -> list[str]:
    """--logger names, each registered and with what it imports installed (or a one-line error
    naming the command that installs it); repeats dropped."""
    chosen = list(dict.fromkeys(names))
    for name in chosen:
        spec = plugins.loggers.get(name)  # unknown: "did you mean"
        missing = [module for module in spec.requires if importlib.util.find_spec(module) is None]
        if missing:
            how = f": {spec.install}" if spec.install else ""
            raise GanzooError(f"--logger {name} needs {', '.join(missing)}, which is not installed{how}")
    return chosen


def parse_duration(text: str | None) -> float | None:
    """'90s', '10m', '2h', '1h30m' or a number of seconds -> seconds."""
    if text is None:
        return None
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower().replace(" ", ""):
        raise UsageError(f"--time '{shortened(text)}' is not a duration: use e.g. 90s, 10m, 2h or 1h30m")
    seconds = sum(float(n) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[u] for n, u in parts)
    if not 0 < seconds < math.inf:  # (a string of 400 nines is a float past the largest)
        raise UsageError(f"--time must be positive and finite, got '{shortened(text)}'")
    return seconds


def _default_resolution(dataset: DatasetSpec, model: ModelSpec) -> int:
    """The dataset's preferred size if the model supports it, else the nearest supported one."""
    wanted = dataset.default_resolution
    return min(model.resolutions, key=lambda r: (abs(r - wanted), r))


def _default(value, default):
    """``value`` unless it was not given (0 is a value, and an invalid one gets its error)."""
    return default if value is None else value


def plan_to_dict(plan: TrainPlan) -> dict[str, Any]:
    return {
        "model": plan.model.name,
        "dataset": plan.dataset.name,
        "data_root": plan.settings.data_root,
        "options": dataclasses.asdict(plan.options),
        "training": plan.training_dict(),
    }
