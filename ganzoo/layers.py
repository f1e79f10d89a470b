"""Building blocks shared by the image-to-image models: normalisation choice, the PatchGAN
discriminator (Isola et al. 2017, also CycleGAN's), the N(0, 0.02) initialisation, and the
random jitter of the Pix2Pix/CycleGAN papers."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.execution import autocast_off

__all__ = [
    "NORMS",
    "PatchDiscriminator",
    "ReflectionPad2d",
    "full_precision",
    "init_normal",
    "norm_layer",
    "random_jitter",
    "uses_bias",
]

NORMS = ("batch", "instance", "none")
"""The normalisation layers :func:`norm_layer` builds (``none``: an identity)."""


class ReflectionPad2d(nn.Module):
    """``nn.ReflectionPad2d(padding)`` that is deterministic under ``--deterministic`` on CUDA
    too: CUDA's reflection-padding backward adds gradients in a varying order (PyTorch refuses it
    in deterministic mode), so there the border is built from flipped slices, whose backward is
    deterministic. The forward is the same either way; it holds no parameters."""

    def __init__(self, padding: int):
        super().__init__()
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_cuda and torch.are_deterministic_algorithms_enabled():
            return reflect_by_slices(x, self.padding)
        return F.pad(x, (self.padding,) * 4, mode="reflect")

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


def reflect_by_slices(x: torch.Tensor, pad: int) -> torch.Tensor:
    """Reflection padding of the last two dimensions from flips and concatenations."""
    if pad == 0:
        return x
    for dim in (-1, -2):
        size = x.shape[dim]
        before = x.narrow(dim, 1, pad).flip(dim)
        after = x.narrow(dim, size - pad - 1, pad).flip(dim)
        x = torch.cat([before, x, after], dim)
    return x


def full_precision(layer_class: type[nn.Module]) -> type[nn.Module]:
    """Class decorator: the layer computes in fp32 under any ``--precision`` (autocast off, its
    floating-point tensor arguments cast to fp32). For layers that lower precision would ruin:
    normalisations and statistics over many values, tiny learning-rate multipliers."""
    forward = layer_class.forward

    @functools.wraps(forward)
    def fp32_forward(self, *args, **kwargs):
        args = [a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args]
        with autocast_off():
            return forward(self, *args, **kwargs)

    layer_class.forward = fp32_forward
    return layer_class


def norm_layer(kind: str):
    """A constructor ``(channels) -> module``. Instance norm without affine parameters or running
    statistics, as in the reference implementation."""
    if kind == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if kind == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if kind == "none":
        return lambda channels: nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}; got '{kind}'")


def uses_bias(norm: str) -> bool:
    """BatchNorm has its own shift, so the convolution before it needs no bias."""
    return norm != "batch"


def init_normal(module: nn.Module, gain: float = 0.02) -> None:
    """Convolutions N(0, 0.02), norm scales N(1, 0.02), biases 0 (the papers' initialisation)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, gain)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, gain)
        nn.init.zeros_(module.bias)


class PatchDiscriminator(nn.Module):
    """PatchGAN: a grid of real/fake logits, each judging one receptive field of the input.

    ``n_layers=3`` gives the 70x70 PatchGAN, ``n_layers=5`` the 286x286 "ImageGAN-like" one
    and ``n_layers=0`` the 1x1 PixelGAN. 4x4 convolutions, stride 2 except the last two."""

    def __init__(
        self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch", resolution: int | None = None
    ):
        super().__init__()
        if resolution:  # small images: fewer layers, so normalised maps stay at least 2x2
            n_layers = min(n_layers, max(1, int(math.log2(resolution)) - 2))
        self.n_layers = n_layers
        make_norm, bias = norm_layer(norm), uses_bias(norm)
        if n_layers == 0:  # PixelGAN
            layers = [
                nn.Conv2d(in_channels, ndf, 1),
                nn.LeakyReLU(0.2, True),
                nn.Conv2d(ndf, ndf * 2, 1, bias=bias),
                make_norm(ndf * 2),
                nn.LeakyReLU(0.2, True),
                nn.Conv2d(ndf * 2, 1, 1),
            ]
        else:
            layers = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            width = ndf
            for index in range(1, n_layers + 1):
                previous, width = width, ndf * min(2**index, 8)
                stride = 2 if index < n_layers else 1
                layers += [
                    nn.Conv2d(previous, width, 4, stride, 1, bias=bias),
                    make_norm(width),
                    nn.LeakyReLU(0.2, True),
                ]
            layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


def random_jitter(images: list[torch.Tensor], scale: float = 286 / 256, flip: bool = True) -> list[torch.Tensor]:
    """Resize up by ``scale`` then crop back at one random place (and maybe flip), identically
    for every tensor of ``images`` (an input and its target stay aligned)."""
    n, _, h, w = images[0].shape
    big_h, big_w = round(h * scale), round(w * scale)
    top = int(torch.randint(0, big_h - h + 1, ()))
    left = int(torch.randint(0, big_w - w + 1, ()))
    flipped = bool(torch.rand(()) < 0.5) if flip else False
    out = []
    for x in images:
        if (big_h, big_w) != (h, w):
            x = F.interpolate(x, size=(big_h, big_w), mode="bicubic", align_corners=False).clamp(-1, 1)
            x = x[:, :, top : top + h, left : left + w]
        out.append(x.flip(3) if flipped else x)
    return out
