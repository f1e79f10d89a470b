"""Any folder of images (searched recursively), centre-cropped (or letterboxed) to squares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganzoo.data import TensorImages
from ganzoo.data.images import SkippedImage, find_images, load_square, report_skipped
from ganzoo.errors import DataError
from ganzoo.protocols import DataInfo


def load(root=None, resolution: int = 64, split: str = "train", fit: str = "crop") -> TensorImages:
    if root is None:
        raise DataError("dataset 'folder' needs --data-root: the folder of your images")
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DataError(f"--data-root '{folder}' is not a folder")
    files = find_images(folder)
    if not files:
        raise DataError(f"no image files (png, jpg, bmp, gif, webp, tif) under '{folder}'")
    arrays, skipped = [], []
    for path in files:
        try:
            arrays.append(load_square(path, resolution, fit))
        except SkippedImage as exc:
            skipped.append((path.relative_to(folder), str(exc)))
    report_skipped(skipped, len(files))
    if not arrays:
        raise DataError(f"none of the {len(files)} image files under '{folder}' could be read")
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    info = DataInfo(kind="images", channels=3, resolution=resolution, size=len(images), name="folder")
    return TensorImages(images, info)
