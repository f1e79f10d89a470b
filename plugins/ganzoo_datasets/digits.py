"""scikit-learn's 8x8 digits, scaled to the training resolution."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganzoo.plugin import DataInfo, datakit, option
from ganzoo_datasets.official import DIGITS


@dataclass
class DigitsOptions:
    # Nearest keeps each of the 8x8 pixels as a sharp block, so the area shrink back to 8x8 gives
    # the original digit exactly; bilinear invents soft strokes no 8x8 digit has (docs/benchmarks.md).
    upscale: str = option("nearest", "how the 8x8 images are scaled to the resolution", choices=("nearest", "bilinear"))


def load(root=None, resolution: int = 16, split: str = "train", upscale: str = "nearest") -> datakit.TensorImages:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images).float().div(16.0).unsqueeze(1)  # (1797, 1, 8, 8) in [0, 1]
    size, shrinking = (resolution, resolution), resolution < images.shape[-1]
    if shrinking or (resolution > images.shape[-1] and upscale == "bilinear"):
        images = F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=shrinking)
    elif resolution > images.shape[-1]:
        images = F.interpolate(images, size=size, mode="nearest-exact")
    images = images.clamp(0, 1).mul(255).round().to(torch.uint8)
    info = DataInfo(kind="images", channels=1, resolution=resolution, size=len(images), name="digits", classes=DIGITS)
    return datakit.TensorImages(images, info, labels=torch.from_numpy(digits.target))
