"""CIFAR-10 from its official binary version (``cifar-10-binary.tar.gz``).

The binary version is used rather than the Python one because the Python batches are pickles,
and ganzoo never unpickles downloaded files. Each record is one label byte followed by 3,072
bytes of 32x32 pixels, red plane then green then blue.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganzoo.plugin import DataError, DataInfo, datakit
from ganzoo_datasets.common import fetch_and_extract, find_layout, missing
from ganzoo_datasets.official import CIFAR10_CLASSES as CLASSES
from ganzoo_datasets.official import CIFAR10_MD5 as MD5
from ganzoo_datasets.official import CIFAR10_URL as URL

FOLDER = "cifar-10-batches-bin"
SPLITS = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
RECORD = 1 + 3 * 32 * 32
HOW = f"download {URL} (MD5 {MD5}), extract it and pass the folder holding {FOLDER}/ as --data-root"


def download(root: Path | None = None, progress=None) -> list[Path]:
    if root is not None:
        folder = _batches_folder(datakit.given_root(root, "cifar10"))
        return [folder / name for names in SPLITS.values() for name in names]
    extracted = fetch_and_extract("cifar10", URL, "cifar-10-binary.tar.gz", FOLDER, md5=MD5, progress=progress)
    return [extracted / FOLDER / name for names in SPLITS.values() for name in names]


def _batches_folder(root: Path | None) -> Path:
    def has_batches(folder: Path) -> bool:
        return all((folder / name).is_file() for names in SPLITS.values() for name in names)

    if root is None:
        found = find_layout([datakit.data_home() / "cifar10" / "extracted" / FOLDER], has_batches)
        return found or download(None)[0].parent
    found = find_layout([root, root / FOLDER], has_batches)
    if found is None:
        raise missing("cifar10", f"{FOLDER}/ with data_batch_1..5.bin and test_batch.bin", root, HOW)
    return found


def parse_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0 or data.size % RECORD:
        raise DataError(f"'{path}' is not a CIFAR-10 binary batch ({data.size} bytes is not a multiple of {RECORD})")
    records = data.reshape(-1, RECORD)
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0].astype(np.int64)


def load(root=None, resolution: int = 32, split: str = "train") -> datakit.TensorImages:
    folder = _batches_folder(datakit.given_root(root, "cifar10"))
    parts = [parse_batch(folder / name) for name in SPLITS[split]]
    images = torch.from_numpy(np.concatenate([p[0] for p in parts]))
    labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    if int(labels.max()) >= len(CLASSES):
        raise DataError(f"'{folder}' holds labels above 9: not CIFAR-10")
    images = datakit.resize_square(images, resolution)
    info = DataInfo(kind="images", channels=3, resolution=resolution, size=len(images), name="cifar10", classes=CLASSES)
    return datakit.TensorImages(images, info, labels=labels)
