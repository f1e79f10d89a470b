"""Any folder of images (searched recursively), centre-cropped (or letterboxed) to squares."""

from __future__ import annotations

from ganzoo.data.images import find_images
from ganzoo.errors import DataError
from ganzoo_datasets.common import given_root, image_dataset


def load(root=None, resolution: int = 64, split: str = "train", fit: str = "crop"):
    folder = given_root(root, "folder")
    if folder is None:
        raise DataError("dataset 'folder' needs --data-root: the folder of your images")
    return image_dataset("folder", folder, find_images(folder), split=split, resolution=resolution, fit=fit)
