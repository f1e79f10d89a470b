"""`ganzoo translate RUN --input FILE|DIR --out DIR [--direction a2b|b2a] [--compare FILE] [--overwrite]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from ganzoo.cli.output import MODEL_REFERENCES, console
from ganzoo.cli.overwrite import Overwrite
from ganzoo.errors import DataError, UsageError
from ganzoo.outputs import Outputs


def translate_command(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="A run of a translation model (pix2pix, cyclegan); " + MODEL_REFERENCES)
    ],
    input: Annotated[Path, typer.Option("--input", help="An image file, or a folder of them (searched recursively).")],
    out: Annotated[Path, typer.Option(help="Folder for the outputs (same relative names as the inputs).")],
    direction: Annotated[str | None, typer.Option(help="a2b or b2a (default: the model's first direction).")] = None,
    compare: Annotated[Path | None, typer.Option(help="Also write a strip: inputs on top, outputs below.")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="A checkpoint file, or best; default: the newest.")] = None,
    ema: Annotated[bool, typer.Option("--ema/--no-ema", help="Use the generators' moving average.")] = True,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    overwrite: Overwrite = False,
) -> None:
    """Translate images with a trained translation model; any size, one output per input.

    Each image is resized to the model's resolution, translated and resized back to its own
    size; greyscale and transparent images are converted to RGB. Existing files are never
    replaced without --overwrite, and the inputs never."""
    from ganzoo.data.images import report_skipped  # lazy: building the CLI must not import torch
    from ganzoo.protocols import Translates
    from ganzoo.training.devices import resolve_device
    from ganzoo.training.inference import load_run, require_inference
    from ganzoo.translate import comparison_strip, input_files, plan_outputs, translate_files

    if not input.exists():
        raise DataError(f"--input '{input}' does not exist")
    if direction not in (None, "a2b", "b2a"):
        raise UsageError(f"--direction must be a2b or b2a, not '{direction}'")
    base, files = input_files(input, out)
    if not files:
        raise DataError(f"no image files under '{input}'")
    loaded = load_run(run, resolve_device(device), checkpoint=checkpoint, ema=ema)
    require_inference(loaded, "translate")
    outputs = Outputs(overwrite, inputs=[loaded.run_dir.config_path, loaded.checkpoint])
    jobs = plan_outputs(outputs, files, base, out)
    compare = outputs.file(compare, "--compare") if compare else None
    outputs.create_folders()  # every target is checked: nothing was written before this
    direction = direction or cast(Translates, loaded.model).directions[0]  # its default (require_inference checked)
    resolution = loaded.config["data"]["resolution"]
    pairs, skipped = translate_files(loaded.model, jobs, resolution, direction, next(loaded.model.parameters()).device)
    report_skipped(skipped, len(files))
    if not pairs:
        raise DataError(f"none of the {len(files)} input files could be read")
    console.print(
        f"translated {len(pairs)} image(s) {direction} at {resolution}px into {out}", highlight=False, markup=False
    )
    if compare:
        console.print(f"comparison: {comparison_strip(pairs, compare)}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("translate")(translate_command)
