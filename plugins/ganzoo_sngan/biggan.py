"""BigGAN's networks (Brock et al. 2019) on SNGAN's ResNet blocks, at 16, 32, 64 and 128 pixels
with the reference's widths per block, and its orthogonal regularisation.

The generator has a **shared class embedding** (one table, ``shared_dim`` long) and a
**hierarchical latent**: z is split into one chunk per block plus one; the first chunk goes
through a spectrally normalised linear layer to 4x4 maps, and each block's batch
normalisations are conditioned on the class embedding joined to that block's chunk
(:class:`ProjectedBatchNorm2d`). Every convolution and linear layer is spectrally normalised;
the output is BatchNorm, ReLU, a 3x3 convolution and tanh. At 64 and 128 pixels the generator
has BigGAN's self-attention where its maps are 64x64, and at 128 the discriminator too (at 64
its maps are 32x32 at most, so it has none, as the reference's). The discriminator is SNGAN's projection
discriminator (with a bias on its last layer, as BigGAN's), as deep as the reference's at each
resolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .networks import BOTTOM, Discriminator, GeneratorBlock, ProjectedBatchNorm2d, SelfAttention, _sn

#: The reference's G_arch and D_arch (ajbrock/BigGAN-PyTorch, BigGAN.py) in multiples of its
#: G_ch / D_ch, by resolution: G's blocks' (input, output) widths, D's blocks' output widths and
#: which of them down-sample. 16 px is the 32 px networks with one generator block fewer.
ARCH = {
    16: ([(4, 4)] * 2, [4] * 4, [True, True, False, False]),
    32: ([(4, 4)] * 3, [4] * 4, [True, True, False, False]),
    64: ([(16, 16), (16, 8), (8, 4), (4, 2)], [1, 2, 4, 8, 16], [True] * 4 + [False]),
    128: ([(16, 16), (16, 8), (8, 4), (4, 2), (2, 1)], [1, 2, 4, 8, 16, 16], [True] * 5 + [False]),
}
ATTENTION_AT = 64  # the reference's G_attn and D_attn: self-attention where the maps are 64x64


def widths(channels: int, multiples: list[int]) -> list[int]:
    """The options' widths are the 32-px networks' (4 x the reference's G_ch / D_ch)."""
    return [max(1, channels * multiple // 4) for multiple in multiples]


class BigGANGenerator(nn.Module):
    def __init__(
        self, z_dim: int, channels: int, image_channels: int, resolution: int, num_classes: int, shared_dim: int
    ):
        super().__init__()
        pairs = ARCH[resolution][0]
        blocks = len(pairs)
        # z in blocks + 1 equal chunks; what does not divide is dropped, as in the reference code
        self.chunk = z_dim // (blocks + 1)
        if self.chunk < 1:
            raise ValueError(f"z_dim {z_dim} is too short for {blocks + 1} chunks")
        inputs, outputs = widths(channels, [a for a, _ in pairs]), widths(channels, [b for _, b in pairs])
        self.z_dim, self.channels = self.chunk * (blocks + 1), inputs[0]
        self.shared = nn.Embedding(num_classes, shared_dim)
        self.linear = _sn(nn.Linear(self.chunk, BOTTOM * BOTTOM * inputs[0]), 1.0)
        condition = shared_dim + self.chunk
        self.blocks = nn.ModuleList(
            GeneratorBlock(a, b, lambda width: ProjectedBatchNorm2d(width, condition), spectral=True)
            for a, b in zip(inputs, outputs)
        )
        # after the block whose output is 64x64 (block i outputs 4 * 2^(i+1) pixels)
        self.attend_after = next((i for i in range(blocks) if BOTTOM * 2 ** (i + 1) == ATTENTION_AT), None)
        self.attention = (
            SelfAttention(outputs[self.attend_after], pooled=True) if self.attend_after is not None else None
        )
        self.norm = nn.BatchNorm2d(outputs[-1])
        self.to_image = _sn(nn.Conv2d(outputs[-1], image_channels, 3, padding=1), 1.0)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        chunks = z.split(self.chunk, dim=1)
        shared = self.shared(labels)
        h = self.linear(chunks[0]).view(z.shape[0], self.channels, BOTTOM, BOTTOM)
        for index, (block, chunk) in enumerate(zip(self.blocks, chunks[1:])):
            h = block(h, torch.cat([shared, chunk], dim=1))
            if index == self.attend_after and self.attention is not None:
                h = self.attention(h)
        return torch.tanh(self.to_image(F.relu(self.norm(h))))


def biggan_discriminator(channels: int, image_channels: int, resolution: int, num_classes: int) -> Discriminator:
    """The reference's projection discriminator at ``resolution``, with a bias on its last layer
    and self-attention after the block that leaves 64x64 maps (at 128 px: the first)."""
    _, multiples, downs = ARCH[resolution]
    sizes = [resolution // 2 ** sum(downs[: i + 1]) for i in range(len(downs))]
    attend_after = next((i for i, size in enumerate(sizes) if size == ATTENTION_AT), None)
    return Discriminator(
        widths(channels, multiples), downs, image_channels, num_classes, attend_after, pooled=True, bias=True
    )


def orthogonal_penalty(network: nn.Module, skip: tuple[nn.Module, ...] = ()) -> torch.Tensor:
    """BigGAN's orthogonal regularisation (its Section 3.1): the sum over the weights W (two or
    more dimensions, reshaped to rows of outputs) of ||W W^T * (1 - I)||_F^2 / 2, whose gradient,
    2 (W W^T * (1 - I)) W, is what the reference adds to each weight's gradient. Applied to the
    stored weights (before spectral normalisation); the modules in ``skip`` (the shared
    embedding, as in the reference) are left out."""
    skipped = {id(p) for module in skip for p in module.parameters()}
    total = torch.zeros((), device=next(network.parameters()).device)
    for weight in network.parameters():
        if weight.ndim < 2 or id(weight) in skipped:
            continue
        rows = weight.flatten(1)
        gram = rows @ rows.t()
        off_diagonal = gram - torch.diag_embed(gram.diagonal())
        total = total + off_diagonal.square().sum() / 2
    return total
