"""`ganzoo interpolate RUN --out walk.gif [--steps N] [--seed N] [--overwrite]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ganzoo.cli.output import MODEL_REFERENCES, console
from ganzoo.cli.overwrite import Overwrite
from ganzoo.cli.seed import seed_option
from ganzoo.outputs import Outputs


def interpolate_command(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="A run folder of a model that samples from noise; " + MODEL_REFERENCES)
    ],
    out: Annotated[
        Path, typer.Option(help="The animated GIF to write; a PNG strip goes beside it (NAME-strip.png).")
    ] = Path("walk.gif"),
    steps: Annotated[int, typer.Option(min=2, help="Frames between two consecutive anchor codes.")] = 16,
    points: Annotated[int, typer.Option(min=2, help="Anchor codes each walk visits (it returns to the first).")] = 4,
    n: Annotated[int, typer.Option("--n", min=1, help="Walks shown side by side.")] = 8,
    seed: Annotated[int, seed_option("Seed of the anchor codes.")] = 0,
    class_: Annotated[
        str | None,
        typer.Option(
            "--class",
            metavar="NAME|INDEX",
            help="Conditional models: every walk shows this class (default: "
            "each walk keeps one condition drawn like the training data's).",
        ),
    ] = None,
    ema: Annotated[bool, typer.Option("--ema/--no-ema", help="Use the generator's moving average.")] = True,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    checkpoint: Annotated[Path | None, typer.Option(help="A checkpoint file (default: the run's latest).")] = None,
    overwrite: Overwrite = False,
) -> None:
    """Walk the latent space along great circles (slerp): a looping GIF, and a PNG strip with one
    row per walk showing its first leg (walk.gif -> walk-strip.png)."""
    import torch  # lazy: building the CLI must not import torch
    from torchvision.utils import make_grid

    from ganzoo.training.artifacts import tensor_to_pil, write_gif
    from ganzoo.training.devices import resolve_device
    from ganzoo.training.inference import class_choices, load_run, require_inference
    from ganzoo.training.latents import slerp
    from ganzoo.training.samples import draw_codes, sample_images, save_png

    loaded = load_run(run, resolve_device(device), checkpoint=checkpoint, ema=ema)
    require_inference(loaded, "sample")
    model, model_device = loaded.model, next(loaded.model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    choices = class_choices(loaded, [class_] if class_ else None)
    outputs = Outputs(overwrite, inputs=[loaded.run_dir.config_path, loaded.checkpoint])
    gif = outputs.file(out, "--out")
    strip_path = outputs.file(out.with_name(f"{out.stem}-strip.png"))
    outputs.create_folders()  # both targets are checked: nothing was written before this
    anchors, _ = draw_codes(model, points * n, generator)
    anchors = anchors.unflatten(0, (points, n))
    _, labels = draw_codes(model, n, generator, choices)  # one condition per walk, kept along it
    frames = []  # uint8 (n, C, H, W) per frame
    for leg in range(points):
        start, end = anchors[leg], anchors[(leg + 1) % points]
        frames += [
            sample_images(model, slerp(start, end, step / steps), model_device, labels=labels) for step in range(steps)
        ]

    write_gif([tensor_to_pil(make_grid(f, nrow=n, padding=2, pad_value=255)) for f in frames], gif, [80] * len(frames))
    first_leg = torch.stack(frames[:steps], dim=1).flatten(0, 1)  # walk-major: row w = walk w
    save_png(make_grid(first_leg, nrow=steps, padding=2, pad_value=255), strip_path)
    console.print(f"{len(frames)} frames: {gif}; strip: {strip_path}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("interpolate")(interpolate_command)
