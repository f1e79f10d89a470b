"""The networks of the class-conditional DCGAN (``cdcgan``).

The generator is DCGAN's, with every BatchNorm made conditional (a per-condition scale and
shift, de Vries et al. 2017; Miyato & Koyama 2018) and the condition's embedding joined to z.
The discriminator is DCGAN's with a projection head (Miyato & Koyama 2018): the logit is
``head(h) + <embed(y), sum_xy h>`` for the last feature map ``h``, so D judges "is this a real
image of class y" rather than "is this real", which is what makes the condition stick.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.plugin import DataInfo

from .networks import _blocks, discriminator_body


class ConditionEmbedding(nn.Module):
    """int64 labels (N,) -> (N, dim) by a lookup; float attribute rows (N, K) -> (N, dim) linearly."""

    def __init__(self, data: DataInfo, dim: int):
        super().__init__()
        self.classes = bool(data.classes)
        self.count = data.num_classes or data.num_attributes
        self.table = nn.Embedding(self.count, dim) if self.classes else nn.Linear(self.count, dim, bias=False)
        nn.init.normal_(self.table.weight, 0.0, 0.02)

    def forward(self, conditions: torch.Tensor) -> torch.Tensor:
        if self.classes:
            return self.table(conditions.long())
        return self.table(conditions.float())


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine; scale ``1 + gain(e)`` and shift ``bias(e)`` per example."""

    def __init__(self, channels: int, embed_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(embed_dim, channels)
        self.bias = nn.Linear(embed_dim, channels)
        for layer in (self.gain, self.bias):  # start as plain BatchNorm
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * (1 + self.gain(e))[:, :, None, None] + self.bias(e)[:, :, None, None]


class ConditionalGenerator(nn.Module):
    """(z (N, nz), conditions) -> image (N, channels, R, R) in [-1, 1]."""

    def __init__(self, nz: int, ngf: int, data: DataInfo, embed_dim: int):
        super().__init__()
        blocks = _blocks(data.resolution)
        width = ngf * 2 ** (blocks - 1)
        self.nz = nz
        self.embed = ConditionEmbedding(data, embed_dim)
        self.convs = nn.ModuleList([nn.ConvTranspose2d(nz + embed_dim, width, 4, 1, 0, bias=False)])
        self.norms = nn.ModuleList([ConditionalBatchNorm2d(width, embed_dim)])
        for _ in range(blocks - 1):
            self.convs.append(nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False))
            self.norms.append(ConditionalBatchNorm2d(width // 2, embed_dim))
            width //= 2
        self.to_image = nn.ConvTranspose2d(width, data.channels, 4, 2, 1, bias=False)

    def forward(self, z: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        e = self.embed(conditions)
        x = torch.cat([z.view(z.shape[0], self.nz), e], 1)[:, :, None, None]
        for conv, norm in zip(self.convs, self.norms):
            x = torch.relu(norm(conv(x), e))
        return torch.tanh(self.to_image(x))


class ProjectionDiscriminator(nn.Module):
    """(image, conditions) -> logits (N,)."""

    def __init__(self, ndf: int, data: DataInfo):
        super().__init__()
        layers, width = discriminator_body(ndf, data.channels, data.resolution)
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(width, 1, 4, 1, 0, bias=False)
        self.embed = ConditionEmbedding(data, width)

    def forward(self, images: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        h = self.features(images)
        projection = (self.embed(conditions) * h.sum(dim=(2, 3))).sum(1)
        return self.head(h).flatten() + projection
