"""`ganzoo eval RUN [--metric fid,kid,is,pr] [--n N] ...`; the defaults are the evaluation's own
(ganzoo.metrics.eval_settings), as for ``Run.evaluate``."""

from __future__ import annotations

import copy
import functools
import inspect
import os
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ganzoo.cli.output import MODEL_REFERENCES, console, print_json
from ganzoo.cli.seed import seed_option
from ganzoo.errors import UsageError
from ganzoo.metrics.eval_settings import EVAL_DEFAULTS, MIN_REAL_IMAGES, EvalSettings
from ganzoo.plugins import PluginSystem
from ganzoo.training.declared import Registered, plugins_for_help

#: The options whose help lists what the plugins registered.
REGISTERED = {
    "metric": Registered("metrics", kind="metric"),
    "feature_extractor": Registered("metrics", kind="feature-extractor"),
}


def eval_command(
    run: Annotated[str, typer.Argument(metavar="RUN", help="A run folder; " + MODEL_REFERENCES)],
    metric: Annotated[str, typer.Option(help="Comma-separated metrics (see `ganzoo list metrics`).")] = ",".join(
        EVAL_DEFAULTS.metrics
    ),
    n: Annotated[
        int,
        typer.Option(
            "--n",
            "--samples",
            help="Generated samples (translations: held-out inputs, at most); "
            "--samples under torchrun, whose own flags --n would abbreviate.",
        ),
    ] = EVAL_DEFAULTS.n,
    real: Annotated[
        int | None, typer.Option(help=f"Real images (default: min(split size, max(n, {MIN_REAL_IMAGES}))).")
    ] = None,
    split: Annotated[str | None, typer.Option(help="Dataset split of the real images (default: test if any).")] = None,
    feature_extractor: Annotated[
        str,
        typer.Option(
            help="Feature extractor of the metrics: inception is the standard, digits works offline on digit datasets."
        ),
    ] = EVAL_DEFAULTS.extractor,
    inception_weights: Annotated[
        Path | None, typer.Option(help="Inception weights file (default: the torch hub cache).")
    ] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="Checkpoint file (default: the newest).")] = None,
    ema: Annotated[bool, typer.Option("--ema/--no-ema", help="Use the generator's moving average.")] = True,
    seed: Annotated[int, seed_option("Seed of the generated samples.")] = EVAL_DEFAULTS.seed,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score a run's samples against real images; the result is also added to its metrics.jsonl."""
    from ganzoo.metrics.runner import evaluate_run  # lazy: building the CLI must not import torch
    from ganzoo.training.devices import resolve_device

    metrics = tuple(m.strip() for m in metric.split(",") if m.strip())
    if n < 2 or (real is not None and real < 2):
        raise UsageError("--n and --real need at least 2 images")
    settings = EvalSettings(
        metrics=metrics,
        n=n,
        real=real,
        split=split,
        extractor=feature_extractor,
        inception_weights=str(inception_weights) if inception_weights else None,
        seed=seed,
    )
    record = evaluate_run(run, settings, resolve_device(device), checkpoint=checkpoint, ema=ema)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun rank 0 alone reports
        return
    if as_json:
        print_json(record)
        return
    # the heading on a line of its own: as the table's title rich wrapped it to the table's width
    console.print(
        f"{run} step {record['step']} ({record['checkpoint']}, {'EMA' if ema else 'raw'} weights): "
        f"{n} samples vs {record['real']} real '{record['split']}' images, "
        f"{record['extractor'] or 'pixels'} features, {record['seconds']}s",
        highlight=False,
        markup=False,
    )
    table = Table(box=None, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in record["eval"].items():
        table.add_row(key, f"{value:.4f}")
    console.print(table)


def with_registered_names(
    command: Callable[..., Any], registered: dict[str, Registered], plugins: PluginSystem | None
) -> Callable[..., Any]:
    """``command`` with the help of each option named in ``registered`` ending with the names the
    plugins registered for it (``command`` itself is left as it is)."""
    hints = typing.get_type_hints(command, include_extras=True)
    parameters = []
    for parameter in inspect.signature(command).parameters.values():
        annotation = hints[parameter.name]
        if parameter.name in registered:
            kind, option = typing.get_args(annotation)
            option = copy.copy(option)
            option.help = (option.help or "") + registered[parameter.name].help_suffix(plugins)
            annotation = Annotated[kind, option]
        parameters.append(parameter.replace(annotation=annotation))

    @functools.wraps(command)
    def described(**given: Any) -> Any:
        return command(**given)

    described.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    described.__annotations__ = {p.name: p.annotation for p in parameters}
    return described


def register(app: typer.Typer) -> None:
    app.command("eval")(with_registered_names(eval_command, REGISTERED, plugins_for_help()))
