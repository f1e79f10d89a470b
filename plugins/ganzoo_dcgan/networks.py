"""The DCGAN networks of Radford et al. (2016), generalised to square power-of-two sizes.

Both networks double (or halve) the spatial size per block with 4x4 stride-2 convolutions
between a 4x4 bottleneck and the image, so a resolution R has log2(R) - 2 blocks; channel
widths double towards the bottleneck, as in the paper's 64x64 network (ngf*8 at 4x4).
"""

from __future__ import annotations

import math

import torch
from torch import nn

SUPPORTED_RESOLUTIONS = (16, 32, 64, 128)


def _blocks(resolution: int) -> int:
    if resolution not in SUPPORTED_RESOLUTIONS:
        raise ValueError(f"DCGAN supports resolutions {SUPPORTED_RESOLUTIONS}, not {resolution}")
    return int(math.log2(resolution)) - 2


class Generator(nn.Module):
    """z (N, nz) -> image (N, channels, R, R) in [-1, 1]."""

    def __init__(self, nz: int, ngf: int, channels: int, resolution: int):
        super().__init__()
        blocks = _blocks(resolution)
        width = ngf * 2 ** (blocks - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(blocks - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.nz = nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.view(z.shape[0], self.nz, 1, 1))


class Discriminator(nn.Module):
    """image (N, channels, R, R) -> real/fake logits (N,). No sigmoid: losses take logits."""

    def __init__(self, ndf: int, channels: int, resolution: int):
        super().__init__()
        layers, width = discriminator_body(ndf, channels, resolution)
        layers.append(nn.Conv2d(width, 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).flatten()


def discriminator_body(ndf: int, channels: int, resolution: int) -> tuple[list[nn.Module], int]:
    """The layers from the image down to the 4x4 feature map, and that map's channel count."""
    blocks = _blocks(resolution)
    layers: list[nn.Module] = [nn.Conv2d(channels, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    width = ndf
    for _ in range(blocks - 1):
        layers += [
            nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width * 2),
            nn.LeakyReLU(0.2, True),
        ]
        width *= 2
    return layers, width


def init_weights(module: nn.Module) -> None:
    """The paper's initialisation: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
