"""Image files -> prepared cache -> a Dataset: the path every file-based dataset takes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


from ganzoo.data.cache import CacheWriter, Prepared, fingerprint_files, open_prepared
from ganzoo.data.decode import Decoder, decode_files
from ganzoo.data.images import report_skipped
from ganzoo.errors import DataError

#: Bump when decoding changes the pixels, so every cache is rebuilt.
DECODE_VERSION = 1


def named(root: Path, files: list[Path]) -> list[tuple[str, Path]]:
    """Jobs for decode_files: each file under its path relative to root."""
    return [(str(path.relative_to(root)), path) for path in files]


def prepare_files(dataset: str, root: Path, groups: dict[str, list[tuple[str, Any]]], decoders: dict[str, Decoder],
                  settings: dict, sources: list[Path],
                  extras: Callable[[CacheWriter, dict[str, list[str]]], None] | None = None,
                  quiet: bool = False) -> Prepared:
    """Decode each group of named jobs (e.g. {"image": named(root, files)}, or {"A": ..., "B":
    ...}) with its decoder into a cache keyed by ``settings`` and the fingerprint of ``sources``
    (the files read). ``extras(writer, kept)`` may then save side arrays for the kept names."""
    fingerprint = fingerprint_files(root, sources)
    key = {"root": str(root.resolve()), "decode_version": DECODE_VERSION, **settings}

    def build(writer: CacheWriter) -> None:
        kept: dict[str, list[str]] = {}
        for group, jobs in groups.items():
            named = list(jobs)
            skipped_before = len(writer.skipped)
            with _progress(f"preparing {dataset} {group}" if len(groups) > 1 else f"preparing {dataset}",
                           len(named), quiet) as report:
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
        [] if prepared.arrays else list(groups))
    if empty:
        total = prepared.manifest["skipped_count"] + prepared.count
        raise DataError(f"none of the {total} image files of '{dataset}' under '{root}' could be read "
                        f"({', '.join(empty)}); see {prepared.path / 'manifest.json'}")
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
        from rich.progress import Progress

        from ganzoo.cli.output import err_console

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
