"""Images from a model: sample grids during training, and batched generation."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch
from torch import nn

from ganzoo.data.convert import to_uint8
from ganzoo.protocols import DataInfo, SamplesConditionally, SamplesFromNoise
from ganzoo.training.artifacts import tensor_to_pil

SHEET_COLUMNS = 8  # images per row of a training sample grid (8 x 8 for unconditional models)
MAX_CLASS_ROWS = 16  # rows of a class-conditional grid, at most


@torch.no_grad()
def sample_images(
    model: nn.Module,
    noise: torch.Tensor,
    device: torch.device,
    batch_size: int = 256,
    labels: torch.Tensor | None = None,
    truncation: float | None = None,
) -> torch.Tensor:
    """uint8 images for ``noise`` (and ``labels``, for conditional models), generated in batches
    with the networks in eval mode (then restored). Everything goes through ``model.sample``."""
    return torch.cat(list(iter_samples(model, noise, device, batch_size, labels, truncation)))


@torch.no_grad()
def iter_samples(
    model: nn.Module,
    noise: torch.Tensor,
    device: torch.device,
    batch_size: int = 256,
    labels: torch.Tensor | None = None,
    truncation: float | None = None,
) -> Iterator[torch.Tensor]:
    """Like :func:`sample_images`, one uint8 batch at a time (memory stays flat for any count)."""
    sampler = cast(SamplesFromNoise, model)  # callers check the capability (require_inference, SampleGrids)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, noise.shape[0], batch_size):
            part = slice(start, start + batch_size)
            conditions = labels[part].to(device) if labels is not None else None
            yield to_uint8(sampler.sample(noise[part].to(device), conditions, truncation))
    finally:
        model.train(was_training)


@dataclass
class SampleSheet:
    """The fixed inputs of the training sample grids, the same all through a run: noise, and
    for conditional models one row per class (or random conditions, for attributes)."""

    noise: torch.Tensor
    labels: torch.Tensor | None
    columns: int = SHEET_COLUMNS

    @classmethod
    def for_model(cls, model, info: DataInfo, seed: int) -> SampleSheet:
        rows = row_choices(info.num_classes) if isinstance(model, SamplesConditionally) and info.classes else None
        count = SHEET_COLUMNS if rows else SHEET_COLUMNS * SHEET_COLUMNS  # per class row, or the whole grid
        return cls(*draw_codes(model, count, torch.Generator().manual_seed(seed), rows))

    def images(self, model: nn.Module, device: torch.device) -> torch.Tensor:
        return sample_images(model, self.noise, device, labels=self.labels)


#: Codes drawn per call. Fixed, so an image depends on --seed and its position only (never on
#: --batch-size), while memory stays flat however many images are asked for.
CODE_CHUNK = 4096


def iter_codes(
    model: nn.Module, n: int, generator: torch.Generator, choices: list[int] | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Noise, and conditions for conditional models, in chunks: ``n`` per chosen class
    (class by class), or ``n`` with conditions drawn like the training data's when no class is
    chosen. Each chunk's noise is drawn before its conditions."""
    sampler = cast(SamplesFromNoise, model)  # callers check the capability (require_inference, SampleGrids)
    conditioner = model if isinstance(model, SamplesConditionally) else None
    each_choice: list[int | None] = list(choices) if choices else [None]  # None: conditions drawn at random
    for choice in each_choice:
        for start in range(0, n, CODE_CHUNK):
            count = min(CODE_CHUNK, n - start)
            noise = sampler.noise(count, generator)
            yield noise, (conditioner.condition(count, generator, choice=choice) if conditioner is not None else None)


def generated(
    model: nn.Module,
    n: int,
    seed: int,
    choices: list[int] | None = None,
    truncation: float | None = None,
    batch_size: int = 256,
) -> Iterator[torch.Tensor]:
    """The images of ``ganzoo generate --seed SEED`` (and ``Run.generate``), batch by batch, as
    uint8 ``(N, C, H, W)``: ``n`` per chosen class, class by class."""
    device = next(model.parameters()).device
    for noise, labels in iter_codes(model, n, torch.Generator().manual_seed(seed), choices):
        yield from iter_samples(model, noise, device, batch_size, labels, truncation)


def draw_codes(
    model: nn.Module, n: int, generator: torch.Generator, choices: list[int] | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """All of :func:`iter_codes` at once."""
    chunks = list(iter_codes(model, n, generator, choices))
    noise = torch.cat([c[0] for c in chunks])
    conditions = [c[1] for c in chunks if c[1] is not None]  # all chunks have them, or none
    return noise, (torch.cat(conditions) if conditions else None)


def row_choices(count: int, most: int = MAX_CLASS_ROWS) -> list[int]:
    """The classes shown as grid rows: all of them, or ``most`` spread evenly over them."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def grid_image(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` images as one uint8 ``(C, H', W')`` grid, as square as possible."""
    from torchvision.utils import make_grid  # lazy: torchvision takes seconds to import; only grids need it

    nrow = nrow or math.ceil(math.sqrt(images.shape[0]))
    return make_grid(images, nrow=nrow, padding=padding, pad_value=255)


def save_grid(images: torch.Tensor, path: Path, nrow: int | None = None, padding: int = 2) -> None:
    """A grid PNG of uint8 ``(N, C, H, W)`` images, as square as possible."""
    save_png(grid_image(images, nrow, padding), path)


def save_png(image: torch.Tensor, path: Path) -> None:
    """One uint8 ``(C, H, W)`` image to a PNG, written to a temporary name first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tensor_to_pil(image).save(tmp, format="PNG")
    tmp.replace(path)
