"""Images from a model: sample grids during training, and batched generation."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from ganzoo.data.convert import to_uint8


@torch.no_grad()
def sample_images(model: nn.Module, noise: torch.Tensor, device: torch.device, batch_size: int = 256) -> torch.Tensor:
    """uint8 images for ``noise`` (generated in batches, networks in eval mode, then restored)."""
    was_training = model.training
    model.eval()
    try:
        chunks = [to_uint8(model.sample(part.to(device))) for part in noise.split(batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(chunks)


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
