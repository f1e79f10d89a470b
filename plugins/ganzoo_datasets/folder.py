"""Any folder of images (searched recursively), centre-cropped (or letterboxed) to squares.

With ``--data-set classes=true`` each first-level subfolder is a class (``root/cat/*.jpg``,
``root/dog/*.jpg``, as torchvision's ImageFolder reads them) and batches hold ``label``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganzoo.plugin import DataError, datakit, option
from ganzoo_datasets.common import class_per_subfolder


@dataclass
class FolderOptions:
    classes: bool = option(False, "one class per first-level subfolder (batches then hold 'label')")


def load(root=None, resolution: int = 64, split: str = "train", fit: str = "crop", classes: bool = False):
    folder = datakit.given_root(root, "folder")
    if folder is None:
        raise DataError("dataset 'folder' needs --data-root: the folder of your images")
    files = datakit.find_images(folder)
    extras = class_per_subfolder("folder", folder, files) if classes and files else None
    return datakit.image_dataset(
        "folder",
        folder,
        files,
        split=split,
        resolution=resolution,
        fit=fit,
        extras=extras,
        settings={"classes": True} if classes else None,
    )
