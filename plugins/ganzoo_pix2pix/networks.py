"""The Pix2Pix U-Net generator: an encoder-decoder whose mirrored layers are joined by skip
connections, so low-level structure (edges, layout) passes straight to the output."""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.plugin import layers


class UNetBlock(nn.Module):
    """Down-sample, the inner block, up-sample; the output is concatenated with the input."""

    def __init__(
        self,
        outer: int,
        inner: int,
        *,
        sub: nn.Module | None,
        norm: str,
        dropout: float,
        in_channels: int | None = None,
        outermost: bool = False,
        out_channels: int | None = None,
    ):
        super().__init__()
        make_norm, bias = layers.norm_layer(norm), layers.uses_bias(norm)
        in_channels = in_channels or outer
        down = nn.Conv2d(in_channels, inner, 4, 2, 1, bias=bias)
        if outermost:
            if sub is None or out_channels is None:
                raise ValueError("the outermost U-Net block needs an inner block and out_channels")
            up = nn.ConvTranspose2d(inner * 2, out_channels, 4, 2, 1)
            modules = [down, sub, nn.ReLU(True), up, nn.Tanh()]
        elif sub is None:  # the innermost block
            up = nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias)
            modules = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, make_norm(outer)]
        else:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=bias)
            modules = [nn.LeakyReLU(0.2, True), down, make_norm(inner), sub, nn.ReLU(True), up, make_norm(outer)]
            if dropout:
                modules.append(nn.Dropout(dropout))
        self.outermost = outermost
        self.model = nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], dim=1)


def unet_depth(resolution: int) -> int:
    """Down-samplings to a 1x1 bottleneck: 8 at 256, 7 at 128, 5 at 32."""
    return int(math.log2(resolution))


class UNetGenerator(nn.Module):
    """Widths ngf, 2ngf, 4ngf, then 8ngf down to the 1x1 bottleneck. Dropout sits in the decoder
    blocks just outside the bottleneck, log2(R) - 5 of them as in the reference code (the 8ngf
    blocks between the innermost one and the 4ngf one): three at 256 px, two at 128; at least
    one at any size, since dropout is the generator's only noise, and at most three."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        resolution: int,
        ngf: int = 64,
        norm: str = "batch",
        dropout: float = 0.5,
    ):
        super().__init__()
        depth = unet_depth(resolution)
        if depth < 4:
            raise ValueError(f"the U-Net needs at least 16x16 images, got {resolution}")
        widths = [ngf * min(2**i, 8) for i in range(depth)]  # encoder output widths, outermost first
        dropout_blocks = max(1, min(3, depth - 5))
        block = UNetBlock(widths[-2], widths[-1], sub=None, norm=norm, dropout=0.0)
        for level in range(depth - 2, 0, -1):  # from just outside the bottleneck outwards
            with_dropout = (depth - 2 - level) < dropout_blocks
            block = UNetBlock(
                widths[level - 1], widths[level], sub=block, norm=norm, dropout=dropout if with_dropout else 0.0
            )
        self.model = UNetBlock(
            out_channels,
            widths[0],
            sub=block,
            norm=norm,
            dropout=0.0,
            in_channels=in_channels,
            outermost=True,
            out_channels=out_channels,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
