"""The settings of ``ganzoo train``, each declared once (see ganzoo.training.declared): its flag,
help, panel, default, bounds, choices and resume rule. They are resolved against the model and
dataset, and checked, by ganzoo.training.plan. No torch here: the CLI builds its flags from this."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.errors import CheckpointError, UsageError
from ganzoo.metrics.eval_settings import DEFAULT_EXTRACTOR, DEFAULT_METRIC, SAMPLES_DURING_TRAINING
from ganzoo.options import check_number, typed_value
from ganzoo.training.declared import Declared, Registered, declared, setting

LR_SCHEDULES = ("constant", "linear-decay")
DEFAULT_EMA_DECAY = 0.999
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
DATA_ON_DEVICE = ("auto", "yes", "no")
FITS = ("crop", "pad")

# Help panels of `ganzoo train --help`.
DATA, BUDGET, OUTPUT, OPTIM, MODEL = "Data", "Budget", "Output and checkpoints", "Optimisation", "Model"
SPEED = "Speed (docs/speed.md)"


@dataclass(kw_only=True)
class RunSettings:
    """What a run is: its model and data, budget, optimisation and speed (a part of
    :class:`TrainSettings`)."""

    model: str
    dataset: str = setting(
        None,
        "Dataset name (see `ganzoo list datasets`).",
        DATA,
        metavar="NAME",
        shown="the model's (`digits` for DCGAN)",
        recorded=False,
        choices=Registered("datasets", listed=False),
    )
    data_root: str | None = setting(None, "Folder holding the dataset's files.", DATA, metavar="PATH", recorded=False)
    resolution: int = setting(
        None, "Square training size in pixels.", DATA, shown="the dataset's preferred size, if the model supports it"
    )
    fit: str = setting(
        "crop", "Non-square images: crop (centre) or pad (letterbox with black bars).", DATA, choices=FITS
    )
    augment: str = setting(
        "",
        "Augment real batches on the device: flip, translation, cutout, color; and ada, the adaptive "
        "augmentation of every image the discriminator sees (comma-separated).",
        DATA,
        metavar="LIST",
        more="[Augmentation](augmentation.md)",
    )
    ada_target: float = setting(
        0.6, "ADA: the target of the overfitting heuristic E[sign(D(real))].", DATA, minimum=0, below=1
    )
    ada_kimg: float = setting(500.0, "ADA: thousands of images over which p can move from 0 to 1.", DATA, positive=True)
    ada_interval: int = setting(4, "ADA: steps between adjustments of p.", DATA, positive=True)
    data_sets: list[str] = setting(
        [],
        "Set a dataset option (repeatable); `ganzoo info DATASET` lists them.",
        DATA,
        flag="--data-set",
        metavar="KEY=VALUE",
        recorded=False,
    )
    batch_size: int = setting(None, "Images per step.", DATA, shown="the model's (64 for DCGAN)", positive=True)
    steps: int | None = setting(
        None, "Training steps.", BUDGET, resumable=True, shown="the model's (3,000 for DCGAN)", positive=True
    )
    epochs: int | None = setting(
        None, "Passes over the data, instead of --steps.", BUDGET, resumable=True, positive=True
    )
    time: str | None = setting(
        None,
        "Wall-clock budget of this invocation: 90s, 10m, 2h, 1h30m; the run stops cleanly with a checkpoint.",
        BUDGET,
        metavar="DURATION",
        resumable=True,
        recorded=False,
    )
    seed: int = setting(0, "Seed of every random stream: the same seed gives the same run on the same machine.", BUDGET)
    device: str = setting(
        "auto",
        "auto, cpu, cuda or cuda:N; auto picks CUDA, then Apple MPS, then the CPU.",
        BUDGET,
        metavar="auto|cpu|cuda|cuda:N",
        resumable=True,
    )
    loss: str | None = setting(
        None,
        "Adversarial loss (see `ganzoo list losses`).",
        OPTIM,
        metavar="NAME",
        shown="the model's (`nonsaturating`)",
        recorded=False,
        choices=Registered("losses"),
        more="[Losses](losses.md)",
    )
    lr_schedule: str = setting(
        None,
        "constant, or linear-decay: constant until --decay-start, then linearly to 0 at the last step.",
        OPTIM,
        shown="the model's (constant)",
        choices=LR_SCHEDULES,
    )
    decay_start: int | None = setting(None, "Step linear-decay starts at.", OPTIM, shown="steps / 2", minimum=0)
    d_steps: int = setting(
        1, "Repeats of the model's critic phases per step, each on a new batch (5 for WGAN-GP).", OPTIM, positive=True
    )
    lecam: float = setting(
        0.0,
        "Weight of the LeCam regulariser of the discriminator (0.3 in the paper's CIFAR-10 BigGAN; 0 = off).",
        OPTIM,
        minimum=0,
        more="[Augmentation](augmentation.md#lecam-regularisation)",
    )
    clip_grad: float | None = setting(None, "Clip each phase's gradient norm to this.", OPTIM, positive=True)
    accumulate: int = setting(
        1,
        "Split each process's share of the batch into K micro-batches whose gradients "
        "add up before a step (a batch larger than memory allows).",
        OPTIM,
        positive=True,
    )
    sync_bn: bool = setting(
        False, "Under torchrun on GPUs: BatchNorm statistics over the global batch (SyncBatchNorm).", OPTIM
    )
    ema_decay: float | None = setting(
        None,
        "Decay of the generator's exponential moving average (ramped up over the first updates).",
        OPTIM,
        minimum=0,
        below=1,
        shown=f"the model's half-life in images (StyleGAN2), else {DEFAULT_EMA_DECAY}",
    )
    ema_start: int = setting(
        None, "Step the moving average starts at.", OPTIM, shown="steps / 5 (the model's own: StyleGAN2 0)", minimum=0
    )
    precision: str = setting(
        "auto",
        "fp32, bf16, fp16 (loss-scaled) or auto: bf16 on CUDA GPUs that support it, fp32 elsewhere.",
        SPEED,
        resumable=True,
        choices=PRECISIONS,
        more="[Speed](speed.md)",
    )
    compile: bool = setting(
        False,
        "Compile the networks with torch.compile (the first steps take longer; the compile time is left out of img/s).",
        SPEED,
        resumable=True,
    )
    compile_mode: str = setting(
        "default",
        "torch.compile mode: default, reduce-overhead (adds CUDA graphs) or max-autotune.",
        SPEED,
        resumable=True,
        choices=COMPILE_MODES,
    )
    deterministic: bool = setting(
        False,
        "Deterministic algorithms on CUDA: a resumed run equals an uninterrupted one, bitwise (slower).",
        SPEED,
        resumable=True,
    )
    data_on_device: str = setting(
        "auto",
        "Upload the prepared dataset to the device once: auto (if it fits in a "
        "quarter of free GPU memory), yes or no; else batches are prefetched (on a GPU) "
        "or gathered by the loop (on the CPU).",
        SPEED,
        resumable=True,
        choices=DATA_ON_DEVICE,
    )
    sets: list[str] = setting(
        [],
        "Set a model option (repeatable); `ganzoo info MODEL` lists them.",
        MODEL,
        flag="--set",
        metavar="KEY=VALUE",
        recorded=False,
    )
    # Typed values restored from a run's config.json on resume (no flags of their own):
    data_options: dict[str, Any] = setting({}, "The dataset's options, typed.", cli=False)
    option_values: dict[str, Any] = setting({}, "The model's options, typed.", cli=False, recorded=False)


@dataclass(kw_only=True)
class OutputSettings:
    """What a run writes and reports: its folder, cadences, evaluations and loggers (a part of
    :class:`TrainSettings`)."""

    out: str = setting("runs", "Folder that holds the runs.", OUTPUT, metavar="DIR", recorded=False)
    name: str = setting(
        None, "Run folder name (a run is never overwritten).", OUTPUT, shown="`MODEL-DATASET-TIME`", recorded=False
    )
    sample_every: int = setting(
        None, "Steps between sample grids.", OUTPUT, resumable=True, shown="steps / 10", positive=True
    )
    log_every: int = setting(
        None, "Steps between logged losses.", OUTPUT, resumable=True, shown="min(50, steps / 20)", positive=True
    )
    checkpoint_every: int = setting(
        None, "Steps between checkpoints.", OUTPUT, resumable=True, shown="min(1000, steps)", positive=True
    )
    keep: int = setting(3, "How many step checkpoints to keep.", OUTPUT, resumable=True, positive=True)
    eval_every: int | None = setting(
        None,
        "Evaluate the EMA generator every N steps and keep checkpoints/best.safetensors.",
        OUTPUT,
        positive=True,
        more="[Evaluating](evaluating.md#during-training)",
    )
    eval_metric: str = setting(
        DEFAULT_METRIC,
        "Metric of --eval-every (see `ganzoo list metrics`).",
        OUTPUT,
        metavar="NAME",
        choices=Registered("metrics", kind="metric"),
        only_with="eval_every",
    )
    eval_n: int = setting(
        SAMPLES_DURING_TRAINING, "Samples per evaluation.", OUTPUT, positive=True, only_with="eval_every"
    )
    eval_extractor: str = setting(
        DEFAULT_EXTRACTOR,
        "Feature extractor of --eval-every (see `ganzoo list metrics`).",
        OUTPUT,
        metavar="NAME",
        choices=Registered("metrics", kind="feature-extractor"),
        only_with="eval_every",
    )
    loggers: list[str] = setting(
        [],
        "Also log to this logger (repeatable; see `ganzoo list loggers`).",
        OUTPUT,
        flag="--logger",
        metavar="NAME",
        resumable=True,
        choices=Registered("loggers"),
        more="[Logging](logging.md)",
    )


@dataclass(kw_only=True)
class TrainSettings(OutputSettings, RunSettings):
    """The knobs of ``ganzoo train``: :class:`RunSettings`, then :class:`OutputSettings` (fields in
    that order: a dataclass collects its bases' fields from the last base up). A default of None
    means "the model's, the dataset's or the budget's": the plan fills it in, so the annotations
    are the types of the resolved settings (a TrainPlan's); a setting annotated ``X | None`` may
    stay None (--epochs instead of --steps)."""


def declared_settings() -> list[Declared]:
    """The settings that are ``ganzoo train`` flags, in declaration order."""
    return [d for d in declared(TrainSettings) if d.rules.cli]


def flag_of(name: str) -> str:
    return next(d.flag for d in declared(TrainSettings) if d.name == name)


#: Settings a resumed run may change: budgets, output cadence and the device. Everything else
#: defines the run and comes from its config.json.
RESUMABLE = tuple(d.name for d in declared(TrainSettings) if d.rules.resumable)
#: Settings kept under "training" in config.json (resolved), and restored on resume.
RECORDED = tuple(d.name for d in declared(TrainSettings) if d.rules.recorded)


def settings_for_resume(config: dict[str, Any], run_dir: Path, overrides: dict[str, Any]) -> TrainSettings:
    """The settings a run was started with (from its config.json), with allowed overrides."""
    try:
        training = {k: v for k, v in config["training"].items() if k in RECORDED}
        model, dataset, options = config["model"], config["dataset"], dict(config["options"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise CheckpointError(
            f"'{run_dir / 'config.json'}' is not a complete run configuration "
            f"({type(exc).__name__}: {exc}); the run cannot be resumed"
        ) from None
    _check_recorded(training, run_dir / "config.json")
    if overrides.get("steps") is not None or overrides.get("epochs") is not None:
        training["steps"], training["epochs"] = overrides.get("steps"), overrides.get("epochs")
    for key in RESUMABLE:
        if key not in ("steps", "epochs") and overrides.get(key) is not None:
            training[key] = overrides[key]
    return TrainSettings(
        model=model,
        dataset=dataset,
        data_root=config.get("data_root"),
        out=str(run_dir.parent),
        name=run_dir.name,
        option_values=options,
        **training,
    )


def _check_recorded(training: dict[str, Any], path: Path) -> None:
    """A config.json edited by hand: each recorded value of the wrong type (or not finite) is a
    usage error naming the file and the key, before the run is touched (bounds and choices are
    checked with the plan, by flag name)."""
    by_name = {d.name: d for d in declared(TrainSettings)}
    for key, value in training.items():
        if value is None:
            continue
        where = f"'training.{key}' in '{path}'"
        try:
            typed_value(by_name[key].kind, value)
        except TypeError as exc:
            raise UsageError(f"{where} must be {exc}, got {value!r}; restore the file to resume the run") from None
        check_number(where, value)
