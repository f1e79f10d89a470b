"""Image-to-image translation data: Pix2Pix's paired sets, CycleGAN's unpaired sets, and the
user's own ``paired`` / ``unpaired`` folders, all in the layouts of the reference code.

- paired, side by side: ``<split>/NAME.jpg`` where each image is A (left half) | B (right half);
- paired, two folders: ``A/NAME`` and ``B/NAME`` with the same file names (optionally under
  ``<split>/``); an A without its B (or the reverse) is an error naming them;
- unpaired: ``trainA/`` and ``trainB/`` (``testA/``, ``testB/`` for the test split).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from ganzoo.plugin import DataError, DataInfo, datakit
from ganzoo_datasets.common import fetch_and_extract

PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"


def load_pair_files(paths: tuple[Path, Path], resolution: int) -> dict:
    """An A file and its B file, each resized to a square; one bad file skips the pair."""
    a, b = paths
    try:
        return {"A": datakit.load_square(a, resolution), "B": datakit.load_square(b, resolution)}
    except datakit.SkippedImage as exc:
        raise datakit.SkippedImage(f"{exc} (so its pair is skipped too)") from None


SPLIT_NAMES = ("train", "val", "test")


def _split_folder(root: Path, split: str) -> Path:
    """``root/split``; a folder without split folders is all "train"."""
    if (root / split).is_dir():
        return root / split
    present = [name for name in SPLIT_NAMES if (root / name).is_dir()]
    if present or split != "train":
        raise DataError(f"'{root}' has no '{split}' split (it has: {', '.join(present) or 'no split folders'})")
    return root


def _paired_jobs(root: Path, split: str, name: str) -> tuple[dict, dict, list[Path], Path]:
    """Decoding jobs for a paired folder in either layout; raises DataError on unmatched names."""
    base = _split_folder(root, split)
    if (base / "A").is_dir() and (base / "B").is_dir():
        a_files = {p.relative_to(base / "A"): p for p in datakit.find_images(base / "A")}
        b_files = {p.relative_to(base / "B"): p for p in datakit.find_images(base / "B")}
        only_a, only_b = sorted(set(a_files) - set(b_files)), sorted(set(b_files) - set(a_files))
        if only_a or only_b:
            sample = ", ".join([f"A/{p}" for p in only_a[:3]] + [f"B/{p}" for p in only_b[:3]])
            raise DataError(
                f"paired folders under '{base}' do not match: {len(only_a)} A image(s) without a B "
                f"and {len(only_b)} B image(s) without an A ({sample})"
            )
        names = sorted(a_files)
        jobs = [(str(n), (a_files[n], b_files[n])) for n in names]
        return {"pair": jobs}, {"pair": load_pair_files}, [*a_files.values(), *b_files.values()], base
    files = datakit.find_images(base)
    if not files:
        raise DataError(f"'{base}' holds neither side-by-side AB images nor A/ and B/ folders (dataset '{name}')")
    return {"pair": datakit.named(base, files)}, {"pair": datakit.load_side_by_side}, files, base


def open_paired(name: str, root: Path, split: str, resolution: int) -> datakit.ImageArrays:
    groups, decoders, sources, base = _paired_jobs(root, split, name)
    decoders = {key: partial(decode, resolution=resolution) for key, decode in decoders.items()}
    prepared = datakit.prepare_files(
        name, base, groups, decoders, {"split": split, "resolution": resolution, "kind": "paired"}, sources=sources
    )
    arrays = {"A": prepared.arrays["A"], "B": prepared.arrays["B"]}
    info = DataInfo(kind="paired", channels=3, resolution=resolution, size=len(arrays["A"]), name=name)
    return datakit.attach(datakit.ImageArrays(arrays, info), prepared)


def open_unpaired(name: str, root: Path, split: str, resolution: int, fit: str = "crop") -> datakit.UnpairedImages:
    folders = {side: root / f"{split}{side}" for side in ("A", "B")}
    lacking = [str(folder) for folder in folders.values() if not folder.is_dir()]
    if lacking:
        raise DataError(
            f"unpaired dataset '{name}' needs {split}A/ and {split}B/ under '{root}' (missing: {', '.join(lacking)})"
        )
    files = {side: datakit.find_images(folder) for side, folder in folders.items()}
    for side, found in files.items():
        if not found:
            raise DataError(f"'{folders[side]}' holds no image files (dataset '{name}')")
    groups = {
        side: [(f"{split}{side}/{p.relative_to(folders[side])}", p) for p in found] for side, found in files.items()
    }
    decoders: dict[str, Callable[[Path], dict]] = {
        side: partial(datakit.load_image, resolution=resolution, fit=fit, key=side) for side in files
    }
    prepared = datakit.prepare_files(
        name,
        root,
        groups,
        decoders,
        {"split": split, "resolution": resolution, "fit": fit, "kind": "unpaired"},
        sources=[*files["A"], *files["B"]],
    )
    a, b = prepared.arrays["A"], prepared.arrays["B"]
    info = DataInfo(kind="unpaired", channels=3, resolution=resolution, size=max(len(a), len(b)), name=name)
    return datakit.attach(datakit.UnpairedImages(a, b, info), prepared)


def load_paired(root=None, resolution: int = 256, split: str = "train"):
    folder = datakit.given_root(root, "paired")
    if folder is None:
        raise DataError("dataset 'paired' needs --data-root: a folder of side-by-side AB images, or A/ and B/")
    return open_paired("paired", folder, split, resolution)


def load_unpaired(root=None, resolution: int = 256, split: str = "train", fit: str = "crop"):
    folder = datakit.given_root(root, "unpaired")
    if folder is None:
        raise DataError("dataset 'unpaired' needs --data-root: a folder holding trainA/ and trainB/")
    return open_unpaired("unpaired", folder, split, resolution, fit)


def _official_root(name: str, root, url: str, archive: str) -> Path:
    """The folder holding ``name``'s splits: under --data-root, or downloaded into the cache."""
    given = datakit.given_root(root, name)
    if given is not None:
        return given / name if (given / name).is_dir() else given
    cached = datakit.data_home() / name / "extracted"
    if not (cached / name).is_dir():
        fetch_and_extract(name, url, archive, name)
    return cached / name


def official_set(name: str, url_template: str, suffix: str, opener):
    """(load, download) of one of the reference code's datasets, read with ``opener``."""
    url, archive = url_template.format(name=name), f"{name}{suffix}"

    def load(root=None, resolution: int = 256, split: str = "train"):
        return opener(name, _official_root(name, root, url, archive), split, resolution)

    def download(root: Path | None = None, progress=None) -> list[Path]:
        if root is not None:
            return [_holding_images(name, _official_root(name, root, url, archive), opener, "")]
        extracted = fetch_and_extract(name, url, archive, name, progress=progress)
        fetched = datakit.data_home() / name / archive
        return [
            _holding_images(
                name,
                extracted / name,
                opener,
                f": '{fetched}' is not the official archive (delete it and '{extracted}', and download again)",
            )
        ]

    return load, download


def _holding_images(name: str, folder: Path, opener, hint: str) -> Path:
    """``folder``, once it holds image files where ``opener`` reads them (both domains of an
    unpaired set); otherwise an error naming where they lack."""
    wanted = [folder / f"train{side}" for side in "AB"] if opener is open_unpaired else [folder]
    lacking = [f"'{place}'" for place in wanted if not (place.is_dir() and any(_images_under(place)))]
    if lacking:
        raise DataError(f"no image files of dataset '{name}' in {' or '.join(lacking)}{hint}")
    return folder


def _images_under(folder: Path):
    return (p for p in folder.rglob("*") if p.suffix.lower() in datakit.IMAGE_SUFFIXES and p.is_file())


def pix2pix_set(name: str):
    return official_set(name, PIX2PIX_URL, ".tar.gz", open_paired)


def cyclegan_set(name: str):
    return official_set(name, CYCLEGAN_URL, ".zip", open_unpaired)


#: Pix2Pix's datasets (Isola et al. 2017), from the authors' server.
PIX2PIX_SETS = ("facades", "cityscapes", "maps", "edges2shoes", "edges2handbags", "night2day")
#: CycleGAN's unpaired datasets (Zhu et al. 2017) whose names Pix2Pix's do not already take.
CYCLEGAN_SETS = (
    "horse2zebra",
    "apple2orange",
    "summer2winter_yosemite",
    "monet2photo",
    "cezanne2photo",
    "ukiyoe2photo",
    "vangogh2photo",
    "iphone2dslr_flower",
)


class _Functions:
    """Attribute access to per-dataset functions, for "module:loaders.NAME" references."""

    def __init__(self, functions: dict):
        self.__dict__.update(functions)


_pix2pix = {name: pix2pix_set(name) for name in PIX2PIX_SETS}
_cyclegan = {name: cyclegan_set(name) for name in CYCLEGAN_SETS}
loaders = _Functions({name: pair[0] for name, pair in {**_pix2pix, **_cyclegan}.items()})
downloaders = _Functions({name: pair[1] for name, pair in {**_pix2pix, **_cyclegan}.items()})
