"""`ganzoo train MODEL [options]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ganzoo.cli.output import console, err_console

DATA = "Data"
BUDGET = "Budget and output"


def train_command(
    model: Annotated[str, typer.Argument(help="Model to train (see `ganzoo list models`).")],
    dataset: Annotated[Optional[str], typer.Option(help="Dataset name (default: the model's).", rich_help_panel=DATA)] = None,
    data_root: Annotated[Optional[Path], typer.Option(help="Folder holding the dataset's files.", rich_help_panel=DATA)] = None,
    resolution: Annotated[Optional[int], typer.Option(help="Square training size in pixels.", rich_help_panel=DATA)] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Images per step (default: the model's).", rich_help_panel=BUDGET)] = None,
    steps: Annotated[Optional[int], typer.Option(help="Training steps (default: the model's).", rich_help_panel=BUDGET)] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random stream.", rich_help_panel=BUDGET)] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.", rich_help_panel=BUDGET)] = "auto",
    out: Annotated[Path, typer.Option(help="Folder that holds the runs.", rich_help_panel=BUDGET)] = Path("runs"),
    name: Annotated[Optional[str], typer.Option(help="Run folder name (default: model-dataset-time).", rich_help_panel=BUDGET)] = None,
    sample_every: Annotated[Optional[int], typer.Option(help="Steps between sample grids.", rich_help_panel=BUDGET)] = None,
    log_every: Annotated[Optional[int], typer.Option(help="Steps between logged losses.", rich_help_panel=BUDGET)] = None,
    ema_decay: Annotated[float, typer.Option(help="Decay of the generator's moving average.", rich_help_panel=BUDGET)] = 0.999,
    ema_start: Annotated[Optional[int], typer.Option(help="Step the moving average starts at (default: steps/5).", rich_help_panel=BUDGET)] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE",
                    help="Set a model option (repeatable); `ganzoo info MODEL` lists them.")] = None,
) -> None:
    """Train a model; the run (config, checkpoints, samples, logs) goes to OUT/NAME."""
    from ganzoo.training.loop import train
    from ganzoo.training.settings import TrainSettings

    settings = TrainSettings(
        model=model, dataset=dataset, data_root=str(data_root) if data_root else None,
        resolution=resolution, batch_size=batch_size, steps=steps, seed=seed, device=device,
        out=str(out), name=name, sample_every=sample_every, log_every=log_every,
        ema_decay=ema_decay, ema_start=ema_start, sets=list(set_ or []),
    )
    run = train(settings, console=err_console)
    console.print(f"samples: {run / 'samples'}", highlight=False)
    console.print(f"generate more: ganzoo generate {run} --n 64 --grid {run / 'grid.png'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
