"""BigGAN's generator (Brock et al. 2019) on SNGAN's ResNet blocks, and its orthogonal
regularisation.

The generator has a **shared class embedding** (one table, ``shared_dim`` long) and a
**hierarchical latent**: z is split into one chunk per block plus one; the first chunk goes
through a spectrally normalised linear layer to 4x4 maps, and each block's batch
normalisations are conditioned on the class embedding joined to that block's chunk
(:class:`ProjectedBatchNorm2d`). Every convolution and linear layer is spectrally normalised;
the output is BatchNorm, ReLU, a 3x3 convolution and tanh. The discriminator is SNGAN's
projection discriminator (with a bias on its last layer, as BigGAN's)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .networks import BOTTOM, GeneratorBlock, ProjectedBatchNorm2d, _sn, up_blocks


class BigGANGenerator(nn.Module):
    def __init__(
        self, z_dim: int, channels: int, image_channels: int, resolution: int, num_classes: int, shared_dim: int
    ):
        super().__init__()
        blocks = up_blocks(resolution)
        # z in blocks + 1 equal chunks; what does not divide is dropped, as in the reference code
        self.chunk = z_dim // (blocks + 1)
        if self.chunk < 1:
            raise ValueError(f"z_dim {z_dim} is too short for {blocks + 1} chunks")
        self.z_dim, self.channels = self.chunk * (blocks + 1), channels
        self.shared = nn.Embedding(num_classes, shared_dim)
        self.linear = _sn(nn.Linear(self.chunk, BOTTOM * BOTTOM * channels), 1.0)
        condition = shared_dim + self.chunk
        self.blocks = nn.ModuleList(
            GeneratorBlock(channels, channels, lambda width: ProjectedBatchNorm2d(width, condition), spectral=True)
            for _ in range(blocks)
        )
        self.norm = nn.BatchNorm2d(channels)
        self.to_image = _sn(nn.Conv2d(channels, image_channels, 3, padding=1), 1.0)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        chunks = z.split(self.chunk, dim=1)
        shared = self.shared(labels)
        h = self.linear(chunks[0]).view(z.shape[0], self.channels, BOTTOM, BOTTOM)
        for block, chunk in zip(self.blocks, chunks[1:]):
            h = block(h, torch.cat([shared, chunk], dim=1))
        return torch.tanh(self.to_image(F.relu(self.norm(h))))


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
