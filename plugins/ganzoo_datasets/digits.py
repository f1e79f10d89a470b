"""scikit-learn's 8x8 digits, scaled (bilinear) to the training resolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.plugin import DataInfo, datakit
from ganzoo_datasets.official import DIGITS


def load(root=None, resolution: int = 16, split: str = "train") -> datakit.TensorImages:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images).float().div(16.0).unsqueeze(1)  # (1797, 1, 8, 8) in [0, 1]
    if resolution != images.shape[-1]:
        images = F.interpolate(
            images,
            size=(resolution, resolution),
            mode="bilinear",
            align_corners=False,
            antialias=resolution < images.shape[-1],
        )
    images = images.clamp(0, 1).mul(255).round().to(torch.uint8)
    info = DataInfo(kind="images", channels=1, resolution=resolution, size=len(images), name="digits", classes=DIGITS)
    return datakit.TensorImages(images, info, labels=torch.from_numpy(digits.target))
