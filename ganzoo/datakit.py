"""The data kit of dataset plugins: ``from ganzoo.plugin import datakit``.

What the built-in dataset plugins use to find, fetch, decode and cache their files, and the
dataset classes they return. Everything a dataset plugin needs from ganzoo's data layer is in
``__all__``; the modules it re-exports from (``ganzoo.data.*``) are internal and may change.

- Files: :func:`data_home`, :func:`given_root`, :func:`download`, :func:`file_digest`,
  :func:`extract`.
- Datasets built on other registered ones (open those with ``ganzoo.plugin.load_dataset``):
  :func:`dataset_spec`, :func:`dataset_option_names`, :func:`download_dataset`.
- Decoding images: :func:`find_images` (files with a suffix in ``IMAGE_SUFFIXES``, the set of
  image file suffixes ganzoo reads), :func:`same_name_file` (a mask or exemplar of an image), :func:`open_as`, :func:`load_square`, :func:`load_image`,
  :func:`load_side_by_side`, :func:`fit_square`, :func:`edge_map`; a file that cannot be used
  raises :class:`SkippedImage`.
- IDX files (MNIST): :func:`read_bytes`, :func:`content_md5`, :func:`parse_idx`.
- The prepared cache: :func:`image_dataset` (a folder of images in one call), or
  :func:`prepare_files` with :func:`named` and :func:`attach`; :class:`CacheWriter` saves labels,
  attributes, identities and extras.
- Datasets: :class:`TensorImages`, :class:`ImageArrays`, :class:`UnpairedImages`,
  :func:`resize_square`; inpainting data: :class:`InpaintingView` over a labelled dataset, holes
  of the kinds in ``MASK_KINDS`` (a dict of mask kind name to its description and hole ratio
  bounds), :func:`bounding_boxes` of masks.

Importing this module imports torch; ``ganzoo.plugin`` loads it only when it is first used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ganzoo.data.archives import extract
from ganzoo.data.cache import CacheWriter, data_home
from ganzoo.data.convert import resize_square
from ganzoo.data.download import download, file_digest
from ganzoo.data.edges import edge_map
from ganzoo.data.idx import content_md5, parse_idx, read_bytes
from ganzoo.data.images import (
    IMAGE_SUFFIXES,
    SkippedImage,
    find_images,
    fit_square,
    load_image,
    load_side_by_side,
    load_square,
    same_name_file,
)
from ganzoo.data.inpainting import InpaintingView
from ganzoo.data.masks import MASK_KINDS, bounding_boxes
from ganzoo.data.prepare import attach, image_dataset, named, prepare_files
from ganzoo.data.sources import ImageArrays, TensorImages, UnpairedImages
from ganzoo.errors import DataError
from ganzoo.inpaint import open_as
from ganzoo.plugins import load_plugins
from ganzoo.specs import DatasetSpec, resolve

__all__ = [
    "IMAGE_SUFFIXES",
    "MASK_KINDS",
    "CacheWriter",
    "ImageArrays",
    "InpaintingView",
    "SkippedImage",
    "TensorImages",
    "UnpairedImages",
    "attach",
    "bounding_boxes",
    "content_md5",
    "data_home",
    "dataset_option_names",
    "dataset_spec",
    "download",
    "download_dataset",
    "edge_map",
    "extract",
    "file_digest",
    "find_images",
    "same_name_file",
    "fit_square",
    "given_root",
    "image_dataset",
    "load_image",
    "load_side_by_side",
    "load_square",
    "named",
    "open_as",
    "parse_idx",
    "prepare_files",
    "read_bytes",
    "resize_square",
]


def given_root(root: str | Path | None, name: str) -> Path | None:
    """``--data-root`` as a Path (it must be a folder), or None when not given; ``name`` is the
    dataset's, for the error."""
    if root is None:
        return None
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DataError(f"--data-root '{folder}' is not a folder (dataset '{name}')")
    return folder


def dataset_spec(name: str) -> DatasetSpec:
    """The registered spec of dataset ``name`` (its kind, splits, resolution, options...): what a
    dataset built on another one checks before it loads it."""
    return load_plugins().datasets.get(name)


def dataset_option_names(name: str) -> tuple[str, ...]:
    """The names of dataset ``name``'s own options (``--data-set KEY=VALUE``); () when it has none."""
    spec = dataset_spec(name)
    return tuple(f.name for f in dataclasses.fields(resolve(spec.options))) if spec.options else ()


def download_dataset(
    name: str, root: str | Path | None = None, progress: Callable[[int, int | None], None] | None = None
) -> list[Path]:
    """Fetch a registered dataset's official files (as ``ganzoo data download NAME`` does) into
    ``root``, or its folder under :func:`data_home`; returns their paths. For a dataset built on
    another one (ExGAN's ``celeba-eyes`` on ``celeba``)."""
    spec = dataset_spec(name)
    if spec.download is None:
        raise DataError(f"dataset '{name}' has no official files to download")
    return resolve(spec.download)(Path(root).expanduser() if root else None, progress=progress)
