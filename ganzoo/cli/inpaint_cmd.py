"""`ganzoo inpaint RUN --image PATH|DIR --mask PATH|DIR [--exemplar PATH|DIR] --out DIR ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from ganzoo.cli.output import MODEL_REFERENCES, console
from ganzoo.cli.overwrite import Overwrite
from ganzoo.outputs import Outputs

MAX_GRID_ROWS = 64


def inpaint_command(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="A run of an inpainting model (exgan); " + MODEL_REFERENCES)
    ],
    image: Annotated[Path, typer.Option("--image", help="An image file, or a folder of them (searched recursively).")],
    mask: Annotated[
        Path, typer.Option("--mask", help="Its mask (white = hole), or a folder of masks with the images' names.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for the outputs (the images' names, as PNG).")],
    exemplar: Annotated[
        Path | None,
        typer.Option(
            help="Another image of the same person or class (or a folder of them, by name); needed unless the model was trained with exemplar=none."
        ),
    ] = None,
    invert_mask: Annotated[bool, typer.Option("--invert-mask", help="Black marks the hole in these masks.")] = False,
    composite: Annotated[
        bool,
        typer.Option(
            "--composite/--no-composite",
            help="Paste only the hole into the original (default), or keep the model's whole output.",
        ),
    ] = True,
    grid: Annotated[
        Path | None, typer.Option(help="Also write a grid: masked | exemplar | output, one row per image.")
    ] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="A checkpoint file, or best; default: the newest.")] = None,
    ema: Annotated[bool, typer.Option("--ema/--no-ema", help="Use the generator's moving average.")] = True,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    overwrite: Overwrite = False,
) -> None:
    """Fill the holes of images with a trained inpainting model; any image size.

    The model runs at its resolution; only the hole is pasted back at the image's own size, so
    every pixel outside it is the input's, bitwise. Existing files are never replaced without
    --overwrite, and the inputs never."""
    import torch  # lazy: building the CLI must not import torch

    from ganzoo.inpaint import check_inputs, inpaint_file, match_files
    from ganzoo.protocols import Inpaints
    from ganzoo.training.devices import resolve_device
    from ganzoo.training.inference import load_run, require_inference
    from ganzoo.training.samples import save_grid

    loaded = load_run(run, resolve_device(device), checkpoint=checkpoint, ema=ema)
    require_inference(loaded, "inpaint")
    needs_exemplar = cast(Inpaints, loaded.model).needs_exemplar  # require_inference checked
    base, jobs = match_files(image, mask, exemplar, needs_exemplar)
    outputs = Outputs(overwrite, inputs=[loaded.run_dir.config_path, loaded.checkpoint])
    outputs.read(*[p for job in jobs for p in (job.image, job.mask, job.exemplar) if p is not None])
    outputs.folder(out, "--out")
    for job in jobs:
        job.output = outputs.file(out / job.image.relative_to(base).with_suffix(".png"))
    grid = outputs.file(grid, "--grid") if grid else None
    data = loaded.data
    for job in jobs:  # every input is decoded, and every mask checked, before anything is written
        check_inputs(job, invert_mask, data.channels)
    outputs.create_folders()  # every target is checked: nothing was written before this
    model_device = next(loaded.model.parameters()).device
    rows: list[torch.Tensor] = []
    for job in jobs:
        if job.output is None:  # every job was given its file above
            raise RuntimeError(f"no output file was chosen for '{job.image}'")
        filled, row = inpaint_file(
            loaded.model, job, data.resolution, data.channels, model_device, invert_mask, composite
        )
        job.output.parent.mkdir(parents=True, exist_ok=True)
        filled.save(job.output)
        if len(rows) < MAX_GRID_ROWS:
            rows.append(row)
    console.print(f"inpainted {len(jobs)} image(s) at {data.resolution}px into {out}", highlight=False, markup=False)
    if grid:
        save_grid(torch.cat(rows), grid, nrow=3)
        console.print(f"grid (masked | exemplar | output): {grid}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("inpaint")(inpaint_command)
