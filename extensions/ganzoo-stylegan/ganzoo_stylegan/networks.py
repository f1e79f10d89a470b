"""StyleGAN2's networks (Karras et al., CVPR 2020, "Analyzing and Improving the Image Quality of
StyleGAN"), written here from the paper in plain PyTorch: no custom CUDA or C++ ops.

- :class:`MappingNetwork`: z (and a class label) -> w, an MLP with a reduced learning rate; it
  tracks the average w, towards which truncation pulls.
- :class:`SynthesisNetwork`: ws -> image, from a learned 4x4 constant through modulated and
  demodulated 3x3 convolutions with per-pixel noise, with the "skip" output: every resolution
  adds its own RGB image to the upsampled sum of the previous ones (paper, Fig. 7 and Table 2).
- :class:`Discriminator`: the "residual" discriminator (paper, Fig. 7), or the plain ("orig")
  one without skip connections, with a minibatch standard deviation layer and, when conditional,
  a projection term (Miyato & Koyama 2018) on the output of a label mapping network.

Every learnable layer uses the equalized learning rate of ProGAN (Karras et al. 2018): weights
are stored N(0, 1) and scaled by He's constant at run time. Up- and downsampling filter with
the [1, 3, 3, 1] FIR filter: StyleGAN's "bilinear" resampling (Karras et al. 2019, Section 2: a
separable 2nd-order binomial filter after upsampling and before downsampling, after Zhang 2019).
Numbers the papers do not state come from the published StyleGAN2 / StyleGAN2-ADA
configurations; each says where.

Weights are stored as StyleGAN2-ADA's PyTorch networks store theirs (same shapes, same kernel
orientation), so a state dict of those networks, with its names mapped
(:mod:`ganzoo_stylegan.convert`), gives the same outputs here.
"""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.plugin import layers

NOISE_MODES = ("random", "const", "none")
LRELU_SLOPE = 0.2  # leaky ReLU slope of ProGAN/StyleGAN
LRELU_GAIN = math.sqrt(2)  # He's gain for ReLU-like activations keeps unit variance (ProGAN)
RESAMPLE_TAPS = (1, 3, 3, 1)  # the binomial filter of StyleGAN's bilinear resampling (published taps)
DEMODULATION_EPS = 1e-8  # paper, Eq. 3
CONST_RESOLUTION = 4  # the synthesis network starts from a learned 4x4 constant


def channel_count(resolution: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at a resolution: halve with every doubling of the side, capped."""
    return min(channel_base // resolution, channel_max)


def check_configuration(resolution: int, channels: int) -> None:
    if resolution < 8 or resolution & (resolution - 1):
        raise ValueError(f"StyleGAN2 needs a power-of-two resolution of at least 8; got {resolution}")
    if channels < 1:
        raise ValueError(f"images need at least one channel; got {channels}")


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each row to unit mean square (StyleGAN's "pixel norm" of z and the label embedding)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def one_hot_labels(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """int64 class indices (N,) -> one-hot floats (N, K); float (N, K) rows pass unchanged, so
    soft labels and attribute vectors work too."""
    if labels.dtype.is_floating_point:
        return labels
    return F.one_hot(labels, num_classes).float()


# -- FIR resampling ------------------------------------------------------------------------------


def setup_filter(taps: tuple[float, ...] = RESAMPLE_TAPS) -> torch.Tensor:
    """The separable 2D filter: the outer product of the taps, normalised to sum 1 (so a constant
    image keeps its value). Layers register it as a non-persistent buffer: it follows the module
    to its device but is a constant, not state, so checkpoints do not carry it."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


def _pair(pad: int | tuple[int, int]) -> tuple[int, int]:
    return (pad, pad) if isinstance(pad, int) else pad


def _filter2d(x: torch.Tensor, f: torch.Tensor, pad: int | tuple[int, int], stride: int = 1) -> torch.Tensor:
    """Depthwise convolution of every channel with f after zero padding (before, after) on both
    axes. f is flipped so this is a true convolution (the [1,3,3,1] filter is symmetric anyway)."""
    before, after = _pair(pad)
    channels = x.shape[1]
    kernel = f.flip([0, 1]).to(x.dtype)[None, None].repeat(channels, 1, 1, 1)
    x = F.pad(x, [before, after, before, after])
    return F.conv2d(x, kernel, stride=stride, groups=channels)


def blur(x: torch.Tensor, f: torch.Tensor, pad: int | tuple[int, int]) -> torch.Tensor:
    """Filter (N, C, H, W) with the 2D filter f, padding (before, after) zeros on each axis: the
    output side is H + before + after - taps + 1."""
    return _filter2d(x, f, pad)


def upsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, 2H, 2W): insert zeros after every sample, then filter. The gain of 4
    makes up for the three zeros in every 2x2 cell. Padding (2, 1) centres output pixels 2i and
    2i+1 a quarter pixel either side of input pixel i."""
    n, c, h, w = x.shape
    x = F.pad(x.reshape(n, c, h, 1, w, 1), [0, 1, 0, 0, 0, 1]).reshape(n, c, 2 * h, 2 * w)
    return _filter2d(x, f * 4, (2, 1))


def downsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H/2, W/2): filter, then keep every second sample. Padding (1, 1)
    centres output pixel j between input pixels 2j and 2j+1."""
    return _filter2d(x, f, (1, 1), stride=2)


def conv2d_resample(
    x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor, up: bool = False, down: bool = False, groups: int = 1
) -> torch.Tensor:
    """A "same" convolution with an odd square kernel, optionally upsampling or downsampling by 2.

    Upsampling is a transposed convolution of stride 2 followed by the FIR filter; downsampling
    is the FIR filter followed by a convolution of stride 2 (StyleGAN's filter after upsampling,
    before downsampling, fused with the convolution). ``up`` equals zero insertion, the ordinary
    *convolution* (not correlation) with ``weight``, then the filter: the transposed
    convolution of ``weight`` itself, the kernel orientation of StyleGAN2-ADA's upsampling layers.
    Without resampling (and downsampling) it is an ordinary ``F.conv2d`` (a correlation), as
    there. ``weight`` is (out, in/groups, k, k)."""
    out_channels, in_per_group, kernel, _ = weight.shape
    if kernel % 2 == 0:
        raise ValueError(f"resampling convolutions need an odd kernel; got {kernel}")
    if up and down:
        raise ValueError("a convolution either upsamples or downsamples, not both")
    if up:
        transposed = weight.reshape(groups, out_channels // groups, in_per_group, kernel, kernel)
        transposed = transposed.transpose(1, 2).reshape(groups * in_per_group, out_channels // groups, kernel, kernel)
        return upsampling_conv2d(x, transposed, f, groups)
    if down:
        half = (kernel + 1) // 2  # k + 1 zeros in all: the blurred side H + k - 2 gives H/2 after the conv
        x = _filter2d(x, f, (half, kernel + 1 - half))
        return F.conv2d(x, weight, stride=2, groups=groups)
    return F.conv2d(x, weight, padding=kernel // 2, groups=groups)


def upsampling_conv2d(
    x: torch.Tensor, transposed_weight: torch.Tensor, f: torch.Tensor, groups: int = 1
) -> torch.Tensor:
    """(N, C, H, W) -> (N, out, 2H, 2W): transposed convolution of stride 2, then the FIR filter
    (gain 4, as in :func:`upsample2d`). ``transposed_weight`` is in transposed-convolution layout
    (in, out/groups, k, k): ``weight.transpose(0, 1)`` of a layer's stored weight, unflipped, so
    kernel tap (0, 0) reaches the output pixels up and to the left of each input pixel."""
    kernel = transposed_weight.shape[-1]
    x = F.conv_transpose2d(x, transposed_weight, stride=2, groups=groups)  # side 2H - 2 + k
    before = 2 - (kernel - 1) // 2  # output pixels a quarter pixel either side, as in upsample2d
    return _filter2d(x, f * 4, (before, 5 - kernel - before))  # side 2H


# -- equalized learning rate ---------------------------------------------------------------------


def _activate(x: torch.Tensor, activation: str | None, clamp: float | None = None) -> torch.Tensor:
    """The paper's "bias_act" after the bias is added: identity or leaky ReLU with gain sqrt(2),
    then, with ``clamp``, the result limited to [-clamp, clamp] (StyleGAN2-ADA's ``conv_clamp``,
    which keeps activations in float16 range; 256 in its configurations)."""
    if activation == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN
    elif activation is not None:
        raise ValueError(f"activation must be None or 'lrelu'; got {activation!r}")
    return x if clamp is None else x.clamp(-clamp, clamp)


class EqualizedLinear(nn.Module):
    """A linear layer with equalized learning rate (ProGAN, Section 4.1).

    The weight is stored N(0, 1) / lr_multiplier and used times lr_multiplier / sqrt(in): every
    layer then learns at the same speed under Adam, and lr_multiplier scales that speed (the
    mapping network uses 0.01). ``bias_init`` is the bias the layer starts with, as used."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_multiplier: float = 1.0,
        activation: str | None = None,
    ):
        super().__init__()
        _activate(torch.zeros(()), activation)  # an unknown activation fails here, not at forward
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_multiplier)) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.bias_gain if self.bias is not None else None
        return _activate(F.linear(x, self.weight * self.weight_gain, bias), self.activation)


class EqualizedConv2d(nn.Module):
    """A "same" convolution with equalized learning rate, optionally up- or downsampling by 2
    with the FIR filter (see :func:`conv2d_resample`), its output clamped to +-``clamp`` after the
    activation when ``clamp`` is given."""

    # a buffer registered in __init__; declared so the checker knows it is a tensor, not a sub-module
    resample_filter: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str | None = None,
        up: bool = False,
        down: bool = False,
        clamp: float | None = None,
    ):
        super().__init__()
        _activate(torch.zeros(()), activation)
        self.activation, self.up, self.down, self.clamp = activation, up, down, clamp
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.register_buffer("resample_filter", setup_filter(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = conv2d_resample(x, self.weight * self.weight_gain, self.resample_filter, self.up, self.down)
        if self.bias is not None:
            x = x + self.bias[None, :, None, None]
        return _activate(x, self.activation, self.clamp)


# -- synthesis -----------------------------------------------------------------------------------


class ModulatedConv2d(nn.Module):
    """A convolution whose weights each sample's style scales (paper, Section 2.2, Eqs. 1-3).

    The style s = A(w) (an affine layer starting at 1, so modulation starts as the identity)
    scales the input feature maps of the weight: w'_ijk = s_i w_ijk; demodulation divides each
    output map by its expected standard deviation, sqrt(sum w'^2 + eps). Demodulation cancels
    any constant scale of the weight, so the equalized-lr gain applies only without it (toRGB),
    where it sets the output scale; with it, eps meets the unscaled sum, as in StyleGAN2-ADA. All
    samples run as one grouped convolution (groups = batch): one kernel launch however large the
    batch."""

    # a buffer registered in __init__; declared so the checker knows it is a tensor, not a sub-module
    resample_filter: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        w_dim: int,
        demodulate: bool = True,
        up: bool = False,
    ):
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.demodulate, self.up = demodulate, up
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        # Equalized lr; without demodulation (toRGB) it also sets the output scale.
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.style_gain = 1.0 if demodulate else self.weight_gain  # demodulation cancels the gain
        self.register_buffer("resample_filter", setup_filter(), persistent=False)

    def modulation(self, w: torch.Tensor) -> torch.Tensor:
        """Each sample's factor for each (output, input) pair, (N, out, in): the style times the
        demodulation. sum_ik (s_i w_oik)^2 = sum_i s_i^2 sum_k w_oik^2 is a matrix product, so
        the (N, out, in, k, k) weights are built with one multiplication, not four."""
        styles = self.affine(w) * self.style_gain  # (N, in)
        factor = styles[:, None, :].expand(-1, self.out_channels, -1)
        if self.demodulate:
            energy = styles.square() @ self.weight.square().sum(dim=(2, 3)).t()  # (N, out)
            factor = factor * (energy + DEMODULATION_EPS).rsqrt()[:, :, None]
        return factor

    def modulated_weights(self, w: torch.Tensor) -> torch.Tensor:
        """Each sample's weight (N, out, in, k, k) for its w (N, w_dim)."""
        return self.weight[None] * self.modulation(w)[..., None, None]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if not x.is_cuda:  # on a CPU, scaling the activations is cheaper than per-sample weights
            return self._scaling_activations(x, w)
        return self._grouped(x, w)

    def _grouped(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Per-sample modulated weights, all samples as one grouped convolution (the GPU path)."""
        batch, _, height, width = x.shape
        x = x.reshape(1, batch * self.in_channels, height, width)
        k = self.kernel_size
        if self.up:  # build the weights directly in transposed layout: no copy of the big tensor
            base = self.weight.transpose(0, 1)  # (in, out, k, k)
            weights = base[None] * self.modulation(w).transpose(1, 2)[..., None, None]
            x = upsampling_conv2d(
                x,
                weights.reshape(batch * self.in_channels, self.out_channels, k, k),
                self.resample_filter,
                groups=batch,
            )
        else:
            weights = self.modulated_weights(w).reshape(batch * self.out_channels, self.in_channels, k, k)
            x = F.conv2d(x, weights, padding=k // 2, groups=batch)
        return x.reshape(batch, self.out_channels, *x.shape[2:])

    def _scaling_activations(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """The same result by linearity: scale the inputs by the style, convolve with the shared
        weight, scale the outputs by the demodulation (the paper's Section 2.2 notes the two are
        equivalent)."""
        styles = self.affine(w) * self.style_gain  # (N, in)
        x = x * styles[:, :, None, None]
        if self.up:
            x = upsampling_conv2d(x, self.weight.transpose(0, 1), self.resample_filter)
        else:
            x = F.conv2d(x, self.weight, padding=self.kernel_size // 2)
        if self.demodulate:
            energy = styles.square() @ self.weight.square().sum(dim=(2, 3)).t()  # (N, out)
            x = x * (energy + DEMODULATION_EPS).rsqrt()[:, :, None, None]
        return x


class NoiseInjection(nn.Module):
    """Adds single-channel per-pixel noise, broadcast over the channels and scaled by a learned
    strength that starts at 0 (paper, Fig. 2c: one scalar strength per layer).

    ``random`` draws fresh N(0, 1) noise from torch's global generator (so a checkpoint of the RNG
    state reproduces it); ``const`` uses this layer's fixed noise map, a persistent buffer, so
    images are a deterministic function of w; ``none`` adds nothing."""

    # a buffer registered in __init__; declared so the checker knows it is a tensor, not a sub-module
    noise_const: torch.Tensor

    def __init__(self, resolution: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))

    def forward(self, x: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        if noise_mode == "none":
            return x
        if noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        elif noise_mode == "const":
            noise = self.noise_const.to(x.dtype)
        else:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}; got {noise_mode!r}")
        return x + noise * self.strength


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (optionally upsampling), noise, bias, leaky ReLU: the style block
    of the paper's Fig. 2c, with noise and bias outside the modulation; the result clamped to
    +-``clamp`` when given."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        up: bool = False,
        clamp: float | None = None,
    ):
        super().__init__()
        self.clamp = clamp
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, demodulate=True, up=up)
        self.noise = NoiseInjection(resolution)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        x = self.noise(self.conv(x, w), noise_mode)
        return _activate(x + self.bias[None, :, None, None], "lrelu", self.clamp)


class ToRGB(nn.Module):
    """Feature maps -> image: a modulated 1x1 convolution without demodulation, plus a bias,
    clamped to +-``clamp`` when given."""

    def __init__(self, in_channels: int, image_channels: int, w_dim: int, clamp: float | None = None):
        super().__init__()
        self.clamp = clamp
        self.conv = ModulatedConv2d(in_channels, image_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(image_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return _activate(self.conv(x, w) + self.bias[None, :, None, None], None, self.clamp)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: (upsampling conv,) conv, toRGB; the block's image is
    added to the FIR-upsampled image of the blocks before it. The first block (4x4) starts from
    the learned constant and has one convolution.

    It reads ``num_conv + 1`` consecutive ws: one per convolution, then toRGB's. The toRGB w is
    the next block's first w, which gives StyleGAN's 2 ws per resolution (18 at 1024 px)."""

    # a buffer registered in __init__; declared so the checker knows it is a tensor, not a sub-module
    resample_filter: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        image_channels: int,
        clamp: float | None = None,
    ):
        super().__init__()
        self.resolution = resolution
        self.is_first = resolution == CONST_RESOLUTION
        if self.is_first:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
            self.convs = nn.ModuleList([SynthesisLayer(out_channels, out_channels, w_dim, resolution, clamp=clamp)])
        else:
            self.convs = nn.ModuleList(
                [
                    SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=True, clamp=clamp),
                    SynthesisLayer(out_channels, out_channels, w_dim, resolution, clamp=clamp),
                ]
            )
        self.torgb = ToRGB(out_channels, image_channels, w_dim, clamp=clamp)
        self.register_buffer("resample_filter", setup_filter(), persistent=False)

    @property
    def num_conv(self) -> int:
        return len(self.convs)

    def forward(
        self, x: torch.Tensor | None, image: torch.Tensor | None, ws: torch.Tensor, noise_mode: str = "random"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ws: (N, num_conv + 1, w_dim). Returns the features and the running image."""
        if self.is_first:
            x = self.const[None].expand(ws.shape[0], -1, -1, -1)
        elif x is None:
            raise ValueError(f"the {self.resolution}x{self.resolution} block needs the previous block's features")
        for index, layer in enumerate(self.convs):
            x = layer(x, ws[:, index], noise_mode)
        rgb = self.torgb(x, ws[:, self.num_conv])
        image = rgb if image is None else upsample2d(image, self.resample_filter) + rgb
        return x, image


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, channels, R, R). No output activation: the paper's
    generator leaves images unbounded and the losses see them as they are (``conv_clamp``, when
    given, limits every layer's output and each toRGB image to +-conv_clamp)."""

    def __init__(
        self,
        w_dim: int,
        resolution: int,
        channels: int,
        channel_base: int = 32768,
        channel_max: int = 512,
        conv_clamp: float | None = None,
    ):
        super().__init__()
        check_configuration(resolution, channels)
        self.w_dim, self.resolution, self.channels = w_dim, resolution, channels
        self.block_resolutions = [2**i for i in range(2, int(math.log2(resolution)) + 1)]
        self.blocks = nn.ModuleList()
        in_channels = 0
        for res in self.block_resolutions:
            out_channels = channel_count(res, channel_base, channel_max)
            self.blocks.append(SynthesisBlock(in_channels, out_channels, w_dim, res, channels, clamp=conv_clamp))
            in_channels = out_channels

    @property
    def synthesis_blocks(self) -> list[SynthesisBlock]:
        """The blocks as what they are: iterating an nn.ModuleList gives the checker plain Modules."""
        return [cast(SynthesisBlock, block) for block in self.blocks]

    @property
    def num_ws(self) -> int:
        return sum(block.num_conv for block in self.synthesis_blocks) + 1

    def forward(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be (N, {self.num_ws}, {self.w_dim}); got {tuple(ws.shape)}")
        x = image = None
        first_w = 0
        for block in self.synthesis_blocks:
            x, image = block(x, image, ws[:, first_w : first_w + block.num_conv + 1], noise_mode)
            first_w += block.num_conv
        if image is None:
            raise ValueError("the synthesis network has no blocks")
        return image


# -- mapping -------------------------------------------------------------------------------------


@layers.full_precision  # eight layers at lr x 0.01 and the tracked w_avg: fp32 under any --precision
class MappingNetwork(nn.Module):
    """z (N, z_dim) [+ labels] -> ws (N, num_ws, w_dim).

    z is normalised to unit second moment; a conditional network embeds the one-hot label with an
    equalized linear layer, normalises it the same way and concatenates it to z. ``layers`` fully
    connected leaky-ReLU layers with learning-rate multiplier ``lr_multiplier`` follow (StyleGAN:
    8 layers, 0.01). The moving average of w (decay ``w_avg_beta``) is the centre of truncation."""

    # a buffer registered in __init__; declared so the checker knows it is a tensor, not a sub-module
    w_avg: torch.Tensor

    def __init__(
        self,
        z_dim: int,
        w_dim: int,
        num_ws: int,
        num_classes: int = 0,
        layers: int = 8,
        lr_multiplier: float = 0.01,
        w_avg_beta: float = 0.995,
    ):
        super().__init__()
        if layers < 1:
            raise ValueError(f"the mapping network needs at least one layer; got {layers}")
        self.z_dim, self.w_dim, self.num_ws, self.num_classes = z_dim, w_dim, num_ws, num_classes
        self.w_avg_beta = w_avg_beta
        self.embed = EqualizedLinear(num_classes, w_dim) if num_classes else None
        features = [z_dim + (w_dim if num_classes else 0)] + [w_dim] * layers
        self.layers = nn.Sequential(
            *(
                EqualizedLinear(features[i], features[i + 1], lr_multiplier=lr_multiplier, activation="lrelu")
                for i in range(layers)
            )
        )
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: torch.Tensor,
        labels: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_w_avg: bool = False,
    ) -> torch.Tensor:
        """``update_w_avg``: move w_avg towards this batch's mean w (pass it while training only).
        Truncation ws = w_avg + psi (ws - w_avg) applies to the ws before ``truncation_cutoff``
        (all when None); one w_avg serves every class, as in StyleGAN2-ADA."""
        x = normalize_2nd_moment(z)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this mapping network is conditional: pass labels")
            y = normalize_2nd_moment(self.embed(one_hot_labels(labels, self.num_classes).to(z.dtype)))
            x = torch.cat([x, y], dim=1)
        w = self.layers(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().mean(dim=0).to(self.w_avg.dtype).lerp(self.w_avg, self.w_avg_beta))
        ws = w[:, None].expand(-1, self.num_ws, -1)
        if truncation_psi != 1:
            cutoff = self.num_ws if truncation_cutoff is None else min(truncation_cutoff, self.num_ws)
            w_avg = self.w_avg.to(ws.dtype)
            truncated = w_avg + truncation_psi * (ws[:, :cutoff] - w_avg)
            ws = torch.cat([truncated, ws[:, cutoff:]], dim=1)
        return ws


class Generator(nn.Module):
    """z (N, z_dim) [+ labels (N,) int64] -> images (N, channels, R, R): mapping then synthesis.
    Style mixing and path-length regularisation call ``mapping`` and ``synthesis`` separately."""

    def __init__(
        self,
        z_dim: int,
        w_dim: int,
        resolution: int,
        channels: int,
        num_classes: int = 0,
        mapping_layers: int = 8,
        mapping_lr: float = 0.01,
        channel_base: int = 32768,
        channel_max: int = 512,
        conv_clamp: float | None = None,
    ):
        super().__init__()
        self.z_dim, self.w_dim, self.num_classes = z_dim, w_dim, num_classes
        self.resolution, self.channels = resolution, channels
        self.synthesis = SynthesisNetwork(w_dim, resolution, channels, channel_base, channel_max, conv_clamp)
        self.mapping = MappingNetwork(
            z_dim,
            w_dim,
            self.synthesis.num_ws,
            num_classes=num_classes,
            layers=mapping_layers,
            lr_multiplier=mapping_lr,
        )

    @property
    def num_ws(self) -> int:
        return self.synthesis.num_ws

    def forward(
        self,
        z: torch.Tensor,
        labels: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "random",
        update_w_avg: bool = False,
    ) -> torch.Tensor:
        ws = self.mapping(z, labels, truncation_psi, truncation_cutoff, update_w_avg)
        return self.synthesis(ws, noise_mode)


# -- discriminator -------------------------------------------------------------------------------


D_ARCHITECTURES = ("resnet", "orig")  # StyleGAN2-ADA's names: residual blocks, or plain ones


class DiscriminatorBlock(nn.Module):
    """One resolution of the discriminator: two 3x3 convolutions, the second downsampling. The
    "resnet" architecture (paper, Fig. 7c) adds a downsampling 1x1 skip without bias and scales
    the sum by 1/sqrt(2) to keep its variance; "orig" has no skip. ``clamp`` limits each
    convolution's output (not the skip's), as StyleGAN2-ADA's ``conv_clamp``."""

    def __init__(self, in_channels: int, out_channels: int, architecture: str = "resnet", clamp: float | None = None):
        super().__init__()
        if architecture not in D_ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(D_ARCHITECTURES)}; got {architecture!r}")
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3, activation="lrelu", clamp=clamp)
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3, activation="lrelu", down=True, clamp=clamp)
        self.skip = (
            EqualizedConv2d(in_channels, out_channels, 1, bias=False, down=True) if architecture == "resnet" else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.skip is None:
            return self.conv1(self.conv0(x))
        return (self.skip(x) + self.conv1(self.conv0(x))) * math.sqrt(0.5)


@layers.full_precision  # eight layers at lr x 0.01: fp32 under any --precision
class LabelMapping(nn.Module):
    """labels (N,) or (N, K) -> cmap (N, cmap_dim), the conditional discriminator's label code:
    the one-hot label embedded by an equalized linear layer and normalised to unit second moment,
    then ``layers`` leaky-ReLU layers with learning-rate multiplier ``lr_multiplier``: the mapping
    network of StyleGAN2-ADA's discriminator (no z, no tracked average; 8 layers at 0.01)."""

    def __init__(self, num_classes: int, cmap_dim: int, layers: int = 8, lr_multiplier: float = 0.01):
        super().__init__()
        if layers < 1:
            raise ValueError(f"the label mapping needs at least one layer; got {layers}")
        self.num_classes = num_classes
        self.embed = EqualizedLinear(num_classes, cmap_dim)
        self.layers = nn.Sequential(
            *(
                EqualizedLinear(cmap_dim, cmap_dim, lr_multiplier=lr_multiplier, activation="lrelu")
                for _ in range(layers)
            )
        )

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        weight = self.embed.weight
        embedded = self.embed(one_hot_labels(labels, self.num_classes).to(device=weight.device, dtype=weight.dtype))
        return self.layers(normalize_2nd_moment(embedded))


@layers.full_precision  # a standard deviation over groups of images: fp32 under any --precision
class MinibatchStdDev(nn.Module):
    """Appends the standard deviation of the features across groups of samples (ProGAN, Section
    3), so D can see a lack of variety. Each group holds ``group_size`` samples (fewer when the
    batch is smaller or does not divide evenly); ``num_channels`` splits the features into that
    many parts, each giving one extra channel."""

    def __init__(self, group_size: int = 4, num_channels: int = 1):
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        group = max(g for g in range(1, min(self.group_size, n) + 1) if n % g == 0)
        parts = self.num_channels
        # Group members are samples n/G apart, so consecutive samples land in different groups.
        y = x.reshape(group, n // group, parts, c // parts, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()  # std over each group
        y = y.mean(dim=(2, 3, 4))  # (n/G, parts): average over features and pixels
        y = y.reshape(n // group, parts, 1, 1).repeat(group, 1, h, w)
        return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """images (N, channels, R, R) [+ labels (N,) int64] -> logits (N,).

    fromRGB (1x1) at full resolution, blocks down to 4x4 ("resnet" or "orig", see
    :class:`DiscriminatorBlock`), then the epilogue: minibatch standard deviation, 3x3 conv,
    fully connected, output. Conditional: the output layer gives cmap_dim features and the logit
    is their projection on the label's code from :class:`LabelMapping`, (x . cmap).sum /
    sqrt(cmap_dim) (Miyato & Koyama 2018; cmap_dim = the 4x4 width, as in StyleGAN2-ADA).
    ``conv_clamp`` limits fromRGB's and every convolution's output, as there."""

    def __init__(
        self,
        resolution: int,
        channels: int,
        num_classes: int = 0,
        channel_base: int = 32768,
        channel_max: int = 512,
        mbstd_group: int = 4,
        mbstd_channels: int = 1,
        architecture: str = "resnet",
        conv_clamp: float | None = None,
        mapping_layers: int = 8,
    ):
        super().__init__()
        check_configuration(resolution, channels)
        self.resolution, self.channels, self.num_classes = resolution, channels, num_classes
        self.architecture = architecture
        width = {2**i: channel_count(2**i, channel_base, channel_max) for i in range(2, int(math.log2(resolution)) + 1)}
        if width[CONST_RESOLUTION] % mbstd_channels:
            raise ValueError(f"mbstd_channels ({mbstd_channels}) must divide the 4x4 width ({width[4]})")
        self.from_rgb = EqualizedConv2d(channels, width[resolution], 1, activation="lrelu", clamp=conv_clamp)
        self.blocks = nn.Sequential(
            *(
                DiscriminatorBlock(width[res], width[res // 2], architecture, conv_clamp)
                for res in sorted(width, reverse=True)
                if res > CONST_RESOLUTION
            )
        )
        last = width[CONST_RESOLUTION]
        self.mbstd = MinibatchStdDev(mbstd_group, mbstd_channels)
        self.conv = EqualizedConv2d(last + mbstd_channels, last, 3, activation="lrelu", clamp=conv_clamp)
        self.fc = EqualizedLinear(last * CONST_RESOLUTION**2, last, activation="lrelu")
        self.cmap_dim = last if num_classes else 0
        self.out = EqualizedLinear(last, self.cmap_dim or 1)
        self.mapping = LabelMapping(num_classes, self.cmap_dim, mapping_layers) if num_classes else None

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.blocks(self.from_rgb(images))
        x = self.out(self.fc(self.conv(self.mbstd(x)).flatten(1)))
        if self.mapping is None:
            return x.squeeze(1)
        if labels is None:
            raise ValueError("this discriminator is conditional: pass labels")
        cmap = self.mapping(labels).to(x.dtype)
        return (x * cmap).sum(dim=1) / math.sqrt(self.cmap_dim)
