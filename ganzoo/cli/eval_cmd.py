"""`ganzoo eval RUN [--metric fid,kid,is,pr] [--n N] ...`."""

from __future__ import annotations

import os

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ganzoo.cli.output import console, print_json


def eval_command(
    run: Annotated[Path, typer.Argument(help="A run folder.")],
    metric: Annotated[str, typer.Option(help="Comma-separated metrics: fid, kid, is, pr (see `ganzoo list metrics`).")] = "fid",
    n: Annotated[int, typer.Option("--n", "--samples", help="Generated samples (translations: held-out inputs, at most); "
                                                        "--samples under torchrun, whose own flags --n would abbreviate.")] = 10_000,
    real: Annotated[Optional[int], typer.Option(help="Real images (default: min(split size, max(n, 10000))).")] = None,
    split: Annotated[Optional[str], typer.Option(help="Dataset split of the real images (default: test if any).")] = None,
    feature_extractor: Annotated[str, typer.Option(help="inception (standard) or digits (offline, digit datasets).")] = "inception",
    inception_weights: Annotated[Optional[Path], typer.Option(help="Inception weights file (default: the torch hub cache).")] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(help="Checkpoint file (default: the newest).")] = None,
    ema: Annotated[bool, typer.Option("--ema/--no-ema", help="Use the generator's moving average.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the generated samples.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score a run's samples against real images; the result is also added to its metrics.jsonl."""
    from ganzoo.errors import UsageError
    from ganzoo.metrics.evaluate import EvalSettings
    from ganzoo.metrics.runner import evaluate_run
    from ganzoo.training.devices import resolve_device

    metrics = tuple(m.strip() for m in metric.split(",") if m.strip())
    if n < 2 or (real is not None and real < 2):
        raise UsageError("--n and --real need at least 2 images")
    settings = EvalSettings(metrics=metrics, n=n, real=real, split=split, extractor=feature_extractor,
                            inception_weights=str(inception_weights) if inception_weights else None, seed=seed)
    record = evaluate_run(run, settings, resolve_device(device), checkpoint=checkpoint, ema=ema)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun rank 0 alone reports
        return
    if as_json:
        print_json(record)
        return
    table = Table(box=None, header_style="bold", title_justify="left",
                  title=f"{run} step {record['step']} ({record['checkpoint']}, {'EMA' if ema else 'raw'} weights): "
                        f"{n} samples vs {record['real']} real '{record['split']}' images, "
                        f"{record['extractor'] or 'pixels'} features, {record['seconds']}s")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in record["eval"].items():
        table.add_row(key, f"{value:.4f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
