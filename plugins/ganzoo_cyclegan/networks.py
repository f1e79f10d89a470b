"""CycleGAN's ResNet generator (after Johnson et al. 2016): c7s1-64, two stride-2 down
convolutions, residual blocks, two up convolutions, c7s1-3 with tanh; reflection padding."""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.plugin import layers


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, norm: str):
        super().__init__()
        make_norm, bias = layers.norm_layer(norm), layers.uses_bias(norm)
        self.body = nn.Sequential(
            layers.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            make_norm(channels),
            nn.ReLU(True),
            layers.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            make_norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def default_blocks(resolution: int) -> int:
    return 9 if resolution >= 256 else 6


class ResNetGenerator(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, ngf: int = 64, n_blocks: int = 9, norm: str = "instance"):
        super().__init__()
        make_norm, bias = layers.norm_layer(norm), layers.uses_bias(norm)
        modules = [layers.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=bias), make_norm(ngf), nn.ReLU(True)]
        for i in range(2):
            width = ngf * 2**i
            modules += [nn.Conv2d(width, width * 2, 3, 2, 1, bias=bias), make_norm(width * 2), nn.ReLU(True)]
        modules += [ResidualBlock(ngf * 4, norm) for _ in range(n_blocks)]
        for i in range(2, 0, -1):
            width = ngf * 2**i
            modules += [
                nn.ConvTranspose2d(width, width // 2, 3, 2, 1, output_padding=1, bias=bias),
                make_norm(width // 2),
                nn.ReLU(True),
            ]
        modules += [layers.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
