"""Edge maps from photos, to build an edges-to-image paired dataset (the way edges2shoes was
built from photos, with a simpler detector): greyscale, a light blur, Sobel gradient
magnitude, thinned to local maxima along the gradient, and thresholded so that about
``density`` of the pixels are edges, drawn black on white."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from ganzoo.data.images import SkippedImage, find_images, load_square
from ganzoo.outputs import Outputs


def edge_map(rgb: np.ndarray, density: float = 0.12) -> np.ndarray:
    """uint8 (H, W, 3) -> uint8 (H, W): 0 on edges, 255 elsewhere."""
    grey = Image.fromarray(rgb).convert("L").filter(ImageFilter.GaussianBlur(radius=max(0.5, rgb.shape[0] / 256)))
    g = np.asarray(grey, dtype=np.float32)
    padded = np.pad(g, 1, mode="edge")
    gx = (padded[:-2, 2:] + 2 * padded[1:-1, 2:] + padded[2:, 2:]) - (
        padded[:-2, :-2] + 2 * padded[1:-1, :-2] + padded[2:, :-2]
    )
    gy = (padded[2:, :-2] + 2 * padded[2:, 1:-1] + padded[2:, 2:]) - (
        padded[:-2, :-2] + 2 * padded[:-2, 1:-1] + padded[:-2, 2:]
    )
    magnitude = np.hypot(gx, gy)
    thin = _local_maxima(magnitude, gx, gy)
    candidates = magnitude[thin]
    if candidates.size == 0 or candidates.max() <= 1e-3:
        return np.full(g.shape, 255, dtype=np.uint8)  # a flat image has no edges
    threshold = max(np.quantile(magnitude, 1.0 - density), candidates.max() * 0.05)
    edges = thin & (magnitude >= threshold)
    return np.where(edges, 0, 255).astype(np.uint8)


def _local_maxima(magnitude: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Non-maximum suppression across the edge, on the gradient direction rounded to 45 degrees."""
    angle = (np.rad2deg(np.arctan2(gy, gx)) + 180.0) % 180.0
    padded = np.pad(magnitude, 1)
    h, w = magnitude.shape
    neighbours = {0: ((0, 1), (0, -1)), 45: ((1, 1), (-1, -1)), 90: ((1, 0), (-1, 0)), 135: ((1, -1), (-1, 1))}
    direction = (np.round(angle / 45.0).astype(int) % 4) * 45
    keep = np.zeros_like(magnitude, dtype=bool)
    for degrees, ((dy1, dx1), (dy2, dx2)) in neighbours.items():
        first = padded[1 + dy1 : 1 + dy1 + h, 1 + dx1 : 1 + dx1 + w]
        second = padded[1 + dy2 : 1 + dy2 + h, 1 + dx2 : 1 + dx2 + w]
        keep |= (direction == degrees) & (magnitude >= first) & (magnitude >= second)
    return keep & (magnitude > 0)


def side_by_side(a: np.ndarray, b: np.ndarray) -> Image.Image:
    """A | B as one image, the Pix2Pix file layout."""
    return Image.fromarray(np.concatenate([a, b], axis=1))


def make_edges(
    source: Path,
    destination: Path,
    resolution: int = 256,
    val_fraction: float = 0.1,
    density: float = 0.12,
    outputs: Outputs | None = None,
) -> tuple[int, int, list[tuple[Path, str]]]:
    """Write ``destination/{train,val}/NAME.png`` = edges | photo for every image under source.
    Every ``round(1/val_fraction)``-th image (in sorted order) goes to val. Every target is
    checked by ``outputs`` before the first is written; images whose names differ only in their
    suffix (a.jpg, a.png) get distinct ones (a.png, a-2.png). Returns (train, val, skipped)."""
    files = find_images(source)
    outputs = outputs or Outputs()
    outputs.read(*files)
    outputs.folder(destination, "DESTINATION")
    every = round(1 / val_fraction) if val_fraction > 0 else 0
    jobs = []
    for index, path in enumerate(files):
        split = "val" if every and index % every == every - 1 else "train"
        jobs.append((path, split, outputs.file(destination / split / path.relative_to(source).with_suffix(".png"))))
    outputs.create_folders()
    counts, skipped = {"train": 0, "val": 0}, []
    for path, split, target in jobs:
        try:
            photo = load_square(path, resolution)
        except SkippedImage as exc:
            skipped.append((path.relative_to(source), str(exc)))
            continue
        edges = np.repeat(edge_map(photo, density)[..., None], 3, axis=2)
        side_by_side(edges, photo).save(target)
        counts[split] += 1
    return counts["train"], counts["val"], skipped
