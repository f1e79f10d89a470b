"""R3GAN's networks (Huang et al. 2024, section 3.3; the reference code's R3GAN/Networks.py):
a plain ResNet with no normalisation, built from one residual block in G and D.

Residual block: 1x1 conv to E = C x expansion channels, bias + leaky ReLU (0.2), grouped 3x3
conv (16 channels per group), bias + leaky ReLU, 1x1 conv back to C, added to the input. The
convolutions have no bias (the activations carry the only biases, starting at 0); the last one
starts at zero, so every block starts as the identity, and the first two are drawn with a gain
shrunk by L^(-1/4) for L blocks in the network (Fixup-style variance scaling).

Generator: z (joined to a class embedding when conditional) scales a learned 4x4 constant per
channel; stages of blocks, each next stage up-sampled 2x with the [1,3,3,1] low-pass filter; a
1x1 conv to the image, with no tanh (the output is linear, as the reference's).
Discriminator, the mirror image: a 1x1 conv from the image, stages of blocks each followed by a
2x down-sampling with the same filter, and at 4x4 a depthwise 4x4 conv and a linear layer to
one logit, or, conditional, to an embedding projected on the class's (projection only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

BOTTOM = 4  # both networks meet at 4x4
LEAKY_GAIN = math.sqrt(2 / (1 + 0.2**2))  # He gain of a leaky ReLU with slope 0.2


def msr_init(layer: nn.Conv2d | nn.Linear, gain: float) -> nn.Module:
    """The reference's initialisation: weights N(0, (gain / sqrt(fan-in))^2), fan-in counted per
    group; gain 0 gives a zero layer."""
    fan_in = layer.weight[0].numel()
    nn.init.normal_(layer.weight, 0.0, gain / math.sqrt(fan_in))
    return layer


class BiasedLeakyReLU(nn.Module):
    """A bias per channel (starting at 0), then a leaky ReLU with slope 0.2."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x + self.bias.view(1, -1, 1, 1), 0.2)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, expansion: int, group_channels: int, total_blocks: int):
        super().__init__()
        wide = channels * expansion
        if wide % group_channels:
            raise ValueError(f"{wide} expanded channels do not split into groups of {group_channels}")
        gain = LEAKY_GAIN * total_blocks ** (-1 / 4)
        self.expand = msr_init(nn.Conv2d(channels, wide, 1, bias=False), gain)
        self.act1 = BiasedLeakyReLU(wide)
        self.mix = msr_init(nn.Conv2d(wide, wide, 3, padding=1, groups=wide // group_channels, bias=False), gain)
        self.act2 = BiasedLeakyReLU(wide)
        self.project = msr_init(nn.Conv2d(wide, channels, 1, bias=False), 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.project(self.act2(self.mix(self.act1(self.expand(x)))))


class Resample(nn.Module):
    """2x up- or down-sampling with the separable [1,3,3,1] low-pass filter (zero padding),
    as the reference's upfirdn2d: up-sampling inserts zeros and filters with gain 4."""

    kernel: torch.Tensor

    def __init__(self, up: bool):
        super().__init__()
        taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
        kernel = torch.outer(taps, taps)
        self.up = up
        self.register_buffer("kernel", (kernel / kernel.sum() * (4 if up else 1))[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        kernel = self.kernel.to(x.dtype).expand(channels, 1, 4, 4)
        if self.up:
            return F.conv_transpose2d(x, kernel, stride=2, padding=1, groups=channels)
        return F.conv2d(x, kernel, stride=2, padding=1, groups=channels)


@dataclass(frozen=True)
class Shape:
    """What G and D are built alike from: ``width`` channels in every stage, ``blocks`` residual
    blocks per stage, one stage per doubling from 4x4 to ``resolution``."""

    width: int
    blocks: int
    expansion: int
    group_channels: int
    image_channels: int
    resolution: int

    @property
    def stages(self) -> int:
        """4 at 32 px (the reference's CIFAR-10), 3 at 16."""
        return int(math.log2(self.resolution // BOTTOM)) + 1

    def stage_blocks(self) -> list[nn.Module]:
        """One stage's residual blocks, initialised for the network's count of blocks."""
        total = self.stages * self.blocks
        return [ResidualBlock(self.width, self.expansion, self.group_channels, total) for _ in range(self.blocks)]


class Generator(nn.Module):
    def __init__(self, z_dim: int, shape: Shape, num_classes: int = 0, embed_dim: int = 0):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        width = shape.width
        self.embed = msr_init(nn.Linear(num_classes, embed_dim, bias=False), 1.0) if num_classes else None
        self.basis = nn.Parameter(torch.randn(width, BOTTOM, BOTTOM))
        self.modulate = msr_init(nn.Linear(z_dim + (embed_dim if num_classes else 0), width, bias=False), 1.0)
        self.stages = nn.ModuleList(
            nn.Sequential(*([Resample(up=True)] if index else []), *shape.stage_blocks())
            for index in range(shape.stages)
        )
        self.to_image = msr_init(nn.Conv2d(width, shape.image_channels, 1, bias=False), 1.0)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("this generator is class-conditional: pass labels")
            z = torch.cat([z, self.embed(F.one_hot(labels, self.num_classes).to(z.dtype))], dim=1)
        h = self.basis[None] * self.modulate(z)[:, :, None, None]
        for stage in self.stages:
            h = stage(h)
        return self.to_image(h)


class Discriminator(nn.Module):
    def __init__(self, shape: Shape, num_classes: int = 0):
        super().__init__()
        self.num_classes = num_classes
        width, count = shape.width, shape.stages
        self.from_image = msr_init(nn.Conv2d(shape.image_channels, width, 1, bias=False), 1.0)
        self.stages = nn.Sequential(
            *(
                nn.Sequential(*shape.stage_blocks(), *([Resample(up=False)] if index < count - 1 else []))
                for index in range(count)
            )
        )
        self.basis = msr_init(nn.Conv2d(width, width, BOTTOM, groups=width, bias=False), 1.0)
        self.out = msr_init(nn.Linear(width, width if num_classes else 1, bias=False), 1.0)
        self.embed = msr_init(nn.Linear(num_classes, width, bias=False), 1 / math.sqrt(width)) if num_classes else None

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.out(self.basis(self.stages(self.from_image(images))).flatten(1))
        if self.embed is None:
            return h.squeeze(1)
        if labels is None:
            raise ValueError("this discriminator is class-conditional: pass labels")
        return (h * self.embed(F.one_hot(labels, self.num_classes).to(h.dtype))).sum(dim=1)
