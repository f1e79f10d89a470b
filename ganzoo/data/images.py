"""Decoding user images safely: any mode to RGB, EXIF orientation, centre crop or letterbox,
antialiased resize; bad files are skipped with a reason instead of stopping the run."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
#: Pillow's guard against decompression bombs, made an error instead of a warning.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485


class SkippedImage(Exception):
    """An image that cannot be used; the message says why."""


def find_images(root: Path) -> list[Path]:
    """Every file below ``root`` with an image suffix, in a stable (sorted) order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def to_rgb(image: Image.Image) -> Image.Image:
    """Greyscale, palette, 16-bit and RGBA images to 8-bit RGB (transparency onto black)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if array.max() > 255 else 255.0
        image = Image.fromarray((array / peak * 255).round().clip(0, 255).astype(np.uint8), "L")
    if image.mode in ("P", "LA", "PA"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (0, 0, 0))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def load_square(path: Path, resolution: int, fit: str = "crop") -> np.ndarray:
    """uint8 (resolution, resolution, 3) from an image file; raises SkippedImage with a reason."""
    if path.stat().st_size == 0:
        raise SkippedImage("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise SkippedImage(f"{image.width}x{image.height} pixels is over the decompression limit")
                image.load()
                image = ImageOps.exif_transpose(image)
                image = to_rgb(image)
    except SkippedImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SkippedImage(f"decompression bomb ({exc})") from None
    except (OSError, ValueError, SyntaxError) as exc:  # not an image, truncated, corrupt
        raise SkippedImage(str(exc).splitlines()[0] or type(exc).__name__) from None
    if fit == "pad":
        image = ImageOps.pad(image, (resolution, resolution), method=Image.Resampling.LANCZOS, color=(0, 0, 0))
    else:
        image = ImageOps.fit(image, (resolution, resolution), method=Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def report_skipped(skipped: list[tuple[Path, str]], total: int, shown: int = 3) -> None:
    """One warning line for all skipped files, naming the first few and why."""
    if not skipped:
        return
    first = "; ".join(f"{path.name}: {reason}" for path, reason in skipped[:shown])
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    print(f"ganzoo: warning: skipped {len(skipped)} of {total} files that are not usable images ({first}{more})",
          file=sys.stderr)
