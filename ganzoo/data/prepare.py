"""Image files -> prepared cache -> a Dataset: the path every file-based dataset takes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from rich.progress import Progress

from ganzoo.console import err_console
from ganzoo.data.cache import (
    ATTRIBUTE_NAMES,
    ATTRIBUTES,
    CLASSES,
    IDENTITIES,
    LABEL,
    CacheWriter,
    Prepared,
    fingerprint_files,
    open_prepared,
)
from ganzoo.data.decode import Decoder, decode_files
from ganzoo.data.images import load_image, report_skipped
from ganzoo.data.sources import TensorImages
from ganzoo.errors import DataError
from ganzoo.protocols import DataInfo

#: Bump when decoding changes the pixels, so every cache is rebuilt.
DECODE_VERSION = 1
#: Bump when what ``extras`` store changes, so every cache that has extras is rebuilt. 2: labels,
#: 0/1 attributes and identities under the names of CacheWriter.save_labels & co (1 stored
#: CelebA's -1/1 and Cartoon Set's chosen variants, which ``attributes`` batches cannot use).
EXTRAS_VERSION = 2


def named(root: Path, files: list[Path]) -> list[tuple[str, Path]]:
    """Jobs for decode_files: each file under its path relative to root."""
    return [(str(path.relative_to(root)), path) for path in files]


def prepare_files(
    dataset: str,
    root: Path,
    groups: dict[str, list[tuple[str, Any]]],
    decoders: dict[str, Decoder],
    settings: dict,
    sources: list[Path],
    extras: Callable[[CacheWriter, dict[str, list[str]]], None] | None = None,
    quiet: bool = False,
) -> Prepared:
    """Decode each group of named jobs (e.g. {"image": named(root, files)}, or {"A": ..., "B":
    ...}) with its decoder into a cache keyed by ``settings`` and the fingerprint of ``sources``
    (the files read). ``extras(writer, kept)`` may then save side arrays for the kept names."""
    fingerprint = fingerprint_files(root, sources)
    key = {"root": str(root.resolve()), "decode_version": DECODE_VERSION, **settings}
    if extras:
        key["extras_version"] = EXTRAS_VERSION

    def build(writer: CacheWriter) -> None:
        kept: dict[str, list[str]] = {}
        for group, jobs in groups.items():
            named = list(jobs)
            skipped_before = len(writer.skipped)
            with _progress(
                f"preparing {dataset} {group}" if len(groups) > 1 else f"preparing {dataset}", len(named), quiet
            ) as report:
                decode_files(writer, named, decoders[group], report)
            dropped = {name for name, _ in writer.skipped[skipped_before:]}
            kept[group] = [name for name, _ in named if name not in dropped]
        if extras:
            extras(writer, kept)

    prepared = open_prepared(dataset, key, fingerprint, build, quiet=quiet)
    if not quiet:
        skipped = [(Path(entry["file"]), entry["reason"]) for entry in prepared.manifest["skipped"]]
        report_skipped(skipped, prepared.count + len(skipped))
    empty = [name for name, array in prepared.arrays.items() if array.shape[0] == 0] or (
        [] if prepared.arrays else list(groups)
    )
    if empty:
        total = prepared.manifest["skipped_count"] + prepared.count
        raise DataError(
            f"none of the {total} image files of '{dataset}' under '{root}' could be read "
            f"({', '.join(empty)}); see {prepared.path / 'manifest.json'}"
        )
    return prepared


class _progress:
    """A transient progress bar on a terminal; nothing when quiet, output redirected, or few files."""

    def __init__(self, label: str, total: int, quiet: bool):
        self.label, self.total = label, total
        self.enabled = not quiet and total >= 1000 and sys.stderr.isatty()
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        self.bar = Progress(console=err_console, transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda done, total: self.bar.update(task, completed=done)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


def attach(data, prepared: Prepared):
    """Give a dataset its cache's manifest and path (``ganzoo data prepare`` reports them)."""
    data.manifest, data.cache_path, data.extras = prepared.manifest, prepared.path, prepared.extras
    data.cache_built = prepared.built
    return data


def image_dataset(
    name: str,
    root: Path,
    files: list[Path],
    *,
    split: str,
    resolution: int,
    fit: str = "crop",
    crop: int | None = None,
    background: tuple[int, int, int] = (0, 0, 0),
    settings: dict | None = None,
    extras: Callable[[CacheWriter, dict[str, list[str]]], None] | None = None,
) -> TensorImages:
    """A dataset of single images from ``files`` (under ``root``), through the prepared cache.
    Labels, attributes and identities that ``extras`` saved (CacheWriter.save_labels & co)
    come back in its batches and DataInfo (identities as ``data.identities`` only)."""
    if not files:
        raise DataError(f"no image files (png, jpg, bmp, gif, webp, tif) under '{root}' (dataset '{name}')")
    decoder = partial(load_image, resolution=resolution, fit=fit, crop=crop, background=background)
    key = {
        "split": split,
        "resolution": resolution,
        "fit": fit,
        "crop": crop,
        "background": background,
        **(settings or {}),
    }
    prepared = prepare_files(
        name, root, {"image": named(root, files)}, {"image": decoder}, key, sources=files, extras=extras
    )
    images, saved = prepared.arrays["image"], prepared.extras

    def names(extra: str) -> tuple[str, ...]:
        return tuple(str(n) for n in saved.get(extra, ()))

    info = DataInfo(
        kind="images",
        channels=3,
        resolution=resolution,
        size=len(images),
        name=name,
        classes=names(CLASSES),
        attributes=names(ATTRIBUTE_NAMES),
    )
    data = TensorImages(
        images, info, labels=saved.get(LABEL), attributes=saved.get(ATTRIBUTES), identities=saved.get(IDENTITIES)
    )
    return attach(data, prepared)
