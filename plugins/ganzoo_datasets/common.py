"""What the dataset loaders share: where a dataset's files are, fetching and extracting them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo.data.archives import extract
from ganzoo.data.cache import data_home
from ganzoo.data.download import download
from ganzoo.errors import DataError


def given_root(root, name: str) -> Path | None:
    """``--data-root`` as a Path (it must be a folder), or None when not given."""
    if root is None:
        return None
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DataError(f"--data-root '{folder}' is not a folder (dataset '{name}')")
    return folder


def find_layout(candidates: Sequence[Path], test: Callable[[Path], bool]) -> Path | None:
    """The first candidate folder that passes ``test``."""
    return next((folder for folder in candidates if folder.is_dir() and test(folder)), None)


def fetch_and_extract(name: str, url: str, archive_name: str, folder_name: str, *, md5: str | None = None,
                      progress=None, mirrors: Sequence[str] = ()) -> Path:
    """Download ``url`` to ``$GANZOO_DATA/name/archive_name`` (verified, resumable) and extract it
    there; returns the extracted folder holding ``folder_name``."""
    home = data_home() / name
    extracted = home / "extracted"
    if (extracted / folder_name).exists():
        return extracted
    archive = download([url, *mirrors], home / archive_name, md5=md5, progress=progress)
    extract(archive, extracted)
    if not (extracted / folder_name).exists():
        raise DataError(f"'{archive}' does not hold '{folder_name}': it is not the official archive "
                        f"(delete {archive} and {extracted} and download again)")
    return extracted


def missing(name: str, what: str, where: Path | None, how: str) -> DataError:
    """The error for a dataset whose files are not where they should be."""
    place = f"'{where}' does not hold {what}" if where else f"{name} is not downloaded"
    return DataError(f"{place}: {how}")


def resize_square(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 (N, C, S, S) -> (N, C, R, R), antialiased when shrinking."""
    if images.shape[-1] == resolution:
        return images
    resized = F.interpolate(images.float(), size=(resolution, resolution), mode="bilinear",
                            align_corners=False, antialias=resolution < images.shape[-1])
    return resized.round().clamp(0, 255).to(torch.uint8)


def image_dataset(name: str, root: Path, files: list[Path], *, split: str, resolution: int, fit: str = "crop",
                  crop: int | None = None, background: tuple[int, int, int] = (0, 0, 0), settings: dict | None = None,
                  extras=None, labels_key: str | None = None):
    """A dataset of single images from ``files`` (under ``root``), through the prepared cache."""
    from functools import partial

    from ganzoo.data import TensorImages
    from ganzoo.data.images import load_image
    from ganzoo.data.prepare import attach, named, prepare_files
    from ganzoo.protocols import DataInfo

    if not files:
        raise DataError(f"no image files (png, jpg, bmp, gif, webp, tif) under '{root}' (dataset '{name}')")
    decoder = partial(load_image, resolution=resolution, fit=fit, crop=crop, background=background)
    key = {"split": split, "resolution": resolution, "fit": fit, "crop": crop, "background": background,
           **(settings or {})}
    prepared = prepare_files(name, root, {"image": named(root, files)}, {"image": decoder}, key,
                             sources=files, extras=extras)
    images = prepared.arrays["image"]
    labels = prepared.extras.get(labels_key) if labels_key else None
    info = DataInfo(kind="images", channels=3, resolution=resolution, size=len(images), name=name)
    data = TensorImages(images, info, labels=torch.from_numpy(labels) if labels is not None else None)
    return attach(data, prepared)
