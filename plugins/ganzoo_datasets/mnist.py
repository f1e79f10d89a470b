"""MNIST and Fashion-MNIST from their four official IDX files (gzipped or not).

``--data-root`` is a folder holding the files; without it they are looked for (and, when
missing, downloaded) in ``$GANZOO_DATA/<name>`` (default ``~/.cache/ganzoo/data/<name>``).
MNIST's checksums are of the decompressed content, so any gzip of the right bytes is accepted;
Fashion-MNIST's are those Zalando publishes for the .gz files. The IDX files are already pixel
arrays, so they are read straight into memory (47 MB) rather than into the prepared cache.
28x28 images are padded with 2 black pixels per side to 32x32 (no resampling); other
resolutions are resized from 28x28 (antialiased).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo.plugin import DataError, DataInfo, datakit
from ganzoo_datasets.official import FASHION_MNIST, MNIST, IdxTable  # noqa: F401 (tests patch mnist.MNIST)


def _official(path: Path, content: str | None, gz: str | None) -> bool:
    if gz and path.suffix == ".gz":
        return datakit.file_digest(path, "md5") == gz
    return content is None or datakit.content_md5(path) == content


def locate(
    root: Path,
    stem: str,
    content: str | None,
    gz: str | None,
    mirrors: tuple[str, ...],
    may_download: bool,
    progress=None,
) -> Path:
    """The file as ``stem`` or ``stem.gz`` in root; downloaded there if allowed and missing."""
    for candidate in (root / stem, root / f"{stem}.gz"):
        if candidate.is_file():
            if not _official(candidate, content, gz):
                raise DataError(f"'{candidate}' is not the official file (checksum mismatch)")
            return candidate
    if not may_download:
        raise DataError(f"'{root}' lacks {stem}(.gz): fetch it from {mirrors[0]}{stem}.gz and put it in {root}")
    return datakit.download(
        [m + f"{stem}.gz" for m in mirrors],
        root / f"{stem}.gz",
        verify=lambda path: _official(path, content, gz),
        progress=progress,
    )


def _downloader(name: str, table: IdxTable):
    def fetch(root: Path | None = None, progress=None) -> list[Path]:
        """Fetch (or verify, if present) every file into root (default: the cache folder)."""
        folder = Path(root).expanduser() if root else datakit.data_home() / name
        return [
            locate(folder, *entry, table["mirrors"], may_download=True, progress=progress)
            for files in table["files"].values()
            for entry in files
        ]

    return fetch


def fit_28(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 (N, 1, 28, 28) -> (N, 1, R, R): padded to 32, otherwise resized."""
    if resolution == 32:
        return F.pad(images, (2, 2, 2, 2))
    return datakit.resize_square(images, resolution)


def _loader(name: str, table: IdxTable):
    def load(root=None, resolution: int = 32, split: str = "train") -> datakit.TensorImages:
        if split not in table["files"]:
            raise DataError(f"{name} has splits {', '.join(table['files'])}, not '{split}'")
        given = root is not None
        folder = datakit.given_root(root, name) or datakit.data_home() / name
        images_entry, labels_entry = table["files"][split]
        images_path = locate(folder, *images_entry, table["mirrors"], may_download=not given)
        labels_path = locate(folder, *labels_entry, table["mirrors"], may_download=not given)
        images = datakit.parse_idx(datakit.read_bytes(images_path), str(images_path))
        labels = datakit.parse_idx(datakit.read_bytes(labels_path), str(labels_path))
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
            raise DataError(f"{images_path}: expected N 28x28 images with N labels")
        tensor = fit_28(torch.from_numpy(images.copy()).unsqueeze(1), resolution)
        info = DataInfo(
            kind="images", channels=1, resolution=resolution, size=len(tensor), name=name, classes=table["classes"]
        )
        return datakit.TensorImages(tensor, info, labels=torch.from_numpy(labels.astype("int64")))

    return load


load_mnist = _loader("mnist", MNIST)
download_mnist = _downloader("mnist", MNIST)
load_fashion_mnist = _loader("fashion-mnist", FASHION_MNIST)
download_fashion_mnist = _downloader("fashion-mnist", FASHION_MNIST)
