"""The prepared cache: images decoded, cropped and resized once into memory-mappable arrays.

A prepared dataset is a folder under ``$GANZOO_DATA/prepared/`` named by the dataset, split,
resolution and a hash of every setting that changes the pixels. It holds one raw uint8 file
per array (``(N, C, H, W)``, C-contiguous, so a batch is one fancy-index of a memory map) and
``manifest.json`` with the shapes, the source fingerprint (paths, sizes and modification
times of the source files), the skipped files and why. Settings that differ give another
folder; a source that changed since gives a rebuild of the same folder. A cache is built in a
temporary folder and renamed into place, so a half-built cache is never read. The builder holds
a lock on that folder's ``.lock`` file, so what a killed build left can be told from a build in
progress, and is removed by the next one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ganzoo.errors import DataError

FORMAT = "ganzoo-prepared/1"
#: Side arrays every reader understands (written by CacheWriter.save_labels/_attributes/_identities).
LABEL, CLASSES = "label", "classes"
ATTRIBUTES, ATTRIBUTE_NAMES = "attributes", "attribute_names"
IDENTITIES = "identities"
#: A cache folder being built (.tmp-PID) or being replaced (.old-PID): see _build and _replace_folder.
_LEFTOVER = re.compile(r".+-\d+px-[0-9a-f]{12}\.(tmp|old)-(\d+)")


def data_home() -> Path:
    """Where datasets are downloaded and prepared: ``$GANZOO_DATA`` or ``~/.cache/ganzoo/data``."""
    return Path(os.environ.get("GANZOO_DATA", Path.home() / ".cache" / "ganzoo" / "data")).expanduser()


def fingerprint_files(root: Path, files: Iterable[Path]) -> str:
    """A hash of each file's path (relative to root), size and modification time."""
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class RowFile:
    """A prepared uint8 array ``(N, C, H, W)`` on disk, read a batch of rows at a time with
    positioned reads. Measured faster than indexing a memory map of the same file, and the
    process's resident memory stays flat however many images the file holds (a map would
    make every touched 2 MB region resident); ``mapped()`` gives the whole array when wanted."""

    def __init__(self, path: Path, shape: tuple[int, ...]):
        self.path, self.shape = path, tuple(shape)
        self.row_bytes = int(np.prod(self.shape[1:]))
        self.dtype, self.ndim = np.dtype(np.uint8), len(self.shape)
        self._fd: int | None = None
        self._pid = os.getpid()

    def __len__(self) -> int:
        return self.shape[0]

    def _descriptor(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
            self._fd, self._pid = os.open(self.path, os.O_RDONLY), os.getpid()
        return self._fd

    def take(self, indices) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if indices.size and (indices.min() < -len(self) or indices.max() >= len(self)):
            raise IndexError(f"row index out of range for {len(self)} rows")
        out = np.empty((indices.size, *self.shape[1:]), dtype=np.uint8)
        fd = self._descriptor()
        for row, index in enumerate(indices % max(1, len(self))):
            if os.preadv(fd, [out[row]], int(index) * self.row_bytes) != self.row_bytes:
                raise DataError(f"'{self.path}' is shorter than its manifest says: delete its folder to rebuild it")
        return out

    def mapped(self) -> np.ndarray:
        """The whole array as a copy-on-write memory map (nothing is ever written to the file)."""
        return np.memmap(self.path, dtype=np.uint8, mode="c", shape=self.shape)

    def __del__(self):
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)


@dataclass
class Prepared:
    """An opened prepared dataset: read-only memory maps plus the manifest."""

    path: Path
    manifest: dict
    arrays: dict[str, RowFile | np.ndarray]
    extras: dict[str, np.ndarray]
    built: bool = False  # built by this call (not reused)

    @property
    def count(self) -> int:
        return int(self.manifest["count"])


class CacheWriter:
    """Appends rows to the arrays of a cache under construction."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.shapes: dict[str, list[int]] = {}
        self.handles: dict[str, BinaryIO] = {}
        self.extras: dict[str, str] = {}
        self.skipped: list[tuple[str, str]] = []
        self.decoded = 0  # source files decoded (paired files count once, unpaired both sides)

    def append(self, name: str, rows: np.ndarray) -> None:
        """Rows ``(k, C, H, W)`` (or ``(C, H, W)`` for one) of uint8."""
        rows = np.asarray(rows, dtype=np.uint8)
        if rows.ndim == 3:
            rows = rows[None]
        if name not in self.shapes:
            self.shapes[name] = [0, *rows.shape[1:]]
            self.handles[name] = open(self.folder / f"{name}.u8", "wb")
        elif list(rows.shape[1:]) != self.shapes[name][1:]:
            raise DataError(f"prepared array '{name}': row shape {rows.shape[1:]} after {self.shapes[name][1:]}")
        self.handles[name].write(np.ascontiguousarray(rows).tobytes())
        self.shapes[name][0] += rows.shape[0]

    def save_extra(self, name: str, array: np.ndarray) -> None:
        """A small side array, stored as .npy (labels: use the save_* methods below)."""
        np.save(self.folder / f"{name}.npy", np.asarray(array), allow_pickle=False)
        self.extras[name] = f"{name}.npy"

    def save_labels(self, labels, classes: Sequence[str]) -> None:
        """One class index per example, in row order, and the class names (index = label)."""
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
            raise DataError(f"labels must index the {len(classes)} class names, got {labels.min()}..{labels.max()}")
        self.save_extra(LABEL, labels)
        self.save_extra(CLASSES, np.array(list(classes), dtype=str))

    def save_attributes(self, values, names: Sequence[str]) -> None:
        """0 or 1 per example (in row order) and attribute, ``(N, K)``, and the K names."""
        values = np.asarray(values)
        if values.ndim != 2 or values.shape[1] != len(names) or not np.isin(values, (0, 1)).all():
            raise DataError(f"attributes must be 0/1 of shape (N, {len(names)}), got {values.shape}")
        self.save_extra(ATTRIBUTES, values.astype(np.uint8))
        self.save_extra(ATTRIBUTE_NAMES, np.array(list(names), dtype=str))

    def save_identities(self, identities) -> None:
        """Who each example (in row order) shows, for models that pair examples of one identity."""
        self.save_extra(IDENTITIES, np.asarray(identities, dtype=np.int64).reshape(-1))

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append((item, reason))

    def close(self) -> None:
        for handle in self.handles.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        self.handles.clear()


def open_prepared(
    dataset: str, settings: dict, fingerprint: str, build: Callable[[CacheWriter], None], *, quiet: bool = False
) -> Prepared:
    """The prepared arrays for (dataset, settings) from a source with this fingerprint,
    reusing the cache when it matches and (re)building it with ``build`` when it does not."""
    folder = cache_folder(dataset, settings)
    remove_leftovers(folder.parent)
    manifest = read_manifest(folder)
    if manifest is not None and manifest.get("fingerprint") == fingerprint:
        prepared = _open(folder, manifest)
        if prepared is not None:
            return prepared
        _say(quiet, f"prepared cache '{folder}' is damaged: rebuilding it")
    elif manifest is not None:
        _say(quiet, f"the source of '{dataset}' changed since it was prepared: rebuilding {folder.name}")
    return _build(folder, dataset, settings, fingerprint, build, quiet)


def cache_folder(dataset: str, settings: dict) -> Path:
    key = hashlib.sha256(json.dumps({"dataset": dataset, **settings}, sort_keys=True, default=str).encode())
    split = settings.get("split", "train")
    return data_home() / "prepared" / f"{dataset}-{split}-{settings.get('resolution', 0)}px-{key.hexdigest()[:12]}"


def read_manifest(folder: Path) -> dict | None:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def _open(folder: Path, manifest: dict) -> Prepared | None:
    arrays = {}
    for name, entry in manifest["arrays"].items():
        path = folder / entry["file"]
        shape = tuple(entry["shape"])
        if not path.is_file() or path.stat().st_size != int(np.prod(shape)):
            return None
        arrays[name] = RowFile(path, shape) if shape[0] else np.zeros(shape, np.uint8)
    try:
        extras = {name: np.load(folder / file, allow_pickle=False) for name, file in manifest["extras"].items()}
    except (OSError, ValueError):
        return None
    return Prepared(folder, manifest, arrays, extras)


def _build(folder: Path, dataset: str, settings: dict, fingerprint: str, build, quiet: bool) -> Prepared:
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    lock = os.open(temporary / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)  # held until the cache is in place (see remove_leftovers)
    writer = CacheWriter(temporary)
    started = time.perf_counter()
    try:
        build(writer)
        writer.close()
        counts = [shape[0] for shape in writer.shapes.values()]
        manifest = {
            "format": FORMAT,
            "dataset": dataset,
            "settings": settings,
            "fingerprint": fingerprint,
            "count": writer.decoded or max(counts, default=0),
            "arrays": {
                name: {"file": f"{name}.u8", "shape": shape, "dtype": "uint8"} for name, shape in writer.shapes.items()
            },
            "extras": writer.extras,
            "skipped_count": len(writer.skipped),
            "skipped": [{"file": item, "reason": reason} for item, reason in writer.skipped],
            "seconds": round(time.perf_counter() - started, 3),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (temporary / "manifest.json").write_text(json.dumps(manifest, indent=1))
        _replace_folder(temporary, folder)
        (folder / ".lock").unlink(missing_ok=True)
    finally:
        writer.close()
        shutil.rmtree(temporary, ignore_errors=True)
        os.close(lock)
    prepared = _open(folder, read_manifest(folder) or manifest)
    if prepared is None:
        raise DataError(f"the prepared cache at '{folder}' could not be read back")
    prepared.built = True
    return prepared


def remove_leftovers(prepared: Path) -> list[Path]:
    """Delete the half-built caches of killed builds (and old caches a killed build was
    replacing): folders named like ours whose builder is gone, judged by its lock (by its pid
    for a folder without one). A build in progress, here or on another machine, is left alone."""
    try:
        candidates = [(p, m.groups()) for p in prepared.iterdir() if (m := _LEFTOVER.fullmatch(p.name)) and p.is_dir()]
    except OSError:
        return []
    removed = []
    for path, (kind, pid) in candidates:
        if kind == "tmp" and not _builder_gone(path, int(pid)):
            continue
        # an .old folder is garbage whoever made it: another remover at the same time is harmless
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _builder_gone(temporary: Path, pid: int) -> bool:
    try:
        fd = os.open(temporary / ".lock", os.O_RDONLY)
    except FileNotFoundError:  # killed before it took its lock, or an older ganzoo: ask the pid
        return not _process_alive(pid)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def _replace_folder(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing an older cache; readers never see a partial folder."""
    if target.exists():
        stale = target.with_name(f"{target.name}.old-{os.getpid()}")
        os.replace(target, stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(new, target)
    except OSError:  # another process finished the same cache first: keep theirs
        if read_manifest(target) is None:
            raise


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(f"ganzoo: {message}", file=sys.stderr)
