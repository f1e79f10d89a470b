"""The ``digits`` feature extractor: a small CNN trained on scikit-learn's digits.

It exists so that evaluation works fully offline on the embedded dataset. Its weights ship with
ganzoo (``digits-v1.safetensors`` beside this module, 85,066 parameters, checked against their
SHA-256 when loaded): training them takes close to a minute on two CPU cores, which every first
evaluation used to pay in silence. ``python -m ganzoo.metrics.digits_net`` trains them again
(deterministically: fixed seed, fixed data order, CPU) and prints the digest to record here.
Its features are the 64-d penultimate layer; its logits score the ten digit classes. Images are
converted to grey and resized to 16x16 first.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load, save_file
from torch import nn

from ganzoo.errors import GanzooError

VERSION = 1
SIDE = 16
WEIGHTS = Path(__file__).with_name(f"digits-v{VERSION}.safetensors")
WEIGHTS_SHA256 = "055b2e6b8a80bc90f301499c0f9277662c94385e1633688e9cd8faba263da2fe"


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8x8
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 4x4
            nn.Flatten(),
            nn.Linear(64 * 16, 64),
            nn.ReLU(),
        )
        self.head = nn.Linear(64, 10)


def _prepare(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float (N, 1, 16, 16) in [0, 1]."""
    x = images.float().div(255.0)
    if x.shape[1] == 3:
        x = x.mean(dim=1, keepdim=True)
    if x.shape[-1] != SIDE:
        x = F.interpolate(x, size=(SIDE, SIDE), mode="bilinear", align_corners=False, antialias=x.shape[-1] > SIDE)
    return x


def _train() -> dict[str, torch.Tensor]:
    # lazy: scikit-learn takes a second to import; only training this net needs it
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images).float().div(16.0).unsqueeze(1)
    images = F.interpolate(images, size=(SIDE, SIDE), mode="bilinear", align_corners=False)
    labels = torch.from_numpy(digits.target).long()
    generator = torch.Generator().manual_seed(0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = DigitsNet()
        optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
        for _ in range(30):
            order = torch.randperm(len(images), generator=generator)
            for start in range(0, len(images), 64):
                index = order[start : start + 64]
                # small shifts make the features robust to the offsets generated digits have
                shifted = torch.roll(
                    images[index], shifts=tuple(torch.randint(-1, 2, (2,), generator=generator).tolist()), dims=(2, 3)
                )
                loss = F.cross_entropy(net.head(net.body(shifted)), labels[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return net.state_dict()


def _read(path: Path, sha256: str | None = None) -> dict[str, torch.Tensor]:
    try:
        data = path.read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError("its SHA-256 is not the one this version of ganzoo shipped")
        return load(data)
    except Exception as exc:
        raise GanzooError(f"the digits extractor's weights '{path}' cannot be read ({exc}); reinstall ganzoo") from None


def shipped_weights() -> dict[str, torch.Tensor]:
    """The weights that ship with ganzoo, verified against their digest."""
    return _read(WEIGHTS, WEIGHTS_SHA256)


class DigitsExtractor(nn.Module):
    """The ``digits`` feature extractor (a ``ganzoo.protocols.FeatureExtractor``)."""

    name = "digits"
    num_features = 64
    num_classes = 10
    key = f"digits-v{VERSION}"

    def __init__(self, weights=None):
        super().__init__()

        self.net = DigitsNet()
        self.net.load_state_dict(shipped_weights() if weights is None else _read(Path(weights)))
        self.eval().requires_grad_(False)

    def features(self, images):
        return self.net.body(_prepare(images))

    def logits(self, images):
        return self.net.head(self.features(images))


def main(out: Path = WEIGHTS) -> None:
    """Train the weights again and write them (``python -m ganzoo.metrics.digits_net [FILE]``)."""
    save_file(_train(), out)
    print(f"{out}: sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else WEIGHTS)
