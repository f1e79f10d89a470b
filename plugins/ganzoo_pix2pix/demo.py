"""``edges2digits``: scikit-learn's digits beside their edge maps, built by the same edge maker
as ``ganzoo data make-edges`` (so the demo shows what a user's own edges dataset will do).
A = edges (black on white), B = the digit (white on black), both as RGB. The last 197 digits
are the ``test`` split, held out for evaluation and translation."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganzoo.plugin import DataInfo, datakit

TEST = 197


def load_edges2digits(root=None, resolution: int = 32, split: str = "train") -> datakit.ImageArrays:
    from sklearn.datasets import load_digits

    digits = torch.from_numpy(load_digits().images).float().div(16.0).unsqueeze(1)
    digits = F.interpolate(digits, size=(resolution, resolution), mode="bicubic", align_corners=False)
    digits = digits.clamp(0, 1).mul(255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    chosen = digits[:-TEST] if split == "train" else digits[-TEST:]
    edge_maps = np.stack([datakit.edge_map(image.permute(1, 2, 0).numpy(), density=0.2) for image in chosen])
    edges = torch.from_numpy(edge_maps).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    info = DataInfo(kind="paired", channels=3, resolution=resolution, size=len(chosen), name="edges2digits")
    return datakit.ImageArrays({"A": edges, "B": chosen}, info)
