"""`ganzoo generate RUN [--n N] [--class NAME ...] [--out DIR] [--grid FILE] [--seed N]`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from ganzoo.cli.output import console
from ganzoo.errors import UsageError


def generate_command(
    run: Annotated[Path, typer.Argument(help="A run folder made by `ganzoo train`.")],
    n: Annotated[int, typer.Option("--n", min=1, help="How many images (per class, with --class).")] = 64,
    class_: Annotated[Optional[list[str]], typer.Option(
        "--class", metavar="NAME|INDEX", help="Conditional models: images of this class or attribute (repeatable; "
        "'all' = every class, one grid row each).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Folder for one PNG per image.")] = None,
    grid: Annotated[Optional[Path], typer.Option(help="One PNG grid of all images.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the noise: the same seed gives the same images.")] = 0,
    batch_size: Annotated[int, typer.Option(min=1, help="Images generated at once.")] = 256,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    truncation: Annotated[Optional[float], typer.Option(help="Trade variety for fidelity; what it means is the model's (Gaussian noise: draw each component within ±T).")] = None,
    ema: Annotated[bool, typer.Option("--ema/--no-ema", help="Use the generator's moving average (if the run has one).")] = True,
    checkpoint: Annotated[Optional[Path], typer.Option(help="A checkpoint file, or best (kept by --eval-every); default: the newest.")] = None,
) -> None:
    """Generate images from a trained run. With neither --out nor --grid, writes RUN/generated/seed-S.png."""
    import torch

    from ganzoo.training.devices import resolve_device
    from ganzoo.training.inference import class_choices, draw_codes, load_run, require_inference
    from ganzoo.training.samples import iter_samples, save_grid, save_png

    if truncation is not None and not truncation > 0:
        raise UsageError(f"--truncation must be positive, got {truncation}")
    loaded = load_run(run, resolve_device(device), checkpoint=checkpoint, ema=ema)
    require_inference(loaded, "sample")
    if truncation is not None and not loaded.model_entry.spec.truncation:
        raise UsageError(f"--truncation: model '{loaded.model_entry.name}' does not support truncation")
    choices = class_choices(loaded, class_)
    noise, labels = draw_codes(loaded.model, n, torch.Generator().manual_seed(seed), choices)
    names = loaded.data.classes or loaded.data.attributes
    if out is None and grid is None:
        grid = run / "generated" / f"seed-{seed}.png"
    kept, written = [], 0
    width = len(str(n - 1))
    model_device = next(loaded.model.parameters()).device
    for images in iter_samples(loaded.model, noise, model_device, batch_size, labels, truncation):
        if out is not None:  # written batch by batch: memory stays flat for any --n
            for image in images:
                prefix = f"{_file_safe(names[choices[written // n]])}-" if choices else ""
                save_png(image, out / f"{prefix}{written % n if choices else written:0{width}d}.png")
                written += 1
        if grid is not None:
            kept.append(images)
    total = noise.shape[0]
    if out is not None:
        console.print(f"{total} images in {out}", highlight=False)
    if grid is not None:
        save_grid(torch.cat(kept), grid, nrow=n if choices else None)
        rows = f", one row per class ({', '.join(names[k] for k in choices)})" if choices else ""
        console.print(f"grid of {total} images{rows}: {grid}", highlight=False)


def _file_safe(name: str) -> str:
    """A class name as part of a file name ('T-shirt/top' -> 'T-shirt_top')."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "class"


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
