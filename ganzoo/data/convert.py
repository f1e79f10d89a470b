"""uint8 images: batches to the float ranges models expect, whole arrays to another size."""

from __future__ import annotations

from collections.abc import Collection

import torch
import torch.nn.functional as F


def to_model_range(
    batch: dict[str, torch.Tensor], device: torch.device, masks: Collection[str] = frozenset()
) -> dict[str, torch.Tensor]:
    """uint8 [0, 255] -> float [-1, 1] on ``device``; the keys in ``masks`` (the task's
    ``BatchSchema.masks``) -> [0, 1]; labels and attributes move unchanged."""
    out = {}
    for key, value in batch.items():
        value = value.to(device, non_blocking=True)
        if value.dtype == torch.uint8:
            value = value.float().div_(255.0) if key in masks else value.float().div_(127.5).sub_(1.0)
        out[key] = value
    return out


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255] on the CPU."""
    return images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu()


def resize_square(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 (N, C, S, S) -> (N, C, R, R), antialiased when shrinking."""
    if images.shape[-1] == resolution:
        return images
    resized = F.interpolate(
        images.float(),
        size=(resolution, resolution),
        mode="bilinear",
        align_corners=False,
        antialias=resolution < images.shape[-1],
    )
    return resized.round().clamp(0, 255).to(torch.uint8)
