"""Translating image files with a trained translation model (``ganzoo translate``).

Any input size: each image is resized (Lanczos, aspect ratio not kept) to the model's square
resolution, translated, and the output resized back to the input's width and height
(bicubic). Fine detail is therefore limited by the training resolution. Greyscale, palette and
transparent images are converted to RGB first (transparency onto black)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganzoo.data.convert import to_uint8
from ganzoo.data.images import SkippedImage, find_images, open_rgb
from ganzoo.outputs import Outputs


def input_files(source: Path, out: Path | None = None) -> tuple[Path, list[Path]]:
    """(the folder names are relative to, the image files). When ``out`` lies inside the source
    folder, the files under it are left out: they are earlier outputs, not inputs."""
    if not source.is_dir():
        return source.parent, [source]
    files = find_images(source)
    inner = out.resolve() if out is not None else None
    if inner is not None and inner != source.resolve() and inner.is_relative_to(source.resolve()):
        files = [path for path in files if not (source.resolve() / path.relative_to(source)).is_relative_to(inner)]
    return source, files


def plan_outputs(outputs: Outputs, files: list[Path], base: Path, out: Path) -> list[tuple[Path, Path]]:
    """(input, output) per file: the same relative name under ``out``, checked by ``outputs``."""
    outputs.read(*files)
    outputs.folder(out, "--out")
    return [(path, outputs.file(out / path.relative_to(base))) for path in files]


@torch.no_grad()
def translate_image(model, image: Image.Image, resolution: int, direction: str, device: torch.device) -> Image.Image:
    square = image.resize((resolution, resolution), Image.Resampling.LANCZOS)
    x = torch.from_numpy(np.array(square)).permute(2, 0, 1).unsqueeze(0).float().div(127.5).sub(1.0).to(device)
    y = to_uint8(model.translate(x, direction).clamp(-1, 1))[0]
    output = Image.fromarray(y.permute(1, 2, 0).numpy())
    return output.resize(image.size, Image.Resampling.BICUBIC) if image.size != output.size else output


def translate_files(
    model, jobs: list[tuple[Path, Path]], resolution: int, direction: str, device: torch.device
) -> tuple[list[tuple[Image.Image, Image.Image]], list[tuple[Path, str]]]:
    """Write each (input, output) job planned by :func:`plan_outputs` (folders made already);
    returns the image pairs at model resolution for a comparison strip, and the skipped files."""
    pairs, skipped = [], []
    for path, target in jobs:
        try:
            image = open_rgb(path)
        except SkippedImage as exc:
            skipped.append((path, str(exc)))
            continue
        result = translate_image(model, image, resolution, direction, device)
        result.save(target)
        size = (resolution, resolution)
        pairs.append((image.resize(size, Image.Resampling.LANCZOS), result.resize(size, Image.Resampling.LANCZOS)))
    return pairs, skipped


def comparison_strip(pairs: list[tuple[Image.Image, Image.Image]], path: Path, limit: int = 16) -> Path:
    """Inputs on the top row, their outputs below (at most ``limit`` columns)."""
    pairs = pairs[:limit]
    side = pairs[0][0].width
    strip = Image.new("RGB", (side * len(pairs), side * 2), "white")
    for column, (source, output) in enumerate(pairs):
        strip.paste(source, (column * side, 0))
        strip.paste(output, (column * side, side))
    strip.save(path)
    return path
