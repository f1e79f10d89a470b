"""Google's Cartoon Set: 500x500 PNG avatars with transparent backgrounds, each with a CSV of
its 18 attribute choices (lines ``"eye_angle", 2, 3``: name, chosen variant, variant count).
Batches hold ``attributes``: every categorical attribute one-hot (``eye_angle=0`` ...
``eye_angle=2``, ...), so K is the sum of the variant counts.

``cartoonset`` is the 10k set (one folder), ``cartoonset100k`` the 100k set (ten folders of
10k). The transparent background is composited onto ``--data-set background=COLOUR`` (a CSS
name or #rrggbb; white by default) before resizing, so edges stay clean.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ImageColor

from ganzoo.plugin import DataError, UsageError, datakit, option
from ganzoo_datasets.common import fetch_and_extract, find_layout, missing

BASE = "https://storage.googleapis.com/cartoonset_public_files/"
VARIANTS = {"cartoonset": "cartoonset10k", "cartoonset100k": "cartoonset100k"}


@dataclass
class CartoonOptions:
    background: str = option("white", "colour the transparent background is composited onto (name or #rrggbb)")
    crop: int = option(0, "side of the centre box cut before resizing (0: the whole 500x500 image)", min=0, max=500)


def read_attributes(csv_path: Path) -> tuple[list[tuple[str, int]], np.ndarray]:
    """([(attribute, variant count), ...], chosen variant of each) from one avatar's CSV."""
    attributes, chosen = [], []
    try:
        with open(csv_path, newline="") as handle:
            for row in csv.reader(handle, skipinitialspace=True):
                if len(row) >= 3:
                    attributes.append((row[0], int(row[2])))
                    chosen.append(int(row[1]))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the attributes of '{csv_path}' (lines \"name\", variant, count): {exc}") from None
    return attributes, np.array(chosen, dtype=np.int64)


def one_hot(folder: Path, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The avatars' (``names``, at least one) categorical attributes one-hot: 0/1 ``(N, sum of
    variant counts)`` and the column names (``hair=42``). Every CSV must list the same attributes
    and counts."""
    layout, rows = None, []
    for relative in names:
        csv_path = (folder / relative).with_suffix(".csv")
        attributes, chosen = read_attributes(csv_path)
        if layout is None:
            layout, counts = attributes, np.array([count for _, count in attributes], dtype=np.int64)
        if attributes != layout or not ((chosen >= 0) & (chosen < counts)).all():
            raise DataError(
                f"'{csv_path}' does not list the attributes and variant counts of the other CSVs "
                "(or chooses a variant outside its count)"
            )
        rows.append(chosen)
    if layout is None:
        raise ValueError("one_hot needs at least one avatar's name")
    offsets = np.cumsum(counts) - counts
    values = np.zeros((len(rows), int(counts.sum())), dtype=np.uint8)
    values[np.arange(len(rows))[:, None], offsets + np.stack(rows)] = 1
    return values, [f"{name}={variant}" for name, count in layout for variant in range(count)]


def _downloader(name: str):
    folder = VARIANTS[name]

    def download(root: Path | None = None, progress=None) -> list[Path]:
        if root is not None:
            return [_source_folder(name, datakit.given_root(root, name))]
        extracted = fetch_and_extract(name, f"{BASE}{folder}.tgz", f"{folder}.tgz", folder, progress=progress)
        return [extracted / folder]

    return download


def _source_folder(name: str, root: Path | None) -> Path:
    folder = VARIANTS[name]

    def has_pngs(candidate: Path) -> bool:
        return any(candidate.glob("*.png")) or any(candidate.glob("*/*.png"))

    bases = [root] if root else [datakit.data_home() / name / "extracted"]
    found = find_layout([c for base in bases for c in (base / folder, base)], has_pngs)
    if found is None:
        how = (
            f"download {BASE}{folder}.tgz (from https://google.github.io/cartoonset/), extract it and pass "
            f"the folder holding {folder}/ as --data-root"
        )
        raise missing(name, f"{folder}/ with cs*.png files", root, how)
    return found


def _loader(name: str):
    def load(root=None, resolution: int = 64, split: str = "train", background: str = "white", crop: int = 0):
        try:
            colour = ImageColor.getrgb(background)[:3]
        except ValueError:
            raise UsageError(f"--data-set background='{background}' is not a colour name or #rrggbb") from None
        folder = _source_folder(name, datakit.given_root(root, name))
        files = sorted(folder.rglob("*.png"))

        def extras(writer, kept):
            if kept["image"] and any(path.with_suffix(".csv").is_file() for path in files):  # else: no attributes
                writer.save_attributes(*one_hot(folder, kept["image"]))

        return datakit.image_dataset(
            name, folder, files, split=split, resolution=resolution, crop=crop or None, background=colour, extras=extras
        )

    return load


load_10k, load_100k = _loader("cartoonset"), _loader("cartoonset100k")
download_10k, download_100k = _downloader("cartoonset"), _downloader("cartoonset100k")
