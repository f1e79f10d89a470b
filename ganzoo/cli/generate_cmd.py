"""`ganzoo generate RUN [--n N] [--class NAME ...] [--out DIR] [--grid FILE] [--seed N] [--overwrite]`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from ganzoo.cli.output import MODEL_REFERENCES, console
from ganzoo.cli.overwrite import Overwrite
from ganzoo.cli.seed import seed_option
from ganzoo.errors import UsageError
from ganzoo.outputs import Outputs
from ganzoo.protocols import Truncates

MAX_GRID = 10_000  # images in one grid PNG (all of them are held in memory to draw it)


def generate_command(
    run: Annotated[str, typer.Argument(metavar="RUN", help="A run folder made by `ganzoo train`; " + MODEL_REFERENCES)],
    n: Annotated[int, typer.Option("--n", min=1, help="How many images (per class, with --class).")] = 64,
    class_: Annotated[
        list[str] | None,
        typer.Option(
            "--class",
            metavar="NAME|INDEX",
            help="Conditional models: images of this class or attribute (repeatable; "
            "'all' = every class, one grid row each).",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for one PNG per image.")] = None,
    grid: Annotated[Path | None, typer.Option(help="One PNG grid of all images.")] = None,
    seed: Annotated[int, seed_option("Seed of the noise: the same seed gives the same images.")] = 0,
    batch_size: Annotated[int, typer.Option(min=1, help="Images generated at once.")] = 256,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    truncation: Annotated[
        float | None,
        typer.Option(
            help="Trade variety for fidelity; what it means is the model's (Gaussian noise: draw each component within ±T)."
        ),
    ] = None,
    ema: Annotated[
        bool, typer.Option("--ema/--no-ema", help="Use the generator's moving average (if the run has one).")
    ] = True,
    checkpoint: Annotated[
        Path | None, typer.Option(help="A checkpoint file, or best (kept by --eval-every); default: the newest.")
    ] = None,
    overwrite: Overwrite = False,
) -> None:
    """Generate images from a trained run. With neither --out nor --grid, writes
    RUN/generated/seed-S.png (seed-S-2.png, ... when that exists, unless --overwrite)."""
    import torch  # lazy: building the CLI must not import torch

    from ganzoo.shared_models import is_shared_model
    from ganzoo.training.devices import resolve_device
    from ganzoo.training.inference import class_choices, load_run, require_inference
    from ganzoo.training.samples import generated, save_grid, save_png

    if truncation is not None and not truncation > 0:
        raise UsageError(f"--truncation must be positive, got {truncation}")
    loaded = load_run(run, resolve_device(device), checkpoint=checkpoint, ema=ema)
    require_inference(loaded, "sample")
    if truncation is not None and not isinstance(loaded.model, Truncates):
        raise UsageError(f"--truncation: model '{loaded.model_entry.name}' does not support truncation")
    choices = class_choices(loaded, class_)
    names = loaded.data.classes or loaded.data.attributes
    prefixes = _prefixes([names[k] for k in choices]) if choices else [""]  # one per grid row
    width = len(str(n - 1))
    total = n * len(prefixes)
    if (grid is not None or out is None) and total > MAX_GRID:
        raise UsageError(
            f"a grid holds at most {MAX_GRID:,} images, and {total:,} were asked for: "
            "write them one per file with --out DIR (streamed to disk)"
        )
    outputs = Outputs(overwrite, inputs=[loaded.run_dir.config_path, loaded.checkpoint])
    if out is not None:
        outputs.series(out, _numbered(prefixes, n, width), "--out")
    if grid is not None:
        grid = outputs.file(grid, "--grid")
    elif out is None:  # a name the user did not choose: a new one rather than a refusal
        if is_shared_model(loaded.config):  # a pulled or shipped model's folder is not written to
            raise UsageError(f"'{run}' is a shared model, whose folder is left as it is: give --grid FILE or --out DIR")
        grid = outputs.file(loaded.run_dir.path / "generated" / f"seed-{seed}.png", fresh=not overwrite)
    outputs.create_folders()  # every target is checked: nothing was written before this
    kept, written = [], 0
    for images in generated(loaded.model, n, seed, choices, truncation, batch_size):
        if out is not None:  # written batch by batch: memory stays flat for any --n
            for image in images:
                save_png(image, out / f"{prefixes[written // n]}{written % n:0{width}d}.png")
                written += 1
        if grid is not None:
            kept.append(images)
    if out is not None:
        console.print(f"{total} images in {out}", highlight=False, markup=False)
    if grid is not None:
        save_grid(torch.cat(kept), grid, nrow=n if choices else None)
        rows = f", one row per class ({', '.join(names[k] for k in choices)})" if choices else ""
        console.print(f"grid of {total} images{rows}: {grid}", highlight=False, markup=False)


def _file_safe(name: str) -> str:
    """A class name as part of a file name ('T-shirt/top' -> 'T-shirt_top')."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "class"


def _prefixes(labels: list[str]) -> list[str]:
    """File name prefixes of the chosen classes, distinct even when two names look alike
    ('a/b' and 'a_b') or a class is chosen twice: 'a_b-', 'a_b-2-'."""
    prefixes: list[str] = []
    for label in labels:
        base = prefix = _file_safe(label)
        number = 1
        while f"{prefix}-" in prefixes:
            number += 1
            prefix = f"{base}-{number}"
        prefixes.append(f"{prefix}-")
    return prefixes


def _numbered(prefixes: list[str], n: int, width: int):
    """Whether a file name is one of PREFIX + NUMBER.png that ``--out`` gets."""
    pattern = re.compile("(?:" + "|".join(map(re.escape, prefixes)) + rf")(\d{{{width}}})\.png")
    return lambda name: (match := pattern.fullmatch(name)) is not None and int(match[1]) < n


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
