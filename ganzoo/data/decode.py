"""Decoding many image files into a prepared cache, on every core, in a stable order."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ganzoo.data.cache import CacheWriter
from ganzoo.data.images import SkippedImage

#: Below this many files, forking workers costs more than it saves.
PARALLEL_FROM = 256
FLUSH_ROWS = 256

Decoder = Callable[[Any], dict[str, np.ndarray]]  # a file (or files) -> {array name: (H, W, C) uint8}


def worker_count() -> int:
    wanted = os.environ.get("GANZOO_WORKERS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def decode_files(
    writer: CacheWriter,
    files: Sequence[tuple[str, Any]],
    decode: Decoder,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Decode each ``(name, path)`` with ``decode`` and append the arrays in file order;
    a file that raises SkippedImage is recorded in the manifest under its name."""
    pending: dict[str, list[np.ndarray]] = {}

    def flush() -> None:
        for key, rows in pending.items():
            if rows:
                writer.append(key, np.stack(rows).transpose(0, 3, 1, 2))
                rows.clear()

    jobs = ((decode, path) for _, path in files)
    workers = worker_count()
    if workers > 1 and len(files) >= PARALLEL_FROM:
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with context.Pool(workers) as pool:
            _collect(pool.imap(_decode_one, jobs, chunksize=32), files, writer, pending, flush, progress)
    else:
        _collect(map(_decode_one, jobs), files, writer, pending, flush, progress)
    flush()


def _collect(results, files, writer, pending, flush, progress) -> None:
    for done, ((name, _), (arrays, reason)) in enumerate(zip(files, results), start=1):
        if arrays is None:
            writer.skip(name, reason)
        else:
            writer.decoded += 1
            for key, array in arrays.items():
                pending.setdefault(key, []).append(array)
            if any(len(rows) >= FLUSH_ROWS for rows in pending.values()):
                flush()
        if progress:
            progress(done, len(files))


def _decode_one(job: tuple[Decoder, Any]) -> tuple[dict[str, np.ndarray] | None, str]:
    decode, path = job
    try:
        return decode(path), ""
    except SkippedImage as exc:
        return None, str(exc)
