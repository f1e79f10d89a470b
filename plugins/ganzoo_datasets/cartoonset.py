"""Google's Cartoon Set: 500x500 PNG avatars with transparent backgrounds, each with a CSV of
its 18 attribute choices (lines ``"eye_angle", 2, 3``: name, chosen variant, variant count).

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

from ganzoo.data.cache import data_home
from ganzoo.errors import UsageError
from ganzoo.options import option
from ganzoo_datasets.common import fetch_and_extract, find_layout, given_root, image_dataset, missing

BASE = "https://storage.googleapis.com/cartoonset_public_files/"
VARIANTS = {"cartoonset": "cartoonset10k", "cartoonset100k": "cartoonset100k"}


@dataclass
class CartoonOptions:
    background: str = option("white", "colour the transparent background is composited onto (name or #rrggbb)")
    crop: int = option(0, "side of the centre box cut before resizing (0: the whole 500x500 image)", min=0, max=500)


def read_attributes(csv_path: Path) -> tuple[list[str], np.ndarray]:
    names, values = [], []
    with open(csv_path, newline="") as handle:
        for row in csv.reader(handle, skipinitialspace=True):
            if len(row) >= 2:
                names.append(row[0])
                values.append(int(row[1]))
    return names, np.array(values, dtype=np.int16)


def _downloader(name: str):
    folder = VARIANTS[name]

    def download(root: Path | None = None, progress=None) -> list[Path]:
        if root is not None:
            return [_source_folder(name, given_root(root, name))]
        extracted = fetch_and_extract(name, f"{BASE}{folder}.tgz", f"{folder}.tgz", folder, progress=progress)
        return [extracted / folder]

    return download


def _source_folder(name: str, root: Path | None) -> Path:
    folder = VARIANTS[name]
    has_pngs = lambda candidate: any(candidate.glob("*.png")) or any(candidate.glob("*/*.png"))
    bases = [root] if root else [data_home() / name / "extracted"]
    found = find_layout([c for base in bases for c in (base / folder, base)], has_pngs)
    if found is None:
        how = (f"download {BASE}{folder}.tgz (from https://google.github.io/cartoonset/), extract it and pass "
               f"the folder holding {folder}/ as --data-root")
        raise missing(name, f"{folder}/ with cs*.png files", root, how)
    return found


def _loader(name: str):
    def load(root=None, resolution: int = 64, split: str = "train", background: str = "white", crop: int = 0):
        try:
            colour = ImageColor.getrgb(background)[:3]
        except ValueError:
            raise UsageError(f"--data-set background='{background}' is not a colour name or #rrggbb") from None
        folder = _source_folder(name, given_root(root, name))
        files = sorted(folder.rglob("*.png"))

        def extras(writer, kept):
            rows, names = [], []
            for relative in kept["image"]:
                csv_path = (folder / relative).with_suffix(".csv")
                attribute_names, values = read_attributes(csv_path) if csv_path.is_file() else ([], np.zeros(0))
                names = names or attribute_names
                rows.append(values)
            if names and all(len(r) == len(names) for r in rows):
                writer.save_extra("attributes", np.stack(rows))
                writer.save_extra("attribute_names", np.array(names))

        return image_dataset(name, folder, files, split=split, resolution=resolution, crop=crop or None,
                             background=colour, extras=extras)

    return load


load_10k, load_100k = _loader("cartoonset"), _loader("cartoonset100k")
download_10k, download_100k = _downloader("cartoonset"), _downloader("cartoonset100k")
