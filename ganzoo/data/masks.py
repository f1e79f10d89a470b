"""Seeded hole masks for inpainting.

One convention everywhere: a mask is a float32 tensor ``(N, 1, R, R)`` whose values are exactly
0 and 1, and **1 is the hole** (white in a PNG). Every kind documents the fraction of pixels
that may be holes and every generated mask lies within it: a draw outside the bounds is redrawn,
and after :data:`MAX_DRAWS` failures replaced by one box whose area is inside them, so a mask
is never empty and never full.

All randomness comes from the ``torch.Generator`` passed in: one seed is drawn from it per
call and feeds a numpy generator for the drawing, so the same generator state gives the same
masks, the generator's state advances (and is checkpointed with the rest of a run), and the
first k masks of a batch do not depend on how many follow.

Pixel sizes in the published parameters below are for 256 px images; they are scaled by
``resolution / 256``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from ganzoo.errors import DataError, UnknownNameError, UsageError

#: Draws of one mask before falling back to a box inside the bounds. With the bounds below a
#: natural draw fails rarely (a few percent at most), so the fallback almost never shows.
MAX_DRAWS = 20
MIN_RESOLUTION = 16  # below this the 1-pixel brushes and the ratio bounds stop making sense
REFERENCE_SIZE = 256  # the image size the published pixel parameters are given for


@dataclass(frozen=True)
class MaskKind:
    """A mask generator's documented behaviour: what it draws and how much of the image."""

    name: str
    description: str
    min_ratio: float  # smallest fraction of pixels that are holes (inclusive)
    max_ratio: float  # largest fraction (inclusive)
    source: str


@dataclass(frozen=True)
class LamaPreset:
    """LaMa's random irregular masks (Suvorov et al. 2022), values as in its 256 px data_gen
    configs (configs/data_gen/random_{thin,medium,thick}_256.yaml). A mask is either a set of
    polylines or, with mixture weight ``box_weight`` against the lines' weight of 1, a set of
    boxes; masks covering more than half the image are rejected (``max_tamper_area: 0.5``)."""

    min_lines: int  # polylines per mask ("min_times" / "max_times")
    max_lines: int
    max_width: int  # brush width 5 + [0, max_width) px
    max_len: int  # segment length 10 + [0, max_len) px; each polyline has 1-5 segments
    box_weight: float = 0.0  # "box_proba" (LaMa normalises the mixture weights)
    box_min: int = 0  # box side in [box_min, box_max) px
    box_max: int = 0
    box_min_count: int = 0
    box_max_count: int = 0
    box_margin: int = 0  # boxes keep this far from the border


THIN = LamaPreset(min_lines=4, max_lines=50, max_width=10, max_len=40)
MEDIUM = LamaPreset(
    min_lines=4,
    max_lines=5,
    max_width=50,
    max_len=100,
    box_weight=0.3,
    box_min=10,
    box_max=50,
    box_min_count=1,
    box_max_count=5,
    box_margin=0,
)
THICK = LamaPreset(
    min_lines=1,
    max_lines=5,
    max_width=100,
    max_len=200,
    box_weight=0.3,
    box_min=30,
    box_max=150,
    box_min_count=1,
    box_max_count=3,
    box_margin=10,
)

# DeepFill v2's free-form strokes (Yu et al. 2019, Algorithm 1); the values are those of the
# authors' release (brush_stroke_mask in generative_inpainting's inpaint_ops.py), for 256 px.
STROKES_PER_MASK = (1, 3)
STROKE_VERTICES = (4, 11)
STROKE_MEAN_ANGLE = 2 * math.pi / 5
STROKE_ANGLE_RANGE = 2 * math.pi / 15
STROKE_WIDTH = (12, 40)  # px at 256

# Globally and Locally Consistent Image Completion (Iizuka et al. 2017): one hole whose sides
# are drawn independently from [96, 128] px of a 256 px image, i.e. [3/8, 1/2] of the side.
BOX_SIDE = (3 / 8, 1 / 2)

MASK_KINDS: dict[str, MaskKind] = {
    kind.name: kind
    for kind in (
        MaskKind(
            "box",
            "one axis-aligned rectangle, each side 3/8 to 1/2 of the image side",
            (3 / 8) ** 2,
            0.25,
            "Iizuka et al. 2017 (GLCIC)",
        ),
        MaskKind(
            "eyes",
            "the given rectangles (one per eye, placed from landmarks by the dataset)",
            0.0,
            1.0,
            "Dolhansky & Canton Ferrer 2018 (ExGAN)",
        ),
        MaskKind(
            "strokes",
            "1-3 free-form brush strokes of 4-11 vertices, 12-40 px wide at 256 px, round joints",
            0.02,
            0.6,
            "Yu et al. 2019 (DeepFill v2), Algorithm 1",
        ),
        MaskKind(
            "thin",
            "4-50 thin polylines, 5-14 px wide at 256 px",
            0.02,
            0.5,
            "Suvorov et al. 2022 (LaMa), random_thin_256",
        ),
        MaskKind(
            "medium",
            "4-5 polylines 5-54 px wide at 256 px, or (23%) 1-5 boxes of 10-49 px",
            0.04,
            0.5,
            "Suvorov et al. 2022 (LaMa), random_medium_256",
        ),
        MaskKind(
            "thick",
            "1-5 polylines 5-104 px wide at 256 px, or (23%) 1-3 boxes of 30-149 px",
            0.08,
            0.5,
            "Suvorov et al. 2022 (LaMa), random_thick_256",
        ),
    )
}
"""Mask kind name -> its :class:`MaskKind` (a description and the bounds of its hole ratio)."""


def make_masks(
    kind: str, n: int, resolution: int, generator: torch.Generator, boxes: Sequence | torch.Tensor | None = None
) -> torch.Tensor:
    """``n`` masks of ``kind``, float32 ``(n, 1, resolution, resolution)``, 1 = hole.

    ``boxes`` (kind ``eyes`` only): per sample, one rectangle ``(x0, y0, x1, y1)`` in pixels
    (x1, y1 exclusive) or a list of them; every pixel a rectangle touches becomes a hole.
    """
    if kind not in MASK_KINDS:
        raise UnknownNameError("mask kind", kind, MASK_KINDS)
    if resolution < MIN_RESOLUTION:
        raise UsageError(f"masks need a resolution of at least {MIN_RESOLUTION} px, got {resolution}")
    if n < 0:
        raise UsageError(f"the number of masks cannot be negative, got {n}")
    if kind == "eyes":
        return _eye_masks(n, resolution, boxes)
    if boxes is not None:
        raise UsageError(f"boxes are only used by 'eyes' masks, not by '{kind}'")
    spec = MASK_KINDS[kind]
    rng = np.random.default_rng(_seed_from(generator))
    masks = np.zeros((n, 1, resolution, resolution), dtype=np.float32)
    for index in range(n):  # one after the other from one stream: a prefix never depends on n
        masks[index, 0] = _within_bounds(_DRAWERS[kind], rng, resolution, spec)
    return torch.from_numpy(masks)


def bounding_boxes(masks: torch.Tensor) -> torch.Tensor:
    """int64 ``(N, 4)``: ``(x0, y0, x1, y1)`` of each mask's holes, x1 and y1 exclusive.

    An empty mask gets the whole image, so a local critic still sees something sensible."""
    holes = masks.reshape(masks.shape[0], masks.shape[-2], masks.shape[-1]) > 0.5
    x0, x1 = _span(holes.any(dim=1))  # columns holding a hole
    y0, y1 = _span(holes.any(dim=2))  # rows holding a hole
    return torch.stack([x0, y0, x1, y1], dim=1)


def write_masks(kind: str, n: int, resolution: int, out_dir: Path, seed: int) -> list[Path]:
    """Write ``n`` masks as 8-bit greyscale PNGs ``mask-000.png``... (white = hole)."""
    if kind == "eyes":
        raise UsageError("'eyes' masks are placed from face landmarks; pick another kind to write masks")
    masks = make_masks(kind, n, resolution, torch.Generator().manual_seed(seed))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digits = max(3, len(str(n - 1)))
    paths = []
    for index, mask in enumerate(masks):
        path = out_dir / f"mask-{index:0{digits}d}.png"
        Image.fromarray((mask[0].numpy() * 255).astype(np.uint8), mode="L").save(path)
        paths.append(path)
    return paths


# -- drawing ----------------------------------------------------------------------------------


def _seed_from(generator: torch.Generator) -> int:
    return int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())


def _within_bounds(
    draw: Callable[[np.random.Generator, int], np.ndarray], rng: np.random.Generator, resolution: int, spec: MaskKind
) -> np.ndarray:
    """Redraw until the hole ratio is inside the kind's bounds; then fall back to a box."""
    for _ in range(MAX_DRAWS):
        mask = draw(rng, resolution)
        if spec.min_ratio <= mask.mean() <= spec.max_ratio:
            return mask
    return _box_with_ratio(rng, resolution, spec.min_ratio, spec.max_ratio)


def _box_with_ratio(rng: np.random.Generator, resolution: int, low: float, high: float) -> np.ndarray:
    """A rectangle covering a fraction of the image in [low, high] (the last resort): one of
    the sizes that fit, preferring those no more than twice as long as they are wide."""
    total = resolution * resolution
    least, most = max(1, math.ceil(low * total)), min(total - 1, math.floor(high * total))
    sides = np.arange(1, resolution + 1)
    areas = sides[:, None] * sides[None, :]
    fits = (areas >= least) & (areas <= most)
    squarish = fits & (np.maximum(sides[:, None], sides[None, :]) <= 2 * np.minimum(sides[:, None], sides[None, :]))
    heights, widths = np.nonzero(squarish if squarish.any() else fits)
    pick = rng.integers(len(heights))
    height, width = heights[pick] + 1, widths[pick] + 1
    mask = np.zeros((resolution, resolution), dtype=bool)
    top, left = rng.integers(0, resolution - height + 1), rng.integers(0, resolution - width + 1)
    mask[top : top + height, left : left + width] = True
    return mask


def _canvas(resolution: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (resolution, resolution), 0)
    return image, ImageDraw.Draw(image)


def _holes(image: Image.Image) -> np.ndarray:
    return np.asarray(image) > 127


def _round_line(draw: ImageDraw.ImageDraw, start: tuple[float, float], end: tuple[float, float], width: int) -> None:
    """A brush segment: a line with a disc at each end, so strokes join without notches."""
    draw.line([start, end], fill=255, width=width)
    radius = width / 2
    for x, y in (start, end):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)


def _scaled_width(pixels: float, scale: float) -> int:
    return max(1, round(pixels * scale))


def _draw_box(rng: np.random.Generator, resolution: int) -> np.ndarray:
    low, high = math.ceil(BOX_SIDE[0] * resolution), math.floor(BOX_SIDE[1] * resolution)
    height, width = rng.integers(low, high + 1, size=2)
    top, left = rng.integers(0, resolution - height + 1), rng.integers(0, resolution - width + 1)
    mask = np.zeros((resolution, resolution), dtype=bool)
    mask[top : top + height, left : left + width] = True
    return mask


def _draw_strokes(rng: np.random.Generator, resolution: int) -> np.ndarray:
    """DeepFill v2: each stroke walks from a random point through 4-11 vertices, turning by an
    angle near 2*pi/5 (alternately left and right), with steps ~ N(r, r/2) clipped to [0, 2r]
    where r is an eighth of the image diagonal; then the whole mask may be flipped."""
    scale = resolution / REFERENCE_SIZE
    image, draw = _canvas(resolution)
    step = math.hypot(resolution, resolution) / 8
    for _ in range(rng.integers(STROKES_PER_MASK[0], STROKES_PER_MASK[1] + 1)):
        spread_low, spread_high = rng.uniform(0, STROKE_ANGLE_RANGE, size=2)
        low, high = STROKE_MEAN_ANGLE - spread_low, STROKE_MEAN_ANGLE + spread_high
        width = _scaled_width(rng.uniform(*STROKE_WIDTH), scale)
        x, y = rng.uniform(0, resolution, size=2)
        for vertex in range(rng.integers(STROKE_VERTICES[0], STROKE_VERTICES[1] + 1)):
            angle = rng.uniform(low, high)
            if vertex % 2 == 0:
                angle = 2 * math.pi - angle
            length = float(np.clip(rng.normal(step, step / 2), 0, 2 * step))
            nx = float(np.clip(x + length * math.cos(angle), 0, resolution - 1))
            ny = float(np.clip(y + length * math.sin(angle), 0, resolution - 1))
            _round_line(draw, (x, y), (nx, ny), width)
            x, y = nx, ny
    mask = _holes(image)
    if rng.random() < 0.5:
        mask = mask[:, ::-1]
    if rng.random() < 0.5:
        mask = mask[::-1, :]
    return np.ascontiguousarray(mask)


def _lama_drawer(preset: LamaPreset) -> Callable[[np.random.Generator, int], np.ndarray]:
    def draw(rng: np.random.Generator, resolution: int) -> np.ndarray:
        if preset.box_weight and rng.random() < preset.box_weight / (1 + preset.box_weight):
            return _lama_boxes(rng, resolution, preset)
        return _lama_lines(rng, resolution, preset)

    return draw


def _lama_lines(rng: np.random.Generator, resolution: int, preset: LamaPreset) -> np.ndarray:
    """Polylines of 1-5 segments from random points. LaMa turns by whole radians; here the
    direction of each segment is uniform, which draws the same kind of shapes without its
    handful of preferred angles."""
    scale = resolution / REFERENCE_SIZE
    image, draw = _canvas(resolution)
    for _ in range(rng.integers(preset.min_lines, preset.max_lines + 1)):
        x, y = rng.uniform(0, resolution, size=2)
        for _ in range(rng.integers(1, 6)):
            angle = rng.uniform(0, 2 * math.pi)
            length = (10 + rng.uniform(0, preset.max_len)) * scale
            width = _scaled_width(5 + rng.uniform(0, preset.max_width), scale)
            nx = float(np.clip(x + length * math.cos(angle), 0, resolution - 1))
            ny = float(np.clip(y + length * math.sin(angle), 0, resolution - 1))
            _round_line(draw, (x, y), (nx, ny), width)
            x, y = nx, ny
    return _holes(image)


def _lama_boxes(rng: np.random.Generator, resolution: int, preset: LamaPreset) -> np.ndarray:
    scale = resolution / REFERENCE_SIZE
    margin = round(preset.box_margin * scale)
    smallest = max(1, round(preset.box_min * scale))
    largest = max(smallest + 1, min(round(preset.box_max * scale), resolution - 2 * margin))
    mask = np.zeros((resolution, resolution), dtype=bool)
    for _ in range(rng.integers(preset.box_min_count, preset.box_max_count + 1)):
        height, width = rng.integers(smallest, largest, size=2)
        top = rng.integers(margin, resolution - margin - height + 1)
        left = rng.integers(margin, resolution - margin - width + 1)
        mask[top : top + height, left : left + width] = True
    return mask


_DRAWERS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "box": _draw_box,
    "strokes": _draw_strokes,
    "thin": _lama_drawer(THIN),
    "medium": _lama_drawer(MEDIUM),
    "thick": _lama_drawer(THICK),
}


# -- eyes and boxes ---------------------------------------------------------------------------


def _eye_masks(n: int, resolution: int, boxes: Sequence | torch.Tensor | None) -> torch.Tensor:
    if boxes is None:
        raise UsageError("'eyes' masks need boxes: one list of (x0, y0, x1, y1) rectangles per sample")
    if len(boxes) != n:
        raise UsageError(f"'eyes' masks need boxes for each of the {n} samples, got {len(boxes)}")
    masks = torch.zeros(n, 1, resolution, resolution)
    for index, sample in enumerate(boxes):
        for x0, y0, x1, y1 in _rectangles(sample):
            left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
            right, bottom = min(resolution, math.ceil(x1)), min(resolution, math.ceil(y1))
            masks[index, 0, top:bottom, left:right] = 1.0
        ratio = float(masks[index].mean())
        if ratio == 0.0 or ratio == 1.0:
            raise DataError(
                f"the eye boxes of sample {index} make an {'empty' if ratio == 0 else 'full'} "
                f"{resolution}x{resolution} mask: {_rectangles(sample)}"
            )
    return masks


def _rectangles(sample) -> list[tuple[float, float, float, float]]:
    """One rectangle or a list of them -> a list of 4-tuples of numbers."""
    values = sample.tolist() if isinstance(sample, (torch.Tensor, np.ndarray)) else sample
    if len(values) == 4 and all(isinstance(v, (int, float)) for v in values):
        values = [values]
    rectangles = [tuple(float(v) for v in rectangle) for rectangle in values]
    if any(len(rectangle) != 4 for rectangle in rectangles):
        raise UsageError(f"a box is (x0, y0, x1, y1); got {values}")
    return [(x0, y0, x1, y1) for x0, y0, x1, y1 in rectangles]


def _span(flags: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """First and one-past-last True index of each row of ``flags`` ((N, L) bool); 0 and L when
    a row has none. Stays on the device (no host synchronisation)."""
    length = flags.shape[1]
    index = torch.arange(length, device=flags.device).expand_as(flags)
    first = torch.where(flags, index, length).amin(dim=1)
    last = torch.where(flags, index, -1).amax(dim=1) + 1
    empty = ~flags.any(dim=1)
    return torch.where(empty, 0, first), torch.where(empty, length, last)
