"""Any folder of images (searched recursively), centre-cropped (or letterboxed) to squares.

With ``--data-set classes=true`` each first-level subfolder is a class (``root/cat/*.jpg``,
``root/dog/*.jpg``, as torchvision's ImageFolder reads them) and batches hold ``label``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganzoo.data.images import find_images
from ganzoo.data.prepare import image_dataset
from ganzoo.errors import DataError
from ganzoo.options import option
from ganzoo_datasets.common import class_per_subfolder, given_root


@dataclass
class FolderOptions:
    classes: bool = option(False, "one class per first-level subfolder (batches then hold 'label')")


def load(root=None, resolution: int = 64, split: str = "train", fit: str = "crop", classes: bool = False):
    folder = given_root(root, "folder")
    if folder is None:
        raise DataError("dataset 'folder' needs --data-root: the folder of your images")
    files = find_images(folder)
    extras = class_per_subfolder("folder", folder, files) if classes and files else None
    return image_dataset("folder", folder, files, split=split, resolution=resolution, fit=fit, extras=extras,
                         settings={"classes": True} if classes else None)
