"""Images from a model: sample grids during training, and batched generation."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganzoo.data.convert import to_uint8
from ganzoo.protocols import DataInfo, SamplesConditionally

SHEET_COLUMNS = 8  # images per row of a training sample grid (8 x 8 for unconditional models)
MAX_CLASS_ROWS = 16  # rows of a class-conditional grid, at most


@torch.no_grad()
def sample_images(model: nn.Module, noise: torch.Tensor, device: torch.device, batch_size: int = 256,
                  labels: torch.Tensor | None = None, truncation: float | None = None) -> torch.Tensor:
    """uint8 images for ``noise`` (and ``labels``, for conditional models), generated in batches
    with the networks in eval mode (then restored). Everything goes through ``model.sample``."""
    return torch.cat(list(iter_samples(model, noise, device, batch_size, labels, truncation)))


@torch.no_grad()
def iter_samples(model: nn.Module, noise: torch.Tensor, device: torch.device, batch_size: int = 256,
                 labels: torch.Tensor | None = None, truncation: float | None = None) -> Iterator[torch.Tensor]:
    """Like :func:`sample_images`, one uint8 batch at a time (memory stays flat for any count)."""
    was_training = model.training
    model.eval()
    try:
        for start in range(0, noise.shape[0], batch_size):
            part = slice(start, start + batch_size)
            conditions = labels[part].to(device) if labels is not None else None
            yield to_uint8(model.sample(noise[part].to(device), conditions, truncation))
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
    def for_model(cls, model, info: DataInfo, seed: int) -> "SampleSheet":
        generator = torch.Generator().manual_seed(seed)
        if not isinstance(model, SamplesConditionally):
            return cls(model.noise(SHEET_COLUMNS * SHEET_COLUMNS, generator), None)
        if info.classes:
            rows = row_choices(info.num_classes)
            noise = model.noise(len(rows) * SHEET_COLUMNS, generator)
            labels = torch.cat([model.condition(SHEET_COLUMNS, generator, choice=k) for k in rows])
            return cls(noise, labels)
        count = SHEET_COLUMNS * SHEET_COLUMNS
        return cls(model.noise(count, generator), model.condition(count, generator))

    def images(self, model: nn.Module, device: torch.device) -> torch.Tensor:
        return sample_images(model, self.noise, device, labels=self.labels)


def row_choices(count: int, most: int = MAX_CLASS_ROWS) -> list[int]:
    """The classes shown as grid rows: all of them, or ``most`` spread evenly over them."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def save_grid(images: torch.Tensor, path: Path, nrow: int | None = None, padding: int = 2) -> None:
    """A grid PNG of uint8 ``(N, C, H, W)`` images, as square as possible."""
    from torchvision.utils import make_grid

    nrow = nrow or math.ceil(math.sqrt(images.shape[0]))
    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=255)
    save_png(grid, path)


def save_png(image: torch.Tensor, path: Path) -> None:
    """One uint8 ``(C, H, W)`` image to a PNG, written to a temporary name first."""
    from ganzoo.training.artifacts import tensor_to_pil

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tensor_to_pil(image).save(tmp, format="PNG")
    tmp.replace(path)
