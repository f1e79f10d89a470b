"""``china2flower``: two domains that ship inside scikit-learn, so CycleGAN's demo runs
offline. A = random square crops (a quarter to a half of the height) of ``china.jpg``, B = the
same of ``flower.jpg``, resized to the training resolution; crops are drawn from a fixed seed,
400 per domain for ``train`` and 50 for ``test`` (a different seed)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ganzoo.plugin import DataInfo, datakit

COUNTS = {"train": 400, "test": 50}


def crops(photo: np.ndarray, count: int, resolution: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    image, (h, w) = Image.fromarray(photo), photo.shape[:2]
    out = []
    for _ in range(count):
        side = int(rng.integers(h // 4, h // 2 + 1))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = image.crop((left, top, left + side, top + side)).resize(
            (resolution, resolution), Image.Resampling.LANCZOS
        )
        out.append(np.asarray(crop))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).contiguous()


def load_china2flower(root=None, resolution: int = 32, split: str = "train") -> datakit.UnpairedImages:
    from sklearn.datasets import load_sample_image

    seed = 0 if split == "train" else 1
    a = crops(load_sample_image("china.jpg"), COUNTS[split], resolution, seed)
    b = crops(load_sample_image("flower.jpg"), COUNTS[split], resolution, seed + 10)
    info = DataInfo(kind="unpaired", channels=3, resolution=resolution, size=COUNTS[split], name="china2flower")
    return datakit.UnpairedImages(a, b, info)
