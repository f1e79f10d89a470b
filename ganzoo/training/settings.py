"""Training settings: what the user asked for, resolved against the model and dataset and
validated up front, with errors that name the flag."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.errors import CheckpointError, GanzooError, UsageError
from ganzoo.options import build_options, check_number, parse_assignments
from ganzoo.plugins import PluginSystem
from ganzoo.registry import Entry
from ganzoo.specs import DatasetSpec, ModelSpec, resolve
from ganzoo.training.run_dir import RunDir

LR_SCHEDULES = ("constant", "linear-decay")
DEFAULT_EMA_DECAY = 0.999
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
DATA_ON_DEVICE = ("auto", "yes", "no")

# Help panels of `ganzoo train --help`.
DATA, BUDGET, OUTPUT, OPTIM, MODEL = "Data", "Budget", "Output and checkpoints", "Optimisation", "Model"
SPEED = "Speed (docs/speed.md)"


def setting(default: Any, help: str, panel: str, *, flag: str | None = None, metavar: str | None = None,
            resumable: bool = False, recorded: bool = True, cli: bool = True) -> Any:
    """One training setting, declared once: its ``ganzoo train`` flag (``--name-with-dashes``
    unless ``flag`` says otherwise), whether ``--resume`` may change it, and whether it is kept
    under ``training`` in config.json (and so restored on resume). The train command, the
    resume rules and the config keys are all derived from these declarations."""
    meta = {"help": help, "panel": panel, "flag": flag, "metavar": metavar, "resumable": resumable,
            "recorded": recorded, "cli": cli}
    if isinstance(default, list):
        return field(default_factory=list, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainSettings:
    """The knobs of ``ganzoo train``; None means "the model's or dataset's default"."""

    model: str
    dataset: str | None = setting(None, "Dataset name (default: the model's).", DATA, recorded=False)
    data_root: str | None = setting(None, "Folder holding the dataset's files.", DATA, recorded=False)
    resolution: int | None = setting(None, "Square training size in pixels.", DATA)
    fit: str = setting("crop", "Non-square images: crop (centre) or pad (letterbox).", DATA)
    augment: str = setting("", "Augment real batches on the device: flip, translation, cutout, color "
                               "(comma-separated).", DATA)
    data_sets: list[str] = setting([], "Set a dataset option (repeatable); `ganzoo info DATASET` lists them.", DATA,
                                   flag="--data-set", metavar="KEY=VALUE", recorded=False)
    batch_size: int | None = setting(None, "Images per step (default: the model's).", DATA)
    steps: int | None = setting(None, "Training steps (default: the model's).", BUDGET, resumable=True)
    epochs: int | None = setting(None, "Passes over the data, instead of --steps.", BUDGET, resumable=True)
    time: str | None = setting(None, "Wall-clock budget of this invocation: 90s, 10m, 2h, 1h30m.", BUDGET,
                               resumable=True, recorded=False)
    seed: int = setting(0, "Seed of every random stream.", BUDGET)
    device: str = setting("auto", "auto, cpu, cuda or cuda:N.", BUDGET, resumable=True)
    loss: str | None = setting(None, "Adversarial loss (see `ganzoo list losses`).", OPTIM, recorded=False)
    lr_schedule: str | None = setting(None, "constant, or linear-decay (constant, then linearly to 0); "
                                            "default: the model's.", OPTIM)
    decay_start: int | None = setting(None, "Step linear-decay starts at (default: half the steps).", OPTIM)
    d_steps: int = setting(1, "Repeats of the model's critic phases per step, each on a new batch.", OPTIM)
    clip_grad: float | None = setting(None, "Clip each phase's gradient norm to this.", OPTIM)
    accumulate: int = setting(1, "Split each process's share of the batch into K micro-batches whose gradients "
                                 "add up before a step (a batch larger than memory allows).", OPTIM)
    sync_bn: bool = setting(False, "Under torchrun on GPUs: BatchNorm statistics over the global batch "
                                   "(SyncBatchNorm) instead of each process's share.", OPTIM)
    ema_decay: float | None = setting(None, "Decay of the generator's moving average (default: the model's "
                                            "half-life in images if it declares one, else 0.999).", OPTIM)
    ema_start: int | None = setting(None, "Step the moving average starts at (default: steps/5).", OPTIM)
    precision: str = setting("auto", "fp32, bf16, fp16 (loss-scaled) or auto: bf16 on CUDA GPUs that support it, "
                                     "fp32 elsewhere.", SPEED, resumable=True)
    compile: bool = setting(False, "Compile the networks with torch.compile (the first steps take longer).", SPEED,
                            resumable=True)
    compile_mode: str = setting("default", "torch.compile mode: default, reduce-overhead (adds CUDA graphs) or "
                                           "max-autotune.", SPEED, resumable=True)
    deterministic: bool = setting(False, "Deterministic algorithms on CUDA: a resumed run equals an uninterrupted "
                                         "one, bitwise (slower).", SPEED, resumable=True)
    data_on_device: str = setting("auto", "Upload the prepared dataset to the device once: auto (if it fits in a "
                                          "quarter of free GPU memory), yes or no.", SPEED, resumable=True)
    out: str = setting("runs", "Folder that holds the runs.", OUTPUT, recorded=False)
    name: str | None = setting(None, "Run folder name (default: model-dataset-time).", OUTPUT, recorded=False)
    sample_every: int | None = setting(None, "Steps between sample grids.", OUTPUT, resumable=True)
    log_every: int | None = setting(None, "Steps between logged losses.", OUTPUT, resumable=True)
    checkpoint_every: int | None = setting(None, "Steps between checkpoints (default: min(1000, steps)).", OUTPUT,
                                           resumable=True)
    keep: int = setting(3, "How many step checkpoints to keep.", OUTPUT, resumable=True)
    eval_every: int | None = setting(None, "Evaluate the EMA generator every N steps and keep "
                                           "checkpoints/best.safetensors.", OUTPUT)
    eval_metric: str = setting("fid", "Metric of --eval-every: fid, kid, is or pr.", OUTPUT)
    eval_n: int = setting(2000, "Samples per evaluation.", OUTPUT)
    eval_extractor: str = setting("inception", "Feature extractor of --eval-every: inception or digits.", OUTPUT)
    loggers: list[str] = setting([], "Also log to this logger (repeatable): tensorboard, csv, or a plugin's "
                                     "(`ganzoo list loggers`).", OUTPUT, flag="--logger", metavar="NAME",
                                 resumable=True)
    sets: list[str] = setting([], "Set a model option (repeatable); `ganzoo info MODEL` lists them.", MODEL,
                              flag="--set", metavar="KEY=VALUE", recorded=False)
    # Typed values restored from a run's config.json on resume (no flags of their own):
    data_options: dict[str, Any] = field(default_factory=dict, metadata={"recorded": True, "cli": False})
    option_values: dict[str, Any] = field(default_factory=dict, metadata={"recorded": False, "cli": False})


def declared_settings() -> list[dataclasses.Field]:
    """The settings that are ``ganzoo train`` flags, in declaration order."""
    return [f for f in dataclasses.fields(TrainSettings) if f.metadata.get("cli")]


def flag_of(name: str) -> str:
    declared = {f.name: f for f in dataclasses.fields(TrainSettings)}
    return declared[name].metadata.get("flag") or "--" + name.replace("_", "-")


#: Settings a resumed run may change: budgets, output cadence and the device. Everything else
#: defines the run and comes from its config.json.
RESUMABLE = tuple(f.name for f in dataclasses.fields(TrainSettings) if f.metadata.get("resumable"))
#: Settings kept under "training" in config.json (resolved), and restored on resume.
RECORDED = tuple(f.name for f in dataclasses.fields(TrainSettings) if f.metadata.get("recorded"))


@dataclass(kw_only=True)
class TrainPlan:
    """Everything a run needs, resolved: stored in config.json, enough to rebuild the run. Its
    fields named in RECORDED are the resolved values of those settings."""

    model: Entry[ModelSpec]
    dataset: Entry[DatasetSpec]
    options: Any  # the model's options dataclass instance
    data_root: str | None
    run_dir: Path
    time_limit: float | None  # seconds
    resolution: int
    batch_size: int
    steps: int | None  # None when the budget is --epochs (converted once the dataset size is known)
    epochs: int | None
    seed: int
    device: str
    sample_every: int
    log_every: int
    checkpoint_every: int
    keep: int
    ema_decay: float | None  # None: the model's half-life (AveragesOverImages), else DEFAULT_EMA_DECAY
    ema_start: int
    lr_schedule: str
    decay_start: int | None
    d_steps: int
    clip_grad: float | None
    fit: str = "crop"
    augment: str = ""
    data_options: dict[str, Any] = field(default_factory=dict)
    eval_every: int | None = None
    eval_metric: str = "fid"
    eval_n: int = 2000
    eval_extractor: str = "inception"
    loggers: list[str] = field(default_factory=list)
    accumulate: int = 1
    sync_bn: bool = False
    precision: str = "auto"
    compile: bool = False
    compile_mode: str = "default"
    deterministic: bool = False
    data_on_device: str = "auto"

    def training_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in RECORDED}


def plan_training(settings: TrainSettings, plugins: PluginSystem, resuming: bool = False, world_size: int = 1,
                  check_fresh: bool = True) -> TrainPlan:
    """The resolved, validated plan. ``world_size``: the processes of a torchrun launch, over
    which the (global) batch is split; ``check_fresh``: whether a new run's folder is checked
    here (under torchrun only rank 0 creates it)."""
    # imported here: the train command reads this module's declarations to build its flags,
    # and `ganzoo list` (which builds every command) must not import torch
    from ganzoo.augment import parse_loader_augments
    from ganzoo.data.loading import FITS, dataset_options

    for declared in declared_settings():  # NaN, infinities and >64-bit integers fail here, by flag
        check_number(flag_of(declared.name), getattr(settings, declared.name))
    model = plugins.models.entry(settings.model)
    spec = model.spec
    dataset_name = settings.dataset or spec.default_dataset
    if not dataset_name:
        raise UsageError(f"model '{spec.name}' has no default dataset: pass --dataset NAME")
    dataset = plugins.datasets.entry(dataset_name)
    data_kind = plugins.data_kind(spec)
    if dataset.spec.kind != data_kind:
        suitable = [e.name for e in plugins.datasets if e.spec.kind == data_kind]
        raise UsageError(
            f"--dataset {dataset_name} holds {dataset.spec.kind} data, but {spec.name} "
            f"({spec.task}) trains on {data_kind} data; try one of: {', '.join(suitable) or 'none installed'}"
        )
    if settings.data_root and dataset.spec.embedded:
        raise UsageError(f"--data-root: dataset '{dataset_name}' is embedded and reads no files")

    resolution = _default(settings.resolution, _default_resolution(dataset.spec, spec))
    if resolution not in spec.resolutions:
        raise UsageError(f"--resolution {resolution}: {spec.name} supports "
                         f"{', '.join(map(str, spec.resolutions))}")
    batch_size = _positive("--batch-size", _default(settings.batch_size, spec.default_batch_size))
    if settings.steps is not None and settings.epochs is not None:
        raise UsageError("--steps and --epochs are two budgets for the same thing: give one")
    epochs = None if settings.epochs is None else _positive("--epochs", settings.epochs)
    steps = None if epochs else _positive("--steps", _default(settings.steps, spec.default_steps))
    horizon = steps or 1000  # cadence defaults for an epoch budget, before the dataset size is known
    sample_every = _positive("--sample-every", _default(settings.sample_every, max(1, horizon // 10)))
    log_every = _positive("--log-every", _default(settings.log_every, max(1, min(50, horizon // 20))))
    checkpoint_every = _positive("--checkpoint-every", _default(settings.checkpoint_every, min(1000, horizon)))
    keep = _positive("--keep", settings.keep)
    if settings.ema_decay is not None and not 0.0 <= settings.ema_decay < 1.0:
        raise UsageError(f"--ema-decay must be in [0, 1), got {settings.ema_decay}")
    # By default averaging starts after a fifth of the run, so untrained weights never enter it.
    ema_start = horizon // 5 if settings.ema_start is None else settings.ema_start
    if ema_start < 0:
        raise UsageError(f"--ema-start must be >= 0, got {ema_start}")
    lr_schedule = settings.lr_schedule or spec.lr_schedule
    if lr_schedule not in LR_SCHEDULES:
        raise UsageError(f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}; got '{lr_schedule}'")
    if settings.decay_start is not None and settings.decay_start < 0:
        raise UsageError(f"--decay-start must be >= 0, got {settings.decay_start}")
    d_steps = _positive("--d-steps", settings.d_steps)
    accumulate = _positive("--accumulate", settings.accumulate)
    shares = world_size * accumulate
    if batch_size % shares:
        over = f"{world_size} processes" + (f" x {accumulate} micro-batches" if accumulate > 1 else "")
        raise UsageError(f"--batch-size {batch_size} does not split evenly over {over} "
                         f"({batch_size / shares:g} each); use a multiple of {shares}")
    if settings.sync_bn and world_size == 1:
        raise UsageError("--sync-bn shares BatchNorm statistics between the processes of a torchrun launch; "
                         "this run has one process")
    if settings.clip_grad is not None and settings.clip_grad <= 0:
        raise UsageError(f"--clip-grad must be positive, got {settings.clip_grad}")

    owner = f"model '{spec.name}'"
    options_cls = resolve(spec.options)
    values = {**settings.option_values, **parse_assignments(options_cls, settings.sets, owner)}
    if settings.loss is not None:
        if "loss" not in {f.name for f in dataclasses.fields(options_cls)}:
            raise UsageError(f"--loss: model '{spec.name}' has no adversarial loss option")
        values["loss"] = settings.loss
    options = build_options(options_cls, values, owner)
    if getattr(options, "loss", None) is not None:
        plugins.losses.get(options.loss)  # an unknown loss fails here, with "did you mean"
    if settings.fit not in FITS:
        raise UsageError(f"--fit must be one of {', '.join(FITS)}; got '{settings.fit}'")
    try:
        augment = ",".join(parse_loader_augments(settings.augment))
    except ValueError as exc:
        raise UsageError(f"--augment: {exc}") from None
    data_options = dataset_options(dataset.spec, settings.data_sets, settings.data_options)
    if settings.eval_every is not None:
        _positive("--eval-every", settings.eval_every)
        _positive("--eval-n", settings.eval_n)
        for flag, name, kind in (("--eval-metric", settings.eval_metric, "metric"),
                                 ("--eval-extractor", settings.eval_extractor, "feature-extractor")):
            if plugins.metrics.get(name).kind != kind:
                raise UsageError(f"{flag} {name}: that is not a {kind} (see `ganzoo list metrics`)")

    for flag, value, choices in (("--precision", settings.precision, PRECISIONS),
                                 ("--compile-mode", settings.compile_mode, COMPILE_MODES),
                                 ("--data-on-device", settings.data_on_device, DATA_ON_DEVICE)):
        if value not in choices:
            raise UsageError(f"{flag} must be one of {', '.join(choices)}; got '{value}'")
    loggers = checked_loggers(settings.loggers, plugins)
    name = settings.name or f"{spec.name}-{dataset_name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if not re.fullmatch(r"[\w.-]+", name) or name in (".", ".."):
        raise UsageError(f"--name '{name}' must be one folder name of letters, digits, '.', '_' and '-' "
                         "(not '.' or '..')")
    run_dir = Path(settings.out) / name
    if not resuming and check_fresh:  # a new run: a new or empty folder inside --out (it is checked again, locked, at creation)
        if not run_dir.resolve().is_relative_to(Path(settings.out).resolve()):
            raise UsageError(f"--name '{name}': '{run_dir}' leads outside --out '{settings.out}' "
                             f"(to '{run_dir.resolve()}'); choose another --name")
        RunDir(run_dir).check_fresh()
    return TrainPlan(
        model=model, dataset=dataset, options=options, data_root=settings.data_root, run_dir=run_dir,
        time_limit=parse_duration(settings.time), resolution=resolution, batch_size=batch_size, steps=steps,
        epochs=epochs, seed=settings.seed, device=settings.device, sample_every=sample_every, log_every=log_every,
        checkpoint_every=checkpoint_every, keep=keep, ema_decay=settings.ema_decay, ema_start=ema_start,
        lr_schedule=lr_schedule, decay_start=settings.decay_start, d_steps=d_steps, clip_grad=settings.clip_grad,
        fit=settings.fit, augment=augment, data_options=data_options, eval_every=settings.eval_every,
        eval_metric=settings.eval_metric, eval_n=settings.eval_n, eval_extractor=settings.eval_extractor,
        loggers=loggers, accumulate=accumulate, sync_bn=settings.sync_bn, precision=settings.precision, compile=settings.compile, compile_mode=settings.compile_mode,
        deterministic=settings.deterministic, data_on_device=settings.data_on_device,
    )


def checked_loggers(names: list[str], plugins: PluginSystem) -> list[str]:
    """--logger names, each registered and with what it imports installed (or a one-line error
    naming the command that installs it); repeats dropped."""
    import importlib.util

    chosen = list(dict.fromkeys(names))
    for name in chosen:
        spec = plugins.loggers.get(name)  # unknown: "did you mean"
        missing = [module for module in spec.requires if importlib.util.find_spec(module) is None]
        if missing:
            how = f": {spec.install}" if spec.install else ""
            raise GanzooError(f"--logger {name} needs {', '.join(missing)}, which is not installed{how}")
    return chosen


def settings_for_resume(config: dict[str, Any], run_dir: Path, overrides: dict[str, Any]) -> TrainSettings:
    """The settings a run was started with (from its config.json), with allowed overrides."""
    try:
        training = {k: v for k, v in config["training"].items() if k in RECORDED}
        model, dataset, options = config["model"], config["dataset"], dict(config["options"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise CheckpointError(f"'{run_dir / 'config.json'}' is not a complete run configuration "
                              f"({type(exc).__name__}: {exc}); the run cannot be resumed") from None
    if overrides.get("steps") is not None or overrides.get("epochs") is not None:
        training["steps"], training["epochs"] = overrides.get("steps"), overrides.get("epochs")
    for key in RESUMABLE:
        if key not in ("steps", "epochs") and overrides.get(key) is not None:
            training[key] = overrides[key]
    return TrainSettings(
        model=model, dataset=dataset, data_root=config.get("data_root"),
        out=str(run_dir.parent), name=run_dir.name, option_values=options, **training,
    )


def parse_duration(text: str | None) -> float | None:
    """'90s', '10m', '2h', '1h30m' or a number of seconds -> seconds."""
    if text is None:
        return None
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower().replace(" ", ""):
        raise UsageError(f"--time '{text}' is not a duration: use e.g. 90s, 10m, 2h or 1h30m")
    seconds = sum(float(n) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[u] for n, u in parts)
    if seconds <= 0:
        raise UsageError(f"--time must be positive, got '{text}'")
    return seconds


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
