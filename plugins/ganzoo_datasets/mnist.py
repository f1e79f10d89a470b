"""MNIST from its four official IDX files (gzipped or not).

``--data-root`` is a folder holding the files; without it they are looked for (and, when
missing, downloaded) in ``$GANZOO_DATA/<name>`` (default ``~/.cache/ganzoo/data/<name>``).
Checksums are of the decompressed content, so any gzip of the right bytes is accepted.
28x28 images are padded with 2 black pixels per side to 32x32 (no resampling); other
resolutions are resized from 28x28 (antialiased).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo.data import TensorImages
from ganzoo.data.download import download
from ganzoo.data.idx import content_md5, parse_idx, read_bytes
from ganzoo.errors import DataError
from ganzoo.protocols import DataInfo

MNIST = {
    "mirrors": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "files": {
        "train": (("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"),
                  ("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624")),
        "test": (("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"),
                 ("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637")),
    },
}
def default_root(name: str) -> Path:
    return Path(os.environ.get("GANZOO_DATA", Path.home() / ".cache" / "ganzoo" / "data")) / name


def locate(root: Path, stem: str, md5: str, mirrors: tuple[str, ...], may_download: bool,
           progress=None) -> Path:
    """The file as ``stem`` or ``stem.gz`` in root; downloaded there if allowed and missing."""
    for candidate in (root / stem, root / f"{stem}.gz"):
        if candidate.is_file():
            if content_md5(candidate) != md5:
                raise DataError(f"'{candidate}' is not the official file (checksum mismatch)")
            return candidate
    if not may_download:
        raise DataError(f"'{root}' lacks {stem}(.gz): fetch it from {mirrors[0]}{stem}.gz and put it in {root}")
    return download([m + f"{stem}.gz" for m in mirrors], root / f"{stem}.gz",
                    verify=lambda path: content_md5(path) == md5, progress=progress)


def download_mnist(root: Path | None = None, progress=None) -> list[Path]:
    """Fetch (or verify, if present) all four files into root (default: the cache folder)."""
    folder = Path(root).expanduser() if root else default_root("mnist")
    return [locate(folder, stem, md5, MNIST["mirrors"], may_download=True, progress=progress)
            for files in MNIST["files"].values() for stem, md5 in files]


def fit_28(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 (N, 1, 28, 28) -> (N, 1, R, R): padded to 32, otherwise resized."""
    if resolution == 32:
        return F.pad(images, (2, 2, 2, 2))
    resized = F.interpolate(images.float(), size=(resolution, resolution), mode="bilinear",
                            align_corners=False, antialias=True)
    return resized.round().clamp(0, 255).to(torch.uint8)


def _loader(name: str, table: dict):
    def load(root=None, resolution: int = 32, split: str = "train") -> TensorImages:
        if split not in table["files"]:
            raise DataError(f"{name} has splits {', '.join(table['files'])}, not '{split}'")
        given = root is not None
        folder = Path(root).expanduser() if given else default_root(name)
        if given and not folder.is_dir():
            raise DataError(f"--data-root '{folder}' is not a folder")
        (images_stem, images_md5), (labels_stem, labels_md5) = table["files"][split]
        images_path = locate(folder, images_stem, images_md5, table["mirrors"], may_download=not given)
        labels_path = locate(folder, labels_stem, labels_md5, table["mirrors"], may_download=not given)
        images = parse_idx(read_bytes(images_path), str(images_path))
        labels = parse_idx(read_bytes(labels_path), str(labels_path))
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
            raise DataError(f"{images_path}: expected N 28x28 images with N labels")
        tensor = fit_28(torch.from_numpy(images.copy()).unsqueeze(1), resolution)
        info = DataInfo(kind="images", channels=1, resolution=resolution, size=len(tensor), name=name)
        return TensorImages(tensor, info, labels=torch.from_numpy(labels.astype("int64")))

    return load


load_mnist = _loader("mnist", MNIST)
