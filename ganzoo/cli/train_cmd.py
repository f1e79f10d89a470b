"""`ganzoo train MODEL [options]` and `ganzoo train --resume RUN`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ganzoo.cli.output import console, err_console
from ganzoo.errors import UsageError

DATA = "Data"
BUDGET = "Budget"
OUTPUT = "Output and checkpoints"
OPTIM = "Optimisation"

#: Flags --resume accepts: budgets, cadence, device. The rest defines the run and is kept.
RESUME_FLAGS = {"resume", "steps", "epochs", "time", "device", "sample_every", "log_every", "checkpoint_every", "keep"}


def train_command(
    ctx: typer.Context,
    model: Annotated[Optional[str], typer.Argument(help="Model to train (see `ganzoo list models`).", show_default=False)] = None,
    resume: Annotated[Optional[Path], typer.Option(help="Continue this run folder from its newest checkpoint.", rich_help_panel=BUDGET)] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Dataset name (default: the model's).", rich_help_panel=DATA)] = None,
    data_root: Annotated[Optional[Path], typer.Option(help="Folder holding the dataset's files.", rich_help_panel=DATA)] = None,
    resolution: Annotated[Optional[int], typer.Option(help="Square training size in pixels.", rich_help_panel=DATA)] = None,
    fit: Annotated[str, typer.Option(help="Non-square images: crop (centre) or pad (letterbox).", rich_help_panel=DATA)] = "crop",
    augment: Annotated[str, typer.Option(help="Augment real batches on the device: flip, translation, cutout, color (comma-separated).", rich_help_panel=DATA)] = "",
    data_set: Annotated[Optional[list[str]], typer.Option("--data-set", metavar="KEY=VALUE", help="Set a dataset option (repeatable); `ganzoo info DATASET` lists them.", rich_help_panel=DATA)] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Images per step (default: the model's).", rich_help_panel=DATA)] = None,
    steps: Annotated[Optional[int], typer.Option(help="Training steps (default: the model's).", rich_help_panel=BUDGET)] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Passes over the data, instead of --steps.", rich_help_panel=BUDGET)] = None,
    time: Annotated[Optional[str], typer.Option("--time", help="Wall-clock budget of this invocation: 90s, 10m, 2h, 1h30m.", rich_help_panel=BUDGET)] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random stream.", rich_help_panel=BUDGET)] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.", rich_help_panel=BUDGET)] = "auto",
    loss: Annotated[Optional[str], typer.Option(help="Adversarial loss (see `ganzoo list losses`).", rich_help_panel=OPTIM)] = None,
    lr_schedule: Annotated[Optional[str], typer.Option(help="constant, or linear-decay (constant, then linearly to 0); default: the model's.", rich_help_panel=OPTIM)] = None,
    decay_start: Annotated[Optional[int], typer.Option(help="Step linear-decay starts at (default: half the steps).", rich_help_panel=OPTIM)] = None,
    d_steps: Annotated[int, typer.Option(help="Discriminator steps per generator step.", rich_help_panel=OPTIM)] = 1,
    clip_grad: Annotated[Optional[float], typer.Option(help="Clip each phase's gradient norm to this.", rich_help_panel=OPTIM)] = None,
    ema_decay: Annotated[float, typer.Option(help="Decay of the generator's moving average.", rich_help_panel=OPTIM)] = 0.999,
    ema_start: Annotated[Optional[int], typer.Option(help="Step the moving average starts at (default: steps/5).", rich_help_panel=OPTIM)] = None,
    out: Annotated[Path, typer.Option(help="Folder that holds the runs.", rich_help_panel=OUTPUT)] = Path("runs"),
    name: Annotated[Optional[str], typer.Option(help="Run folder name (default: model-dataset-time).", rich_help_panel=OUTPUT)] = None,
    sample_every: Annotated[Optional[int], typer.Option(help="Steps between sample grids.", rich_help_panel=OUTPUT)] = None,
    log_every: Annotated[Optional[int], typer.Option(help="Steps between logged losses.", rich_help_panel=OUTPUT)] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(help="Steps between checkpoints (default: min(1000, steps)).", rich_help_panel=OUTPUT)] = None,
    keep: Annotated[int, typer.Option(help="How many step checkpoints to keep.", rich_help_panel=OUTPUT)] = 3,
    eval_every: Annotated[Optional[int], typer.Option(help="Evaluate the EMA generator every N steps and keep checkpoints/best.safetensors.", rich_help_panel=OUTPUT)] = None,
    eval_metric: Annotated[str, typer.Option(help="Metric of --eval-every: fid, kid, is or pr.", rich_help_panel=OUTPUT)] = "fid",
    eval_n: Annotated[int, typer.Option(help="Samples per evaluation.", rich_help_panel=OUTPUT)] = 2000,
    eval_extractor: Annotated[str, typer.Option(help="Feature extractor of --eval-every: inception or digits.", rich_help_panel=OUTPUT)] = "inception",
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE",
                    help="Set a model option (repeatable); `ganzoo info MODEL` lists them.")] = None,
) -> None:
    """Train a model; the run (config, checkpoints, samples, logs) goes to OUT/NAME.

    Ctrl-C (or SIGTERM) finishes the current step, saves a checkpoint and tells you how to
    resume; `ganzoo train --resume RUN` continues exactly where the run stopped."""
    from ganzoo.training.loop import resume as resume_run
    from ganzoo.training.loop import train
    from ganzoo.training.settings import TrainSettings

    # typer may vendor click, so the parameter source is compared by name
    given = {key for key in ctx.params if getattr(ctx.get_parameter_source(key), "name", None) == "COMMANDLINE"}
    if resume is not None:
        fixed = sorted(given - RESUME_FLAGS - {"model"})
        if fixed:
            flags = ", ".join("--" + key.rstrip("_").replace("_", "-") for key in fixed)
            raise UsageError(f"--resume continues a run as it was configured; {flags} cannot change it "
                             "(budgets, cadence and --device can)")
        if model is not None:
            raise UsageError("give either MODEL or --resume RUN, not both")
        overrides = {key: ctx.params[key] for key in RESUME_FLAGS - {"resume"} if key in given}
        run = resume_run(resume, overrides, console=err_console)
    else:
        if model is None:
            raise UsageError("missing MODEL: e.g. `ganzoo train dcgan` (see `ganzoo list models`), "
                             "or `ganzoo train --resume RUN`")
        settings = TrainSettings(
            model=model, dataset=dataset, data_root=str(data_root) if data_root else None, fit=fit,
            augment=augment, data_sets=list(data_set or []),
            resolution=resolution, batch_size=batch_size, steps=steps, epochs=epochs, time=time, seed=seed,
            device=device, out=str(out), name=name, sample_every=sample_every, log_every=log_every,
            checkpoint_every=checkpoint_every, keep=keep, ema_decay=ema_decay, ema_start=ema_start,
            lr_schedule=lr_schedule, decay_start=decay_start, d_steps=d_steps, clip_grad=clip_grad, loss=loss,
            eval_every=eval_every, eval_metric=eval_metric, eval_n=eval_n, eval_extractor=eval_extractor,
            sets=list(set_ or []),
        )
        run = train(settings, console=err_console)
    console.print(f"samples: {run / 'samples'}", highlight=False)
    import json

    inference = json.loads((run / "config.json").read_text()).get("inference", ["sample"])
    if "translate" in inference:
        console.print(f"translate images: ganzoo translate {run} --input IMAGES --out {run / 'translated'}", highlight=False)
    else:
        console.print(f"generate more: ganzoo generate {run} --n 64 --grid {run / 'grid.png'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
