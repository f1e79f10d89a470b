"""Anime faces, in either of the two layouts people download:

- the Anime-Face-Dataset (~63,600 JPEG faces of 90x90 to 120x120 px, one folder ``images/``);
- nagadomi's animeface-character-dataset (``thumb/<id>_<character>/*.png``), whose character
  folders become classes (batches hold ``label``; the Anime-Face-Dataset has none).

``--data-set layout=auto`` (the default) recognises which one ``--data-root`` holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganzoo.plugin import DataError, datakit, option
from ganzoo_datasets.common import class_per_subfolder, fetch_and_extract

CHARACTER_URL = "http://www.nurs.or.jp/~nagadomi/animeface-character-dataset/data/animeface-character-dataset.zip"
FACES_PAGE = "https://github.com/bchao1/Anime-Face-Dataset"
LAYOUTS = ("auto", "anime-face", "animeface-character")
HOW = (
    f"get the Anime-Face-Dataset from {FACES_PAGE} (or Kaggle's 'animefacedataset') and pass the folder "
    f"holding images/ as --data-root, or the animeface-character-dataset from {CHARACTER_URL}"
)


@dataclass
class AnimeOptions:
    layout: str = option("auto", "which dataset --data-root holds", choices=LAYOUTS)


def download(root: Path | None = None, progress=None) -> list[Path]:
    """The character dataset has a direct URL; the Anime-Face-Dataset is on Google Drive/Kaggle."""
    given = datakit.given_root(root, "anime")
    if given is not None:
        return [_detect(given, "auto")[1]]
    extracted = fetch_and_extract(
        "anime", CHARACTER_URL, "animeface-character-dataset.zip", "animeface-character-dataset", progress=progress
    )
    return [extracted / "animeface-character-dataset"]


def _detect(root: Path, layout: str) -> tuple[str, Path]:
    """(layout, folder of images)."""
    for base in (root, root / "animeface-character-dataset"):
        if layout in ("auto", "animeface-character") and (base / "thumb").is_dir():
            return "animeface-character", base / "thumb"
    for base in (root / "images", root / "data", root):
        if layout in ("auto", "anime-face") and base.is_dir() and any(base.glob("*.jpg")):
            return "anime-face", base
    raise DataError(
        f"'{root}' holds neither anime layout ({'thumb/' if layout != 'anime-face' else 'images/*.jpg'} "
        f"not found): {HOW}"
    )


def load(root=None, resolution: int = 64, split: str = "train", fit: str = "crop", layout: str = "auto"):
    folder = datakit.given_root(root, "anime")
    if folder is None:
        cached = datakit.data_home() / "anime" / "extracted"
        if not cached.is_dir():
            download(None)
        folder = cached
    found, images_folder = _detect(folder, layout)
    files = datakit.find_images(images_folder)
    extras = class_per_subfolder("anime", images_folder, files) if found == "animeface-character" and files else None
    return datakit.image_dataset(
        "anime",
        images_folder,
        files,
        split=split,
        resolution=resolution,
        fit=fit,
        extras=extras,
        settings={"layout": found},
    )
