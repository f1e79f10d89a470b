"""The SNGAN ResNets for 32x32 images (Miyato et al. 2018, Table 4; the reference code's
resnet_32 generator and snresnet_32 discriminator), at 16 pixels with one block fewer in each.

Generator: z -> linear to 4x4 maps -> up-sampling residual blocks (BN, ReLU, nearest 2x,
conv 3x3, BN, ReLU, conv 3x3; shortcut: nearest 2x, conv 1x1) to the resolution -> BN, ReLU,
conv 3x3 to the image, tanh. Conditional: every block's BN is a conditional BN (a scale and
shift per class).

Discriminator, every weight spectrally normalised (one power iteration per forward pass):
an optimised first block (conv, ReLU, conv, 2x2 average pool; shortcut: pool, conv 1x1), a
down-sampling block, two plain blocks (ReLU, conv, ReLU, conv; identity shortcut), ReLU, the
sum over positions, a linear layer to one logit. Conditional: plus the projection <embed(y), h>.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

BOTTOM = 4  # the generator starts from 4x4 maps


def up_blocks(resolution: int) -> int:
    """Up-sampling blocks from 4x4 to ``resolution``: 3 at 32 px (the paper's), 2 at 16."""
    return int(math.log2(resolution // BOTTOM))


class ConditionalBatchNorm2d(nn.Module):
    """Batch normalisation without its own affine, then a scale and a shift chosen by the class
    (the reference's categorical conditional BN: scales start at 1, shifts at 0)."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale = nn.Embedding(num_classes, channels)
        self.shift = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * self.scale(labels)[:, :, None, None] + self.shift(labels)[:, :, None, None]


class GeneratorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_classes: int):
        super().__init__()
        self.norm1 = _norm(in_channels, num_classes)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = _norm(out_channels, num_classes)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)  # learnable: the block up-samples
        _glorot(self.conv1, math.sqrt(2))
        _glorot(self.conv2, math.sqrt(2))
        _glorot(self.shortcut, 1.0)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        h = F.relu(_normalise(self.norm1, x, labels))
        h = self.conv1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.conv2(F.relu(_normalise(self.norm2, h, labels)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class Generator(nn.Module):
    def __init__(self, z_dim: int, channels: int, image_channels: int, resolution: int, num_classes: int = 0):
        super().__init__()
        self.z_dim, self.channels, self.num_classes = z_dim, channels, num_classes
        self.linear = nn.Linear(z_dim, BOTTOM * BOTTOM * channels)
        self.blocks = nn.ModuleList(
            GeneratorBlock(channels, channels, num_classes) for _ in range(up_blocks(resolution))
        )
        self.norm = nn.BatchNorm2d(channels)
        self.to_image = nn.Conv2d(channels, image_channels, 3, padding=1)
        _glorot(self.linear, 1.0)
        _glorot(self.to_image, 1.0)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes and labels is None:
            raise ValueError("this generator is class-conditional: pass labels")
        h = self.linear(z).view(z.shape[0], self.channels, BOTTOM, BOTTOM)
        for block in self.blocks:
            h = block(h, labels if self.num_classes else None)
        return torch.tanh(self.to_image(F.relu(self.norm(h))))


class DiscriminatorBlock(nn.Module):
    """``first``: the optimised block on the image (no activation before its first conv, the
    shortcut pooled before its 1x1 conv)."""

    def __init__(self, in_channels: int, out_channels: int, down: bool, first: bool = False):
        super().__init__()
        self.down, self.first = down, first
        self.conv1 = _sn(nn.Conv2d(in_channels, out_channels, 3, padding=1), math.sqrt(2))
        self.conv2 = _sn(nn.Conv2d(out_channels, out_channels, 3, padding=1), math.sqrt(2))
        learnable = first or down or in_channels != out_channels
        self.shortcut = _sn(nn.Conv2d(in_channels, out_channels, 1), 1.0) if learnable else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x if self.first else F.relu(x))
        h = self.conv2(F.relu(h))
        if self.down:
            h = F.avg_pool2d(h, 2)
        return h + self._shortcut(x)

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut is None:
            return x
        if self.first:
            return self.shortcut(F.avg_pool2d(x, 2))
        x = self.shortcut(x)
        return F.avg_pool2d(x, 2) if self.down else x


class Discriminator(nn.Module):
    def __init__(self, channels: int, image_channels: int, num_classes: int = 0):
        super().__init__()
        self.blocks = nn.Sequential(
            DiscriminatorBlock(image_channels, channels, down=True, first=True),
            DiscriminatorBlock(channels, channels, down=True),
            DiscriminatorBlock(channels, channels, down=False),
            DiscriminatorBlock(channels, channels, down=False),
        )
        self.linear = _sn(nn.Linear(channels, 1, bias=False), 1.0)
        self.embed = _sn(nn.Embedding(num_classes, channels), 1.0) if num_classes else None

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.blocks(images)).sum(dim=(2, 3))  # the sum over positions, as the reference
        logits = self.linear(h)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this discriminator is class-conditional: pass labels")
            logits = logits + (self.embed(labels) * h).sum(dim=1, keepdim=True)  # the projection
        return logits.squeeze(1)


def _norm(channels: int, num_classes: int) -> nn.Module:
    return ConditionalBatchNorm2d(channels, num_classes) if num_classes else nn.BatchNorm2d(channels)


def _normalise(norm: nn.Module, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    return norm(x, labels) if isinstance(norm, ConditionalBatchNorm2d) else norm(x)


def _glorot(layer: nn.Module, gain: float) -> None:
    """The reference's initialisation: Glorot-uniform weights (gain sqrt(2) inside the residual
    branches, 1 elsewhere), zero biases."""
    weight: torch.Tensor = getattr(layer, "weight")  # noqa: B009 (conv, linear and embedding layers)
    nn.init.xavier_uniform_(weight, gain=gain)
    bias = getattr(layer, "bias", None)
    if bias is not None:
        nn.init.zeros_(bias)


def _sn(layer: nn.Module, gain: float) -> nn.Module:
    _glorot(layer, gain)
    return spectral_norm(layer)
