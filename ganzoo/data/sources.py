"""In-memory image sources."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ganzoo.protocols import DataInfo


class TensorImages:
    """A dataset held as one uint8 ``(N, C, H, W)`` tensor (small, embedded datasets)."""

    def __init__(self, images: torch.Tensor, info: DataInfo, labels: torch.Tensor | None = None):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"expected uint8 (N, C, H, W) images, got {images.dtype} {tuple(images.shape)}")
        self.images = images
        self.labels = labels
        self.info = info

    def __len__(self) -> int:
        return self.images.shape[0]

    def batch(self, indices: Sequence[int] | torch.Tensor) -> dict[str, torch.Tensor]:
        return {"image": self.images[torch.as_tensor(indices)]}
