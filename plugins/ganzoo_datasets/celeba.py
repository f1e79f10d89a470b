"""CelebA, aligned and cropped faces (``img_align_celeba``, 202,599 JPEGs of 178x218).

The default face crop is the centre 108x108 box, as CelebA GAN tutorials use; ``--data-set
crop=0`` keeps the whole image (centre-cropped to a square). Splits follow the official
``list_eval_partition.txt``. With ``list_attr_celeba.txt`` batches hold ``attributes`` (its 40
columns, -1 -> 0 and 1 -> 1); ``identity_CelebA.txt`` gives ``data.identities`` (one per image,
for models pairing images of one person), which are deliberately not class labels.
``--data-set landmarks=true`` keeps the aligned landmarks (``data.extras["landmarks"]``) and
``identities=true`` insists on the identities and on splits that keep each person apart: what a
dataset built on this one (ExGAN's ``celeba-eyes``) asks for through ``load_dataset``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganzoo.plugin import DataError, datakit, option
from ganzoo_datasets.common import find_layout, missing
from ganzoo_datasets.official import CELEBA_DRIVE as DRIVE
from ganzoo_datasets.official import CELEBA_FILES as FILES

SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}
HOW = (
    "download img_align_celeba.zip and list_eval_partition.txt (and, for attributes, list_attr_celeba.txt "
    "and identity_CelebA.txt) from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, unzip the images and "
    "pass the folder holding img_align_celeba/ as --data-root"
)


@dataclass
class CelebAOptions:
    crop: int = option(108, "side of the centre box cut before resizing (0: the whole image)", min=0, max=178)
    landmarks: bool = option(
        False,
        "also keep each image's ten landmark coordinates (list_landmarks_align_celeba.txt, "
        "in the 178x218 aligned image) as data.extras['landmarks']",
    )
    identities: bool = option(
        False,
        "require identity_CelebA.txt and a partition that keeps each person in one "
        "split (for models that pair photos of one person)",
    )


def download(root: Path | None = None, progress=None) -> list[Path]:
    """The official files (images, annotations, landmarks) into ``root`` or the cache folder; the
    images are unzipped there."""
    home = Path(root).expanduser() if root else datakit.data_home() / "celeba"
    paths = [
        datakit.download([DRIVE + drive_id], home / name, md5=md5, progress=progress) for drive_id, md5, name in FILES
    ]
    datakit.extract(paths[0], home / "extracted")
    return paths


def _images_folder(root: Path | None) -> tuple[Path, Path]:
    """(folder of the JPEGs, folder of the annotation files)."""

    def has_jpegs(folder: Path) -> bool:
        return (folder / "000001.jpg").is_file()

    home = datakit.data_home() / "celeba"
    bases = [root] if root else [home, home / "extracted"]
    candidates = [
        c for base in bases for c in (base / "img_align_celeba" / "img_align_celeba", base / "img_align_celeba", base)
    ]
    found = find_layout(candidates, has_jpegs)
    if found is None:
        raise missing("celeba", "img_align_celeba/ (000001.jpg ...)", root, HOW)
    annotations = next(
        (b for b in (root, found.parent, found.parent.parent, home) if b and (b / "list_eval_partition.txt").is_file()),
        root or home,
    )
    return found, annotations


def _table(path: Path, skip_header: int) -> dict[str, np.ndarray]:
    """``name v1 v2 ...`` lines -> {name: int array}."""
    rows = {}
    for line in path.read_text().splitlines()[skip_header:]:
        parts = line.split()
        if parts:
            rows[parts[0]] = np.array([int(v) for v in parts[1:]], dtype=np.int32)
    return rows


def _rows(table: dict[str, np.ndarray], names: list[str], path: Path) -> list[np.ndarray]:
    """The table's row of each image, in order; an image the file lacks is an error naming it."""
    lacking = [name for name in names if name not in table]
    if lacking:
        raise DataError(
            f"'{path}' has no line for {len(lacking)} image(s) ({', '.join(lacking[:3])}): "
            "is it the file of this img_align_celeba/?"
        )
    return [table[name] for name in names]


LANDMARKS = "list_landmarks_align_celeba.txt"
IDENTITIES = "identity_CelebA.txt"
PARTITION = "list_eval_partition.txt"


def check_people_apart(annotations: Path) -> None:
    """No person in two splits (the official partition keeps them apart; a mixed-up copy of the
    files would leak test identities into training)."""
    partition = _table(annotations / PARTITION, 0)
    identities = _table(annotations / IDENTITIES, 0)
    names = {code: split for split, code in SPLIT_CODES.items()}
    seen: dict[int, int] = {}
    for name, (code,) in partition.items():
        if name not in identities:
            continue
        person = int(identities[name][0])
        if seen.setdefault(person, int(code)) != int(code):
            raise DataError(
                f"celeba: person {person} appears in the splits {names[seen[person]]} and "
                f"{names[int(code)]} ({name}); {PARTITION} must keep identities apart"
            )


def load(
    root=None,
    resolution: int = 64,
    split: str = "train",
    crop: int = 108,
    landmarks: bool = False,
    identities: bool = False,
):
    folder, annotations = _images_folder(datakit.given_root(root, "celeba"))
    for wanted, file in ((landmarks, LANDMARKS), (identities, IDENTITIES)):
        if wanted and not (annotations / file).is_file():
            raise DataError(
                f"celeba: {file} is missing beside img_align_celeba/ (in '{annotations}'): download "
                "it from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Anno/)"
            )
    partition_file = annotations / PARTITION
    if identities and partition_file.is_file():
        check_people_apart(annotations)
    files = sorted(folder.glob("*.jpg"))
    if split != "all" and not partition_file.is_file():
        if split != "train":
            raise DataError(f"split '{split}' needs list_eval_partition.txt beside img_align_celeba/: {HOW}")
        print(
            "ganzoo: warning: celeba: no list_eval_partition.txt beside img_align_celeba/, so 'train' "
            "holds every image (the official split keeps 39,829 for valid/test)",
            file=sys.stderr,
        )
    elif split != "all":
        partition = _table(partition_file, 0)
        files = [f for f in files if f.name in partition and int(partition[f.name][0]) == SPLIT_CODES[split]]

    def extras(writer, kept):
        names = [Path(n).name for n in kept["image"]]
        attributes_file, identity_file = annotations / "list_attr_celeba.txt", annotations / IDENTITIES
        if attributes_file.is_file():
            columns = attributes_file.read_text().splitlines()[1].split()
            rows = _rows(_table(attributes_file, 2), names, attributes_file)
            writer.save_attributes(np.stack(rows) > 0, columns)  # the file's -1/1 as 0/1
        if identity_file.is_file():
            writer.save_identities([row[0] for row in _rows(_table(identity_file, 0), names, identity_file)])
        if landmarks:
            writer.save_extra(
                "landmarks", np.stack(_rows(_table(annotations / LANDMARKS, 2), names, annotations / LANDMARKS))
            )

    return datakit.image_dataset(
        "celeba",
        folder,
        files,
        split=split,
        resolution=resolution,
        crop=crop or None,
        extras=extras,
        settings={
            "annotations": [p.stat().st_mtime_ns for p in annotations.glob("*.txt")],
            **({"landmarks": True} if landmarks else {}),
        },
    )
