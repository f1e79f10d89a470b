"""Inpainting image files with a trained inpainting model (``ganzoo inpaint``).

Masks: white (above mid-grey) is the hole, unless ``--invert-mask``; a mask has its image's
size. Any image size: the image, its mask and its exemplar are resized to the model's square
resolution (the mask so that every pixel touching the hole stays a hole), filled, and the
output is resized back; only the hole is pasted into the original, so every pixel outside it
is the input's, bitwise (``--no-composite`` keeps the whole resized output instead). Images are
converted to the model's channels (greyscale or RGB) first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganzoo.data.convert import to_uint8
from ganzoo.data.images import OversizedImage, SkippedImage, find_images, open_image, same_name_file
from ganzoo.errors import DataError, GanzooError, UsageError


@dataclass
class InpaintJob:
    image: Path
    mask: Path
    exemplar: Path | None
    output: Path | None = None


def match_files(
    images: Path, masks: Path, exemplars: Path | None, needs_exemplar: bool
) -> tuple[Path, list[InpaintJob]]:
    """(the folder names are relative to, one job per image): a file with a file, or folders
    matched by relative name (the extension may differ: photo.jpg takes masks/photo.png)."""
    for flag, path in (("--image", images), ("--mask", masks), ("--exemplar", exemplars)):
        if path is not None and not path.exists():
            raise DataError(f"{flag} '{path}' does not exist")
    if needs_exemplar and exemplars is None:
        raise DataError("this model fills holes from an exemplar: give --exemplar FILE|DIR (one per image)")
    if not images.is_dir():
        return images.parent, [
            InpaintJob(
                images,
                _partner(masks, images.name, "--mask"),
                _partner(exemplars, images.name, "--exemplar") if needs_exemplar and exemplars is not None else None,
            )
        ]
    files = find_images(images)
    if not files:
        raise DataError(f"no image files under '{images}'")
    if not masks.is_dir() or (needs_exemplar and exemplars is not None and not exemplars.is_dir()):
        raise DataError("--image is a folder, so --mask (and --exemplar) must be folders of files with the same names")
    jobs, lacking = [], []
    for path in files:
        relative = path.relative_to(images)
        mask = _same_name(masks, relative)
        exemplar = _same_name(exemplars, relative) if needs_exemplar and exemplars is not None else None
        if mask is None or (needs_exemplar and exemplar is None):
            lacking.append(f"{relative} ({'mask' if mask is None else 'exemplar'})")
            continue  # reported below, with the others lacking a file
        jobs.append(InpaintJob(path, mask, exemplar))
    if lacking:
        raise DataError(
            f"{len(lacking)} image(s) have no file of the same name: {', '.join(lacking[:3])}"
            + (" ..." if len(lacking) > 3 else "")
        )
    return images, jobs


def _partner(path: Path, name: str, flag: str) -> Path:
    """A single image's mask or exemplar: the file given, or the file of its name in a folder."""
    if not path.is_dir():
        return path
    found = _same_name(path, Path(name))
    if found is None:
        raise DataError(f"{flag} folder '{path}' has no file named like '{name}'")
    return found


def _same_name(folder: Path, relative: Path) -> Path | None:
    try:
        return same_name_file(folder, relative)
    except ValueError as exc:
        raise DataError(f"{exc}: keep one") from None


def read_hole(path: Path, size: tuple[int, int], invert: bool, image: Path) -> np.ndarray:
    """The hole (bool H x W) of a mask file of the image's size; an empty hole is an error."""
    try:
        grey = np.array(open_image(path, upright=False).convert("L"))
    except SkippedImage as exc:
        raise input_error(exc, f"mask '{path}' cannot be read as an image ({exc})") from None
    if (grey.shape[1], grey.shape[0]) != size:
        raise DataError(
            f"mask '{path}' is {grey.shape[1]}x{grey.shape[0]} but its image '{image}' is "
            f"{size[0]}x{size[1]}: a mask has its image's size"
        )
    hole = (grey > 127) != invert
    if not hole.any():
        raise DataError(
            f"mask '{path}' has no hole: white (1) marks the hole"
            + ("" if invert else "; use --invert-mask if black marks it in your masks")
        )
    if hole.all():
        raise DataError(f"mask '{path}' is all hole: nothing of the image is left to inpaint from")
    return hole


def check_inputs(job: InpaintJob, invert: bool, channels: int) -> None:
    """Every file of the job decodes in full (a truncated image fails only when its pixels are
    read) and its mask fits its image and has a hole: run over all jobs before any output is
    written, so a bad later input leaves no half-done folder behind."""
    mode = "L" if channels == 1 else "RGB"
    for path in (job.image, job.exemplar):
        if path is not None:
            size = open_input(path, mode).size
            if path == job.image:
                read_hole(job.mask, size, invert, job.image)


def open_as(path: Path, mode: str) -> Image.Image:
    """The image file converted to a Pillow ``mode`` ("RGB", "L"); SkippedImage (OversizedImage
    past the pixel limit) naming the file if unreadable."""
    try:  # as stored (no EXIF turn): a mask has the size of its image's pixels as they are
        return open_image(path, upright=False).convert(mode)
    except SkippedImage as exc:
        raise type(exc)(f"cannot read '{path}': {exc}") from None


def open_input(path: Path, mode: str) -> Image.Image:
    """:func:`open_as` for a file the user named: unreadable is a ganzoo error."""
    try:
        return open_as(path, mode)
    except SkippedImage as exc:
        raise input_error(exc, str(exc)) from None


def input_error(exc: SkippedImage, message: str) -> GanzooError:
    """An image past the documented pixel limit is a value out of bounds (exit 2, as a flag out of
    its range); any other unreadable file is a data error (exit 1)."""
    return UsageError(message) if isinstance(exc, OversizedImage) else DataError(message)


@torch.no_grad()
def inpaint_file(
    model, job: InpaintJob, resolution: int, channels: int, device: torch.device, invert: bool, composite: bool = True
) -> tuple[Image.Image, torch.Tensor]:
    """(the filled image at its own size, the preview row masked | exemplar | output at the
    model's resolution, uint8 (3, C, R, R))."""
    mode = "L" if channels == 1 else "RGB"
    image = open_input(job.image, mode)
    hole = read_hole(job.mask, image.size, invert, job.image)
    square = (resolution, resolution)
    x = _model_range(image.resize(square, Image.Resampling.BICUBIC), device)
    # a pixel of the small mask is a hole if any part of it was: the hole never shrinks
    small_hole = np.array(Image.fromarray(hole.astype(np.uint8) * 255).resize(square, Image.Resampling.BILINEAR)) > 0
    m = torch.from_numpy(small_hole).float()[None, None].to(device)
    e = None
    if job.exemplar is not None:
        e = _model_range(open_input(job.exemplar, mode).resize(square, Image.Resampling.BICUBIC), device)
    filled = to_uint8(model.inpaint(x, m, e).clamp(-1, 1))[0]
    output = Image.fromarray(_hwc(filled)).resize(image.size, Image.Resampling.BICUBIC)
    original = np.array(image)
    result = np.where(_expand(hole, original), np.array(output), original) if composite else np.array(output)
    shown = torch.where(m.cpu().bool(), torch.full_like(x.cpu(), 1.0), x.cpu())  # the hole in white
    row = torch.stack([to_uint8(shown)[0], to_uint8(e)[0] if e is not None else torch.full_like(filled, 128), filled])
    return Image.fromarray(result), row


def _model_range(image: Image.Image, device: torch.device) -> torch.Tensor:
    array = np.array(image)
    array = array[..., None] if array.ndim == 2 else array
    return torch.from_numpy(array).permute(2, 0, 1)[None].float().div(127.5).sub(1.0).to(device)


def _hwc(image: torch.Tensor) -> np.ndarray:
    array = image.permute(1, 2, 0).numpy()
    return array[..., 0] if array.shape[2] == 1 else array


def _expand(hole: np.ndarray, like: np.ndarray) -> np.ndarray:
    return hole[..., None] if like.ndim == 3 else hole
