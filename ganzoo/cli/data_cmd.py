"""`ganzoo data download|prepare|make-edges|masks`."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from ganzoo.cli.output import console, err_console
from ganzoo.cli.overwrite import Overwrite
from ganzoo.cli.seed import seed_option
from ganzoo.errors import DataError, UnknownNameError, UsageError
from ganzoo.outputs import Outputs
from ganzoo.plugins import load_plugins
from ganzoo.protocols import ReadsPreparedCache
from ganzoo.specs import resolve

data_app = typer.Typer(help="Fetch and manage datasets.", no_args_is_help=True)


@data_app.command("download")
def download_command(
    name: Annotated[str, typer.Argument(help="Dataset name (see `ganzoo list datasets`).")],
    root: Annotated[
        Path | None, typer.Option(help="Folder to put the files in (default: the cache, $GANZOO_DATA).")
    ] = None,
) -> None:
    """Download a dataset's official files, verify their checksums, resume partial downloads."""

    spec = load_plugins().datasets.get(name)
    if spec.embedded:
        console.print(f"'{name}' is embedded in an installed package: nothing to download", highlight=False)
        return
    if spec.download is None:
        console.print(f"'{name}' has no official files to download: point --data-root at your files", highlight=False)
        return
    with Progress(
        "[bold]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task(name, total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        paths = resolve(spec.download)(root, progress=report)
    for path in paths:
        console.print(f"ok  {path}", highlight=False, markup=False)


@data_app.command("prepare")
def prepare_command(
    name: Annotated[str, typer.Argument(help="Dataset name (see `ganzoo list datasets`).")],
    resolution: Annotated[int | None, typer.Option(help="Square size in pixels (default: the dataset's).")] = None,
    data_root: Annotated[Path | None, typer.Option(help="Folder holding the dataset's files.")] = None,
    split: Annotated[str, typer.Option(help="Which split to prepare.")] = "train",
    fit: Annotated[str, typer.Option(help="Non-square images: crop (centre) or pad (letterbox).")] = "crop",
    data_set: Annotated[
        list[str] | None, typer.Option("--data-set", metavar="KEY=VALUE", help="Set a dataset option (repeatable).")
    ] = None,
) -> None:
    """Decode, crop and resize a dataset once into the memory-mapped cache `train` reads.

    `train` does this by itself on first use; preparing ahead lets you see skipped files and
    timings first. The cache is rebuilt when the source files or these settings change."""

    from ganzoo.data.loading import dataset_options, open_dataset  # lazy: building the CLI must not import torch

    spec = load_plugins().datasets.get(name)
    started = time.perf_counter()
    data = open_dataset(
        spec,
        root=str(data_root) if data_root else None,
        resolution=resolution,
        split=split,
        fit=fit,
        options=dataset_options(spec, list(data_set or [])),
    )
    seconds = time.perf_counter() - started
    size = f"{len(data):,} examples at {data.info.resolution}px"
    counts = {"classes": data.info.num_classes, "attributes": data.info.num_attributes}
    labelled = [f"{n} {what}" for what, n in counts.items() if n]
    size += f" ({', '.join(labelled)})" if labelled else ""
    if not isinstance(data, ReadsPreparedCache):
        console.print(
            f"{name}: {size}, read straight from its files in {seconds:.1f}s "
            "(they are pixel arrays already: no cache needed)",
            highlight=False,
        )
        return
    manifest, built = data.manifest, "prepared" if data.cache_built else "cache up to date"
    rate = (
        f", {manifest['count'] / manifest['seconds']:,.0f} images/s"
        if built == "prepared" and manifest["seconds"]
        else ""
    )
    console.print(
        f"{name}: {size}, {built} ({manifest['seconds']:.1f}s{rate}); {manifest['skipped_count']} file(s) skipped",
        highlight=False,
    )
    console.print(f"cache: {data.cache_path}", highlight=False, markup=False)


@data_app.command("make-edges")
def make_edges_command(
    source: Annotated[Path, typer.Argument(help="A folder of images (searched recursively).")],
    destination: Annotated[Path, typer.Argument(help="Where to write the paired dataset (train/ and val/).")],
    resolution: Annotated[int, typer.Option(help="Square size of each half.")] = 256,
    val_fraction: Annotated[float, typer.Option(help="Share of images put in val/.")] = 0.1,
    density: Annotated[float, typer.Option(help="Share of pixels at most marked as edges.")] = 0.12,
    overwrite: Overwrite = False,
) -> None:
    """Build an edges-to-image paired dataset (edges | photo, like edges2shoes) from any folder.

    Train Pix2Pix on it with `ganzoo train pix2pix --dataset paired --data-root DESTINATION`.
    Files already in DESTINATION are never replaced without --overwrite."""
    from ganzoo.data.edges import make_edges  # lazy: building the CLI must not import torch
    from ganzoo.data.images import report_skipped

    if not source.is_dir():
        raise DataError(f"'{source}' is not a folder")
    if destination.resolve() == source.resolve() or destination.resolve().is_relative_to(source.resolve()):
        raise UsageError("DESTINATION must lie outside SOURCE (the source folder is never written to)")
    if not 0 <= val_fraction < 1 or not 0 < density < 1:
        raise UsageError("--val-fraction must be in [0, 1) and --density in (0, 1)")
    train, val, skipped = make_edges(source, destination, resolution, val_fraction, density, Outputs(overwrite))
    report_skipped(skipped, train + val + len(skipped))
    if train + val == 0:
        raise DataError(f"no usable image under '{source}'")
    console.print(
        f"wrote {train} train and {val} val pairs (edges | image) to {destination}", highlight=False, markup=False
    )


@data_app.command("masks")
def masks_command(
    kind: Annotated[str, typer.Option(help="box, strokes, thin, medium or thick (see docs/inpainting.md).")],
    out: Annotated[Path, typer.Option(help="Folder for mask-000.png, ... (white = hole).")],
    n: Annotated[int, typer.Option("--n", min=1, max=100_000, help="How many masks.")] = 16,
    resolution: Annotated[int, typer.Option(min=16, max=4096, help="Side of each square mask in pixels.")] = 256,
    seed: Annotated[int, seed_option("The same seed gives the same masks.")] = 0,
    overwrite: Overwrite = False,
) -> None:
    """Write the masks a mask generator draws, as PNGs: to look at them, or to reuse them
    (`ganzoo inpaint --mask DIR`, an inpaint-folder dataset's masks/)."""

    from ganzoo.data.masks import MASK_KINDS, write_masks  # lazy: building the CLI must not import torch

    if kind not in MASK_KINDS:
        raise UnknownNameError("mask kind", kind, MASK_KINDS)
    outputs = Outputs(overwrite)
    outputs.series(out, lambda name: re.fullmatch(r"mask-\d+\.png", name) is not None, "--out")
    outputs.create_folders()
    paths = write_masks(kind, n, resolution, out, seed)
    console.print(f"{len(paths)} {kind} masks of {resolution}px in {out} (white = hole)", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
