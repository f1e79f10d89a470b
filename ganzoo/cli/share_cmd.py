"""`ganzoo push RUN REPO_ID`, `ganzoo pull REPO_ID[@REVISION]` and `ganzoo export RUN --format onnx`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ganzoo.cli.output import MODEL_REFERENCES, console
from ganzoo.errors import UsageError


def push_command(
    run: Annotated[str, typer.Argument(metavar="RUN", help="A run folder made by `ganzoo train`.")],
    repo_id: Annotated[str, typer.Argument(help="The Hub repository, OWNER/NAME (created when missing).")],
    private: Annotated[bool, typer.Option("--private", help="Create the repository private.")] = False,
    with_discriminator: Annotated[
        bool, typer.Option("--with-discriminator", help="Upload the discriminator(s) too (to fine-tune).")
    ] = False,
    checkpoint: Annotated[
        Path | None, typer.Option(help="A checkpoint file, or best (kept by --eval-every); default: the newest.")
    ] = None,
) -> None:
    """Upload a run to the Hugging Face Hub as a shared model: the generator's weights (its
    moving average where the run keeps one) as model.safetensors, config.json, the run's settings
    as ganzoo.toml, metrics.json, a sample grid and a model card. Needs `pip install 'ganzoo[hub]'`
    and a token (`hf auth login`, or HF_TOKEN)."""
    from ganzoo.sharing.hub import push  # lazy: building the CLI must not import torch

    url = push(run, repo_id, private=private, with_discriminator=with_discriminator, checkpoint=checkpoint)
    console.print(f"pushed: {url}", highlight=False, markup=False)
    console.print(f"use it: ganzoo generate hf://{repo_id} --n 64 --grid samples.png", highlight=False, markup=False)


def pull_command(
    reference: Annotated[str, typer.Argument(metavar="REPO_ID[@REVISION]", help="The Hub repository to download.")],
) -> None:
    """Download a shared model from the Hugging Face Hub into the Hub's cache; `hf://REPO_ID`
    then works wherever a run goes (generate, translate, inpaint, eval, interpolate, export)."""
    import torch  # lazy: building the CLI must not import torch

    from ganzoo.shared_models import HUB_PREFIX, resolve_reference
    from ganzoo.training.inference import load_run

    reference = reference.removeprefix(HUB_PREFIX)
    folder = resolve_reference(HUB_PREFIX + reference)
    loaded = load_run(folder, torch.device("cpu"))  # checks the weights, and that the plugin is installed
    console.print(f"{loaded.model_entry.name} model in {folder}", highlight=False, markup=False)


def export_command(
    run: Annotated[str, typer.Argument(metavar="RUN", help="A run folder; " + MODEL_REFERENCES)],
    format: Annotated[str, typer.Option("--format", help="The only format: onnx.")] = "onnx",
    out: Annotated[Path | None, typer.Option(help="The file to write (default: generator.onnx).")] = None,
    direction: Annotated[str | None, typer.Option(help="Translation models: a2b or b2a (default: a2b).")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="A checkpoint file (default: the newest).")] = None,
    ema: Annotated[bool, typer.Option("--ema/--no-ema", help="The generator's moving average, if any.")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists.")] = False,
) -> None:
    """Export the generator to ONNX (noise [and labels] in, images in [-1, 1] out; translation:
    images in and out), with a dynamic batch size, and check it at once: onnxruntime must match
    PyTorch within 1e-4 on fixed inputs, or the command fails with the figure. Needs
    `pip install 'ganzoo[onnx]'`."""
    import torch  # lazy: building the CLI must not import torch

    from ganzoo.sharing.onnx_export import TOLERANCE, export_onnx
    from ganzoo.training.inference import load_run

    if format != "onnx":
        raise UsageError(f"--format must be onnx, not '{format}'")
    out = out or Path("generator.onnx")
    if out.exists() and not overwrite:
        raise UsageError(f"'{out}' exists: give another --out, or --overwrite")
    loaded = load_run(run, torch.device("cpu"), checkpoint=checkpoint, ema=ema)
    exported = export_onnx(loaded, out, direction)
    console.print(
        f"{exported.path}: inputs {', '.join(exported.inputs)} -> {exported.output}; onnxruntime matches PyTorch "
        f"within {exported.max_difference:.2g} (tolerance {TOLERANCE:g})",
        highlight=False,
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("push")(push_command)
    app.command("pull")(pull_command)
    app.command("export")(export_command)
