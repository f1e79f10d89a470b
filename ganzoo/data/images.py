"""Decoding user images safely: any mode to RGB, EXIF orientation, centre crop or letterbox,
antialiased resize; bad files are skipped with a reason instead of stopping the run."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
"""The file suffixes ganzoo reads as images (compared in lower case)."""
#: Pillow's guard against decompression bombs, made an error instead of a warning.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485


class SkippedImage(Exception):
    """An image that cannot be used; the message says why."""


class OversizedImage(SkippedImage):
    """An image past :data:`MAX_PIXELS` (a decompression bomb): a file given by name to a command
    is a usage error (exit 2), one found in a dataset is skipped like any unreadable file."""


def find_images(root: Path) -> list[Path]:
    """Every file below ``root`` with an image suffix, in a stable (sorted) order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def same_name_file(folder: Path, relative: Path) -> Path | None:
    """The file under ``folder`` that pairs with ``relative`` (an image's path in its own folder):
    the same relative path, or else the one image file whose name is the same up to its suffix
    (``photo.jpg`` takes ``photo.png``; names are compared literally, so ``photo[1].jpg`` never
    takes ``photo1.png`` and ``anna.jpg`` never takes ``anna.backup.png``). None when there is
    none; ValueError naming the candidates when there are several."""
    exact = folder / relative
    if exact.is_file():
        return exact
    parent = folder / relative.parent
    if not parent.is_dir():
        return None
    found = sorted(
        p for p in parent.iterdir() if p.is_file() and p.stem == relative.stem and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if len(found) > 1:
        raise ValueError(
            f"{len(found)} files in '{parent}' are named like '{relative.name}': {', '.join(p.name for p in found)}"
        )
    return found[0] if found else None


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """Greyscale, palette, 16-bit and RGBA images to 8-bit RGB (transparency onto ``background``)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if array.max() > 255 else 255.0
        image = Image.fromarray((array / peak * 255).round().clip(0, 255).astype(np.uint8), "L")
    if image.mode in ("P", "LA", "PA") or (image.mode != "RGBA" and "transparency" in image.info):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        canvas = Image.new("RGB", image.size, background)
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB")


def open_image(path: Path, upright: bool = True) -> Image.Image:
    """A file decoded in full, turned upright by its EXIF orientation unless not ``upright``;
    SkippedImage with the reason when it is empty, not an image, truncated, or larger than
    ``MAX_PIXELS`` (Pillow's decompression-bomb limit, made an error for every reader)."""
    if path.stat().st_size == 0:
        raise SkippedImage("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise OversizedImage(
                        f"{image.width}x{image.height} pixels is over the limit of {MAX_PIXELS:,} pixels"
                    )
                image.load()
                return ImageOps.exif_transpose(image) if upright else image.copy()
    except SkippedImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # raised by Image.open
        raise OversizedImage(f"decompression bomb: over the limit of {MAX_PIXELS:,} pixels ({exc})") from None
    except (OSError, ValueError, SyntaxError) as exc:  # not an image, truncated, corrupt
        raise SkippedImage(str(exc).splitlines()[0] or type(exc).__name__) from None


def open_rgb(path: Path, background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """A file as an upright 8-bit RGB image; raises SkippedImage with the reason it cannot be."""
    return to_rgb(open_image(path), background)


def fit_square(image: Image.Image, resolution: int, fit: str = "crop", crop: int | None = None) -> np.ndarray:
    """uint8 (resolution, resolution, 3): the centre ``crop`` x ``crop`` box first if given, then
    a centre crop (``fit="crop"``) or a black letterbox (``"pad"``) to a square, antialiased."""
    if crop:
        left, top = (image.width - crop) // 2, (image.height - crop) // 2
        image = image.crop((left, top, left + crop, top + crop))
    if fit == "pad":
        image = ImageOps.pad(image, (resolution, resolution), method=Image.Resampling.LANCZOS, color=(0, 0, 0))
    else:
        image = ImageOps.fit(image, (resolution, resolution), method=Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def load_square(
    path: Path,
    resolution: int,
    fit: str = "crop",
    crop: int | None = None,
    background: tuple[int, int, int] = (0, 0, 0),
) -> np.ndarray:
    """uint8 (resolution, resolution, 3) from an image file; raises SkippedImage with a reason."""
    return fit_square(open_rgb(path, background), resolution, fit, crop)


def load_image(
    path: Path,
    resolution: int,
    fit: str = "crop",
    crop: int | None = None,
    background: tuple[int, int, int] = (0, 0, 0),
    key: str = "image",
) -> dict[str, np.ndarray]:
    """``load_square`` keyed for the prepared cache (a picklable decoder with functools.partial)."""
    return {key: load_square(path, resolution, fit, crop, background)}


def load_side_by_side(path: Path, resolution: int) -> dict[str, np.ndarray]:
    """A Pix2Pix ``AB`` image: the left half is A, the right half B, each resized to a square."""
    image = open_rgb(path)
    if image.width < 2 * image.height * 0.9:
        raise SkippedImage(f"{image.width}x{image.height} is not two square images side by side")
    half = image.width // 2
    return {
        "A": fit_square(image.crop((0, 0, half, image.height)), resolution),
        "B": fit_square(image.crop((half, 0, 2 * half, image.height)), resolution),
    }


def report_skipped(skipped: list[tuple[Path, str]], total: int, shown: int = 3) -> None:
    """One warning line for all skipped files, naming the first few and why."""
    if not skipped:
        return
    first = "; ".join(f"{path.name}: {reason}" for path, reason in skipped[:shown])
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    print(
        f"ganzoo: warning: skipped {len(skipped)} of {total} files that are not usable images ({first}{more})",
        file=sys.stderr,
    )
