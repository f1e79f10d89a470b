"""`ganzoo generate RUN [--n N] [--out DIR] [--grid FILE] [--seed N]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ganzoo.cli.output import console
from ganzoo.errors import UsageError


def generate_command(
    run: Annotated[Path, typer.Argument(help="A run folder made by `ganzoo train`.")],
    n: Annotated[int, typer.Option("--n", min=1, help="How many images.")] = 64,
    out: Annotated[Optional[Path], typer.Option(help="Folder for one PNG per image.")] = None,
    grid: Annotated[Optional[Path], typer.Option(help="One PNG grid of all images.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the noise: the same seed gives the same images.")] = 0,
    batch_size: Annotated[int, typer.Option(min=1, help="Images generated at once.")] = 256,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    truncation: Annotated[Optional[float], typer.Option(help="Redraw noise components beyond this magnitude (models with Gaussian noise).")] = None,
    ema: Annotated[bool, typer.Option("--ema/--no-ema", help="Use the generator's moving average (if the run has one).")] = True,
    checkpoint: Annotated[Optional[Path], typer.Option(help="A checkpoint file, or best (kept by --eval-every); default: the newest.")] = None,
) -> None:
    """Generate images from a trained run. With neither --out nor --grid, writes RUN/generated/seed-S.png."""
    import torch

    from ganzoo.training.devices import resolve_device
    from ganzoo.training.inference import load_run, require_inference
    from ganzoo.training.latents import truncate
    from ganzoo.training.samples import sample_images, save_grid, save_png

    loaded = load_run(run, resolve_device(device), checkpoint=checkpoint, ema=ema)
    require_inference(loaded, "sample")
    # All noise is drawn in one call: the same seed gives the same images whatever --batch-size.
    generator = torch.Generator().manual_seed(seed)
    noise = loaded.model.noise(n, generator)
    if truncation is not None:
        if not loaded.model_entry.spec.truncation:
            raise UsageError(f"--truncation: model '{loaded.model_entry.name}' does not support truncation")
        if truncation <= 0:
            raise UsageError(f"--truncation must be positive, got {truncation}")
        noise = truncate(noise, truncation, generator)
    images = sample_images(loaded.model, noise, next(loaded.model.parameters()).device, batch_size)
    if out is None and grid is None:
        grid = run / "generated" / f"seed-{seed}.png"
    if out is not None:
        width = len(str(n - 1))
        for index, image in enumerate(images):
            save_png(image, out / f"{index:0{width}d}.png")
        console.print(f"{n} images in {out}", highlight=False)
    if grid is not None:
        save_grid(images, grid)
        console.print(f"grid of {n} images: {grid}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
