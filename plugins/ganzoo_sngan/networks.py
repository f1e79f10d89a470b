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
from collections.abc import Callable, Sequence

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


class SelfAttention(nn.Module):
    """SAGAN's self-attention (Zhang et al. 2019, Section 3): keys f(x), queries g(x) and values
    h(x) by 1x1 convolutions to C/8 channels, every position attends to every other (softmax of
    f^T g), a 1x1 convolution v back to C channels, and y = x + gamma * v(attention), gamma
    starting at 0 so the block starts as the identity. Every convolution spectrally normalised.

    ``pooled``: BigGAN's variant (its reference code's ``Attention``): values of C/2 channels,
    keys and values max-pooled 2x2, so each position attends to a quarter as many."""

    def __init__(self, channels: int, pooled: bool = False):
        super().__init__()
        reduced = max(1, channels // 8)
        valued = max(1, channels // 2) if pooled else reduced
        self.pooled = pooled
        self.key = _sn(nn.Conv2d(channels, reduced, 1, bias=False), 1.0)
        self.query = _sn(nn.Conv2d(channels, reduced, 1, bias=False), 1.0)
        self.value = _sn(nn.Conv2d(channels, valued, 1, bias=False), 1.0)
        self.out = _sn(nn.Conv2d(valued, channels, 1, bias=False), 1.0)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        keys, values = self.key(x), self.value(x)
        if self.pooled:
            keys, values = F.max_pool2d(keys, 2), F.max_pool2d(values, 2)
        keys, queries, values = keys.flatten(2), self.query(x).flatten(2), values.flatten(2)
        attention = torch.softmax(keys.transpose(1, 2) @ queries, dim=1)  # (N, keys, HW queries)
        attended = (values @ attention).view(n, -1, h, w)
        return x + self.gamma * self.out(attended)


class BatchNorm2d(nn.BatchNorm2d):
    """Plain batch normalisation that takes (and ignores) a condition, so every generator block
    calls its normalisations alike, conditional or not."""

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x)


class ProjectedBatchNorm2d(nn.Module):
    """BigGAN's conditional batch normalisation: batch normalisation without its own affine, then
    x * (1 + gain(c)) + bias(c), where gain and bias are spectrally normalised linear maps (no
    bias) of the condition c: the shared class embedding joined to the block's chunk of z."""

    def __init__(self, channels: int, condition_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = _sn(nn.Linear(condition_dim, channels, bias=False), 1.0)
        self.bias = _sn(nn.Linear(condition_dim, channels, bias=False), 1.0)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gain, bias = 1 + self.gain(condition), self.bias(condition)
        return self.norm(x) * gain[:, :, None, None] + bias[:, :, None, None]


class GeneratorBlock(nn.Module):
    """``make_norm(channels)`` builds the block's two normalisations, each called with the
    block's condition (class labels, a condition vector, or None); ``spectral``: the
    convolutions spectrally normalised too (SAGAN's and BigGAN's generators)."""

    def __init__(self, in_channels: int, out_channels: int, make_norm: Callable[[int], nn.Module], spectral: bool):
        super().__init__()
        wrap = _sn if spectral else _glorot_layer
        self.norm1 = make_norm(in_channels)
        self.conv1 = wrap(nn.Conv2d(in_channels, out_channels, 3, padding=1), math.sqrt(2))
        self.norm2 = make_norm(out_channels)
        self.conv2 = wrap(nn.Conv2d(out_channels, out_channels, 3, padding=1), math.sqrt(2))
        self.shortcut = wrap(nn.Conv2d(in_channels, out_channels, 1), 1.0)  # learnable: the block up-samples

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        h = F.relu(self.norm1(x, condition))
        h = self.conv1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.conv2(F.relu(self.norm2(h, condition)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class Generator(nn.Module):
    """``attention``: a self-attention block after the up-sampling block that reaches half the
    resolution (SAGAN); ``spectral``: every weight spectrally normalised (SAGAN)."""

    def __init__(
        self,
        z_dim: int,
        channels: int,
        image_channels: int,
        resolution: int,
        num_classes: int = 0,
        attention: bool = False,
        spectral: bool = False,
    ):
        super().__init__()
        self.z_dim, self.channels, self.num_classes = z_dim, channels, num_classes
        wrap = _sn if spectral else _glorot_layer
        self.linear = wrap(nn.Linear(z_dim, BOTTOM * BOTTOM * channels), 1.0)
        count = up_blocks(resolution)
        self.blocks = nn.ModuleList(
            GeneratorBlock(channels, channels, lambda width: _norm(width, num_classes), spectral) for _ in range(count)
        )
        self.attention = SelfAttention(channels) if attention else None
        self.attend_after = count - 2  # the block whose output is half the resolution
        self.norm = nn.BatchNorm2d(channels)
        self.to_image = wrap(nn.Conv2d(channels, image_channels, 3, padding=1), 1.0)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes and labels is None:
            raise ValueError("this generator is class-conditional: pass labels")
        h = self.linear(z).view(z.shape[0], self.channels, BOTTOM, BOTTOM)
        for index, block in enumerate(self.blocks):
            h = block(h, labels if self.num_classes else None)
            if self.attention is not None and index == self.attend_after:
                h = self.attention(h)
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
    """Residual blocks of the given output ``widths``, each down-sampling 2x where ``downs`` says
    (the first is the optimised block), ReLU, the sum over positions, a linear layer to one
    logit, and, conditional, the projection. ``attend_after``: a self-attention block after that
    block (``pooled``: BigGAN's); ``bias``: the last linear layer has a bias (BigGAN's; SNGAN's
    has none)."""

    def __init__(
        self,
        widths: Sequence[int],
        downs: Sequence[bool],
        image_channels: int,
        num_classes: int = 0,
        attend_after: int | None = None,
        pooled: bool = False,
        bias: bool = False,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        for index, (width, down) in enumerate(zip(widths, downs, strict=True)):
            layers.append(DiscriminatorBlock(widths[index - 1] if index else image_channels, width, down, index == 0))
            if index == attend_after:
                layers.append(SelfAttention(width, pooled))
        self.blocks = nn.Sequential(*layers)
        self.linear = _sn(nn.Linear(widths[-1], 1, bias=bias), 1.0)
        self.embed = _sn(nn.Embedding(num_classes, widths[-1]), 1.0) if num_classes else None

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.blocks(images)).sum(dim=(2, 3))  # the sum over positions, as the reference
        logits = self.linear(h)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this discriminator is class-conditional: pass labels")
            logits = logits + (self.embed(labels) * h).sum(dim=1, keepdim=True)  # the projection
        return logits.squeeze(1)


def sngan_discriminator(
    channels: int, image_channels: int, num_classes: int = 0, attention: bool = False, bias: bool = False
) -> Discriminator:
    """SNGAN's 32x32 discriminator (also used at 16x16): an optimised down-sampling block, a
    down-sampling block and two plain blocks, all ``channels`` wide; SAGAN's attention after the
    first, at half the resolution."""
    return Discriminator(
        [channels] * 4, [True, True, False, False], image_channels, num_classes, 0 if attention else None, bias=bias
    )


def _norm(channels: int, num_classes: int) -> nn.Module:
    return ConditionalBatchNorm2d(channels, num_classes) if num_classes else BatchNorm2d(channels)


def _glorot(layer: nn.Module, gain: float) -> None:
    """The reference's initialisation: Glorot-uniform weights (gain sqrt(2) inside the residual
    branches, 1 elsewhere), zero biases."""
    weight: torch.Tensor = getattr(layer, "weight")  # noqa: B009 (conv, linear and embedding layers)
    nn.init.xavier_uniform_(weight, gain=gain)
    bias = getattr(layer, "bias", None)
    if bias is not None:
        nn.init.zeros_(bias)


def _glorot_layer(layer: nn.Module, gain: float) -> nn.Module:
    _glorot(layer, gain)
    return layer


def _sn(layer: nn.Module, gain: float) -> nn.Module:
    return spectral_norm(_glorot_layer(layer, gain))
