"""The networks of ExGAN-style exemplar inpainting (Dolhansky & Canton Ferrer, CVPR 2018),
written from the papers' descriptions.

- :class:`ExGANGenerator`: an encoder-decoder that fills the hole of a masked image. Its
  bottleneck is a stack of residual blocks whose first convolution is dilated 1, 2, 4, 8, ...,
  widening the view across the hole as the dilated middle of Iizuka et al. 2017 (GLCIC) does.
  It upsamples by nearest neighbour + convolution instead of transposed convolutions, which
  leave checkerboard patterns (Odena et al. 2016).
- :class:`ExemplarEncoder`: the exemplar's code for ``exemplar="code"``.
- :class:`ExGANDiscriminator`: GLCIC's global + local critic: one branch sees the whole image,
  the other the hole's bounding box resized to half the resolution; their features give one
  logit. The exemplar conditions it as an extra input image (``reference``) or by a projection
  term (``code``, Miyato & Koyama 2018).
- :class:`CodePairCritic` and :class:`ExGANCodeDiscriminator`: code mode's discriminator. As in
  the paper's figure of code-based ExGAN, it is given the code of the judged image (real or
  inpainted) beside the exemplar's code; the image critic above still judges the pixels.

The exemplar modes: ``reference`` concatenates the exemplar image to the inputs, ``code``
injects an exemplar code at the bottleneck, ``none`` is the same network without exemplar (the
baseline that measures what the exemplar is worth).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm
from torchvision.ops import roi_align

from ganzoo.plugin import datakit, layers

EXEMPLAR_MODES = ("reference", "code", "none")
SUPPORTED_RESOLUTIONS = (32, 64, 128, 256)
CRITIC_MAP = 4  # the critic branches convolve down to 4x4 maps, as DCGAN's discriminator does


def check_configuration(resolution: int, exemplar: str) -> None:
    if resolution not in SUPPORTED_RESOLUTIONS:
        raise ValueError(f"ExGAN supports resolutions {SUPPORTED_RESOLUTIONS}, not {resolution}")
    if exemplar not in EXEMPLAR_MODES:
        raise ValueError(f"exemplar must be one of {', '.join(EXEMPLAR_MODES)}; got '{exemplar}'")


# -- generator ---------------------------------------------------------------------------------


def _conv_norm_relu(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    """A convolution, instance norm and ReLU; the norm has its own shift, so the conv has no bias.
    Reflection padding keeps the image border from reading as an edge."""
    pad = (kernel - 1) // 2 if stride == 1 else 0
    modules: list[nn.Module] = [layers.ReflectionPad2d(pad)] if pad else []
    conv_padding = 1 if stride == 2 else 0  # 4x4 stride-2 convs halve the size exactly
    modules += [
        nn.Conv2d(in_channels, out_channels, kernel, stride, conv_padding, bias=False),
        nn.InstanceNorm2d(out_channels, affine=True),
        nn.ReLU(True),
    ]
    return modules


class ResidualBlock(nn.Module):
    """x + (dilated 3x3 conv, norm, ReLU, 3x3 conv, norm)(x)."""

    def __init__(self, width: int, dilation: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            layers.ReflectionPad2d(dilation),
            nn.Conv2d(width, width, 3, dilation=dilation, bias=False),
            nn.InstanceNorm2d(width, affine=True),
            nn.ReLU(True),
            layers.ReflectionPad2d(1),
            nn.Conv2d(width, width, 3, bias=False),
            nn.InstanceNorm2d(width, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def block_dilations(blocks: int, dilated: bool, bottleneck: int) -> list[int]:
    """1, 2, 4, 8, ... per block, capped at half the bottleneck's side: reflection padding must
    stay smaller than the map, and a larger dilation would only read padding."""
    if not dilated:
        return [1] * blocks
    return [min(2**index, bottleneck // 2) for index in range(blocks)]


class ExGANGenerator(nn.Module):
    """(masked image, mask[, exemplar image | exemplar code]) -> image in [-1, 1].

    Widths ngf at full size, 2ngf at 1/2, 4ngf at 1/4 (the bottleneck). The output is the raw
    generator output everywhere; the caller composites it (keeps the input outside the hole).
    """

    def __init__(
        self,
        channels: int,
        resolution: int,
        exemplar: str,
        ngf: int = 32,
        blocks: int = 4,
        dilated: bool = True,
        code_dim: int = 256,
    ):
        super().__init__()
        check_configuration(resolution, exemplar)
        self.exemplar, self.channels, self.code_dim = exemplar, channels, code_dim
        in_channels = channels + 1 + (channels if exemplar == "reference" else 0)
        bottleneck = resolution // 4
        self.encoder = nn.Sequential(
            *_conv_norm_relu(in_channels, ngf, 7),
            *_conv_norm_relu(ngf, ngf * 2, 4, stride=2),
            *_conv_norm_relu(ngf * 2, ngf * 4, 4, stride=2),
        )
        # code mode: the code, tiled over the bottleneck, is mixed in by a 1x1 convolution. No
        # norm right after it: instance norm would subtract exactly the tiled (constant) part.
        self.inject_code = (
            nn.Sequential(nn.Conv2d(ngf * 4 + code_dim, ngf * 4, 1), nn.ReLU(True)) if exemplar == "code" else None
        )
        self.middle = nn.Sequential(*(ResidualBlock(ngf * 4, d) for d in block_dilations(blocks, dilated, bottleneck)))
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            *_conv_norm_relu(ngf * 4, ngf * 2, 3),
            nn.Upsample(scale_factor=2, mode="nearest"),
            *_conv_norm_relu(ngf * 2, ngf, 3),
            layers.ReflectionPad2d(3),
            nn.Conv2d(ngf, channels, 7),
            nn.Tanh(),
        )

    def forward(
        self,
        masked: torch.Tensor,
        mask: torch.Tensor,
        exemplar: torch.Tensor | None = None,
        exemplar_code: torch.Tensor | None = None,
    ) -> torch.Tensor:
        _check_exemplar_inputs(self.exemplar, exemplar, exemplar_code)  # so each input is given in its mode only
        inputs = [masked, mask] + ([exemplar] if exemplar is not None else [])
        features = self.encoder(torch.cat(inputs, dim=1))
        if self.inject_code is not None and exemplar_code is not None:
            tiled = exemplar_code[:, :, None, None].expand(-1, -1, *features.shape[2:])
            features = self.inject_code(torch.cat([features, tiled], dim=1))
        return self.decoder(self.middle(features))


def _check_exemplar_inputs(mode: str, exemplar: torch.Tensor | None, code: torch.Tensor | None) -> None:
    """Each mode takes exactly its own exemplar input: a silently ignored one hides a bug."""
    wanted = {"reference": (True, False), "code": (False, True), "none": (False, False)}[mode]
    if (exemplar is not None, code is not None) != wanted:
        needs = {"reference": "an exemplar image", "code": "an exemplar code", "none": "no exemplar"}[mode]
        raise ValueError(f"exemplar mode '{mode}' takes {needs}")


# -- exemplar encoder --------------------------------------------------------------------------


class ExemplarEncoder(nn.Module):
    """Exemplar image (N, C, R, R) -> code (N, code_dim): 4x4 stride-2 convs down to 4x4
    (widths 32, 64, ... up to 256), global average pooling, one linear layer."""

    def __init__(self, channels: int, resolution: int, code_dim: int = 256, width: int = 32):
        super().__init__()
        check_configuration(resolution, "code")
        modules: list[nn.Module] = []
        previous = channels
        for index in range(int(math.log2(resolution // CRITIC_MAP))):
            current = min(width * 2**index, 256)
            modules += [nn.Conv2d(previous, current, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            previous = current
        self.features = nn.Sequential(*modules)
        self.to_code = nn.Linear(previous, code_dim)

    def forward(self, exemplar: torch.Tensor) -> torch.Tensor:
        return self.to_code(self.features(exemplar).mean(dim=(2, 3)))


# -- discriminator -----------------------------------------------------------------------------


class CriticBranch(nn.Module):
    """Image (N, C, S, S) -> features (N, features): 4x4 stride-2 convs down to 4x4 (widths
    ndf, 2ndf, ... up to 8ndf), then one linear layer on the flattened map, as each of GLCIC's
    two discriminator branches ends in a fully connected layer."""

    def __init__(self, in_channels: int, size: int, ndf: int, features: int, spectral_norm: bool):
        super().__init__()
        sn = apply_spectral_norm if spectral_norm else (lambda module: module)
        modules: list[nn.Module] = []
        previous = in_channels
        for index in range(int(math.log2(size // CRITIC_MAP))):
            current = ndf * min(2**index, 8)
            modules += [sn(nn.Conv2d(previous, current, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
            previous = current
        self.convs = nn.Sequential(*modules)
        self.linear = sn(nn.Linear(previous * CRITIC_MAP * CRITIC_MAP, features))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.linear(self.convs(images).flatten(1))


class ExGANDiscriminator(nn.Module):
    """(image, mask[, exemplar image | exemplar code]) -> one real/fake logit per sample (N,).

    logit = w . h + [code mode] <V code, h>, where h = LeakyReLU(global features ‖ local
    features): the second term is a projection discriminator's inner product with the condition.
    """

    def __init__(
        self,
        channels: int,
        resolution: int,
        exemplar: str,
        ndf: int = 32,
        spectral_norm: bool = True,
        code_dim: int = 256,
    ):
        super().__init__()
        check_configuration(resolution, exemplar)
        sn = apply_spectral_norm if spectral_norm else (lambda module: module)
        self.exemplar, self.local_size = exemplar, resolution // 2
        features = ndf * 8
        global_inputs = channels * 2 if exemplar == "reference" else channels
        self.global_branch = CriticBranch(global_inputs, resolution, ndf, features, spectral_norm)
        self.local_branch = CriticBranch(channels, self.local_size, ndf, features, spectral_norm)
        self.activation = nn.LeakyReLU(0.2)
        self.to_logit = sn(nn.Linear(features * 2, 1))
        self.embed_code = sn(nn.Linear(code_dim, features * 2, bias=False)) if exemplar == "code" else None

    def forward(
        self,
        images: torch.Tensor,
        masks: torch.Tensor,
        exemplar: torch.Tensor | None = None,
        exemplar_code: torch.Tensor | None = None,
    ) -> torch.Tensor:
        _check_exemplar_inputs(self.exemplar, exemplar, exemplar_code)  # so each input is given in its mode only
        whole = torch.cat([images, exemplar], dim=1) if exemplar is not None else images
        fused = self.activation(torch.cat([self.global_branch(whole), self.local_features(images, masks)], dim=1))
        logits = self.to_logit(fused).squeeze(1)
        if self.embed_code is not None:
            logits = logits + (self.embed_code(exemplar_code) * fused).sum(dim=1)
        return logits

    def local_features(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """The local branch's features (N, 8ndf): it sees only the pixels inside each mask's
        bounding box, resized to half the resolution."""
        return self.local_branch(crop_holes(images, masks, self.local_size))


def crop_holes(images: torch.Tensor, masks: torch.Tensor, size: int) -> torch.Tensor:
    """Each image's hole bounding box, bilinearly resized to ``size`` x ``size``.

    ``roi_align`` with ``aligned=False`` takes the box from the first to the last pixel centre
    inside it, so every sample interpolates only pixels of the box: the crop never reads a pixel
    outside it. Boxes narrower than 2 px grow to 2 px (interpolation needs two pixels)."""
    boxes = datakit.bounding_boxes(masks)
    height, width = images.shape[-2:]
    x0, y0, x1, y1 = boxes.unbind(dim=1)
    x1 = torch.maximum(x1, (x0 + 2).clamp(max=width))
    y1 = torch.maximum(y1, (y0 + 2).clamp(max=height))
    x0, y0 = torch.minimum(x0, x1 - 2), torch.minimum(y0, y1 - 2)
    index = torch.arange(images.shape[0], device=images.device)
    rois = torch.stack([index, x0, y0, x1 - 1, y1 - 1], dim=1).to(images.dtype)
    return roi_align(images, rois, output_size=size, spatial_scale=1.0, sampling_ratio=2, aligned=False)


class CodePairCritic(nn.Module):
    """(code of the judged image, exemplar's code) -> a logit per sample (N,): a two-layer
    perceptron on the two codes side by side, so it can compare them (is this the same person's
    eye?) rather than judge either alone."""

    def __init__(self, code_dim: int, hidden: int, spectral_norm: bool = True):
        super().__init__()
        sn = apply_spectral_norm if spectral_norm else (lambda module: module)
        self.body = nn.Sequential(sn(nn.Linear(2 * code_dim, hidden)), nn.LeakyReLU(0.2), sn(nn.Linear(hidden, 1)))

    def forward(self, image_code: torch.Tensor, exemplar_code: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([image_code, exemplar_code], dim=1)).squeeze(1)


class ExGANCodeDiscriminator(nn.Module):
    """Code mode's discriminator: (image, mask, exemplar code, code of the image) -> logit (N,).

    logit = the image critic's logit (:class:`ExGANDiscriminator` in code mode: global + local
    branches and the projection of the exemplar's code) + :class:`CodePairCritic`'s logit on the
    code of the judged image and the exemplar's code. The paper's figure of code-based ExGAN feeds
    D with C(reference) and C(inpainted image); here the caller computes both codes with the
    exemplar encoder and passes them in (the critic holds no encoder of its own)."""

    def __init__(
        self,
        channels: int,
        resolution: int,
        ndf: int = 32,
        spectral_norm: bool = True,
        code_dim: int = 256,
    ):
        super().__init__()
        self.exemplar = "code"
        self.image = ExGANDiscriminator(channels, resolution, "code", ndf, spectral_norm, code_dim)
        self.codes = CodePairCritic(code_dim, ndf * 8, spectral_norm)

    def forward(
        self,
        images: torch.Tensor,
        masks: torch.Tensor,
        exemplar: torch.Tensor | None = None,
        exemplar_code: torch.Tensor | None = None,
        image_code: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if exemplar is not None or exemplar_code is None or image_code is None:
            raise ValueError("exemplar mode 'code' takes an exemplar code and the code of the judged image")
        return self.image(images, masks, exemplar_code=exemplar_code) + self.codes(image_code, exemplar_code)

    def local_features(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """The image critic's local-branch features (see :meth:`ExGANDiscriminator.local_features`)."""
        return self.image.local_features(images, masks)
