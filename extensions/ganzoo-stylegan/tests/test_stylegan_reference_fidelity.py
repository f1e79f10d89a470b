"""StyleGAN2 against its reference, NVlabs/stylegan2-ada-pytorch, without the reference's code.

The numbers here were measured by running the reference's networks (docs/models/stylegan2.md,
"Compared with the reference"): parameter counts of every configuration row at the reference's
resolutions, the rows' training settings (train.py's cfg_specs), the upsampling kernels'
orientation (hand-computed: what makes converted reference weights give the same outputs), the
name mapping of state dicts, and the losses recomputed from the papers' formulas on fixed
tensors, so that a regression by a factor of two cannot pass."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs before the package is installed

import pytest
import torch
from stylegan_helpers import isolated_data_home, run_cli  # noqa: F401 (a fixture)
from torch import nn

import ganzoo
from ganzoo.protocols import StepContext
from ganzoo_stylegan import convert
from ganzoo_stylegan.networks import (
    Discriminator,
    EqualizedConv2d,
    Generator,
    ModulatedConv2d,
    SynthesisLayer,
)
from ganzoo_stylegan.options import CONFIGS, StyleGAN2Options, resolve_options


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta_model(config: str, resolution: int, name: str = "stylegan2", classes: tuple = (), **options):
    """A full-size model on the meta device: shapes without memory or initialisation time."""
    with torch.device("meta"):
        return ganzoo.create_model(name, channels=3, resolution=resolution, classes=classes, config=config, **options)


# -- parameter counts (measured on the reference's Generator / Discriminator, 3 channels) -------

REFERENCE_COUNTS = {
    # row, resolution: G, G.mapping, D
    ("paper256", 256): (24_767_458, 2_101_248, 24_001_089),
    ("stylegan2", 256): (30_034_338, 2_101_248, 28_864_129),  # the row's own 1,024 px: 30,370,060 / 29,012,513
    ("auto", 256): (23_191_522, 525_312, 24_001_089),  # paper256's D; G's mapping has 2 layers, not 8
    ("cifar", 32): (19_947_539, 525_312, 20_720_641),  # the "orig" D (resnet: 21,507,073)
}


@pytest.mark.parametrize(("config", "resolution"), list(REFERENCE_COUNTS))
def test_parameter_counts_equal_the_reference(config, resolution):
    model = meta_model(config, resolution)
    assert (count(model.G), count(model.G.mapping), count(model.D)) == REFERENCE_COUNTS[config, resolution]


def test_conditional_counts_equal_the_reference():
    """cifar with 10 classes: G embeds the label into its mapping; D maps it through an
    embedding and 8 layers (the reference's D mapping network) to the projection code."""
    model = meta_model("cifar", 32, name="stylegan2-cond", classes=tuple("0123456789"))
    assert (count(model.G), count(model.G.mapping)) == (20_215_315, 793_088)
    assert (count(model.D), count(model.D.mapping)) == (23_089_664, 2_106_880)


# -- the rows' settings (train.py cfg_specs) -------------------------------------------------------

ROWS = {
    # row: minibatch, mbstd group, channel_base, lr, gamma, EMA kimg, ramp-up, mapping depth
    "stylegan2": (32, 4, 32768, 0.002, 10.0, 10.0, None, 8),
    "paper256": (64, 8, 16384, 0.0025, 1.0, 20.0, None, 8),
    "cifar": (64, 32, 32768, 0.0025, 0.01, 500.0, 0.05, 2),
}


@pytest.mark.parametrize("config", list(ROWS))
def test_rows_follow_the_reference_table(config):
    s = resolve_options(StyleGAN2Options(config=config), 256 if config != "cifar" else 32)
    values = (s.minibatch, s.mbstd_group, s.channel_base, s.lr, s.gamma, s.ema_kimg, s.ema_rampup, s.mapping_layers)
    assert values == ROWS[config]
    assert (s.channel_max, s.z_dim, s.w_dim, s.conv_clamp) == (512, 512, 512, 256.0)
    cifar = config == "cifar"
    assert (s.pl_weight, s.style_mixing, s.d_architecture) == ((0.0, 0.0, "orig") if cifar else (2.0, 0.9, "resnet"))


@pytest.mark.parametrize(("resolution", "minibatch"), [(16, 32), (32, 32), (128, 32), (256, 16)])
def test_auto_is_derived_as_the_reference_derives_it(resolution, minibatch):
    """One GPU: minibatch min(4096 / res, 32), group min(minibatch, 4), gamma 0.0002 res^2 /
    minibatch, EMA minibatch x 10 / 32 kimg with ramp-up 0.05, fmaps 0.5, mapping 2."""
    s = resolve_options(StyleGAN2Options(config="auto"), resolution)
    assert (s.minibatch, s.mbstd_group, s.channel_base, s.lr, s.mapping_layers) == (minibatch, 4, 16384, 0.0025, 2)
    assert s.gamma == pytest.approx(0.0002 * resolution**2 / minibatch)
    assert (s.ema_kimg, s.ema_rampup) == (minibatch * 10 / 32, 0.05)


def test_models_are_built_with_the_row():
    cifar = meta_model("cifar", 32)
    assert cifar.D.mbstd.group_size == 32 and cifar.D.architecture == "orig"
    assert all(block.skip is None for block in cifar.D.blocks)
    assert cifar.ema_rampup() == 0.05 and cifar.ema_half_life_kimg(7) == 500.0
    assert "G_reg" not in [p.name for p in cifar.phases] and cifar.settings.style_mixing == 0
    paper = meta_model("paper256", 256)
    assert paper.D.mbstd.group_size == 8 and paper.ema_rampup() is None
    assert paper.G.synthesis.blocks[0].convs[0].clamp == 256 and paper.D.conv.clamp == 256
    assert paper.G.synthesis.blocks[-1].torgb.clamp == 256 and paper.D.from_rgb.clamp == 256
    auto = meta_model("auto", 256)
    assert auto.ema_half_life_kimg(64) == 5.0  # the row's minibatch (16), not --batch-size
    demo = resolve_options(StyleGAN2Options(), 16)  # ganzoo's own row: unchanged
    assert (demo.mbstd_group, demo.conv_clamp, demo.ema_kimg, demo.ema_rampup) == (4, None, 2.0, None)
    assert demo.pl_weight == 0


def test_g_adam_keeps_the_lazy_correction_without_path_length_as_the_reference():
    """The reference's G phases are lazy (interval 4) whatever pl_weight is: cifar's G Adam has
    lr x 4/5 and beta2 ** (4/5); ganzoo's demo (no path length) keeps the plain settings."""
    c = 4 / 5
    cifar = ganzoo.create_model(
        "stylegan2", channels=1, resolution=16, config="cifar", channel_base=64, channel_max=8, z_dim=8, w_dim=8
    )
    group = cifar.configure_optimizers()["G"].param_groups[0]
    assert group["lr"] == pytest.approx(0.0025 * c) and group["betas"][1] == pytest.approx(0.99**c)
    demo = ganzoo.create_model("stylegan2", channels=1, resolution=16, channel_base=64, channel_max=8)
    assert demo.configure_optimizers()["G"].param_groups[0]["lr"] == 0.0025


def test_info_lists_every_row_with_its_values():
    result = run_cli("info", "stylegan2", "--json")
    assert result.returncode == 0, result.stderr
    options = {row["name"]: row for row in json.loads(result.stdout)[0]["options"]}
    text = options["config"]["help"]
    for name in CONFIGS:
        assert f"{name} (" in text, name
    assert "paper256 (reference): mb 64, mbstd 8, fmaps 0.5" in text
    assert "cifar (reference): mb 64, mbstd 32" in text and "D orig" in text
    assert "stylegan2 (reference): mb 32, mbstd 4, fmaps 1" in text and "gamma 10" in text
    assert "demo (ganzoo's)" in text and "low-shot (ganzoo's)" in text
    plain = run_cli("info", "stylegan2")  # the table as printed (rich would eat [bracketed] words)
    assert plain.returncode == 0, plain.stderr
    printed = " ".join(plain.stdout.split())
    for name in CONFIGS:
        origin = "ganzoo's" if name in ("demo", "low-shot") else "reference"
        assert f"{name} ({origin}): mb " in printed, name


# -- kernel layout: hand-computed ----------------------------------------------------------------

#: The response of the [1, 3, 3, 1] upsampling (gain 4) to one impulse, x 16.
IMPULSE_X16 = torch.tensor([1.0, 3, 3, 1])[:, None] * torch.tensor([1.0, 3, 3, 1])[None, :]


@pytest.mark.parametrize(("tap", "corner"), [((0, 0), (0, 0)), ((2, 2), (2, 2)), ((0, 2), (0, 2))])
def test_upsampling_kernels_are_stored_as_the_reference_stores_them(tap, corner):
    """An impulse at input pixel (1, 1) of a 4x4 image, through a 3x3 upsampling convolution
    whose only non-zero tap is ``tap``: the reference's layout (a transposed convolution of the
    stored kernel) puts the blurred impulse with its top-left at ``corner`` = tap, i.e. tap
    (0, 0) reaches up and to the left. Stored flipped, tap (0, 0) would land at (2, 2)."""
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 1, 1] = 1
    expected = torch.zeros(1, 1, 8, 8)
    expected[0, 0, corner[0] : corner[0] + 4, corner[1] : corner[1] + 4] = IMPULSE_X16 / 16
    conv = EqualizedConv2d(1, 1, 3, bias=False, up=True)
    modulated = ModulatedConv2d(1, 1, 3, w_dim=4, demodulate=False, up=True)
    with torch.no_grad():
        for layer in (conv, modulated):
            layer.weight.zero_()
            layer.weight[0, 0, tap[0], tap[1]] = 3.0  # x the equalized-lr gain 1/3: a tap of 1
        modulated.affine.weight.zero_()  # styles = the affine's bias, 1
        w = torch.zeros(1, 4)
        assert torch.allclose(conv(x), expected, atol=1e-7)
        assert torch.allclose(modulated(x, w), expected, atol=1e-7)
        assert torch.allclose(modulated._grouped(x, w), expected, atol=1e-7)  # the GPU path


def test_conv_clamp_limits_after_the_activation():
    torch.manual_seed(0)
    conv = EqualizedConv2d(4, 4, 3, activation="lrelu", clamp=0.5)
    free = EqualizedConv2d(4, 4, 3, activation="lrelu")
    free.load_state_dict(conv.state_dict())
    x = torch.randn(2, 4, 8, 8) * 4
    assert torch.equal(conv(x), free(x).clamp(-0.5, 0.5)) and free(x).abs().max() > 0.5
    layer = SynthesisLayer(4, 4, w_dim=4, resolution=8, clamp=0.5)
    assert layer(x, torch.randn(2, 4)).abs().max() <= 0.5


# -- state dicts: the reference's names -----------------------------------------------------------

LAYER_ENTRIES = ("weight", "affine.weight", "affine.bias", "noise_strength", "noise_const", "bias")

#: Every entry of the reference's 8 px generator (2 mapping layers, 10 classes), resample
#: filters left out, as its ``state_dict()`` names them.
REFERENCE_G8 = {
    "mapping.embed.weight",
    "mapping.embed.bias",
    "mapping.fc0.weight",
    "mapping.fc0.bias",
    "mapping.fc1.weight",
    "mapping.fc1.bias",
    "mapping.w_avg",
    "synthesis.b4.const",
    *(f"synthesis.b4.conv1.{p}" for p in LAYER_ENTRIES),
    *(f"synthesis.b4.torgb.{p}" for p in ("weight", "affine.weight", "affine.bias", "bias")),
    *(f"synthesis.b8.{layer}.{p}" for layer in ("conv0", "conv1") for p in LAYER_ENTRIES),
    *(f"synthesis.b8.torgb.{p}" for p in ("weight", "affine.weight", "affine.bias", "bias")),
}

#: The reference's 16 px resnet discriminator with 10 classes (its D mapping: 8 layers).
REFERENCE_D16 = {
    "b16.fromrgb.weight",
    "b16.fromrgb.bias",
    *(f"b{r}.{layer}.{p}" for r in (16, 8) for layer in ("conv0", "conv1") for p in ("weight", "bias")),
    "b16.skip.weight",
    "b8.skip.weight",
    "mapping.embed.weight",
    "mapping.embed.bias",
    *(f"mapping.fc{i}.{p}" for i in range(8) for p in ("weight", "bias")),
    *(f"b4.{layer}.{p}" for layer in ("conv", "fc", "out") for p in ("weight", "bias")),
}


def test_state_dicts_convert_to_and_from_the_reference_names():
    torch.manual_seed(0)
    G = Generator(8, 8, 8, 3, num_classes=10, mapping_layers=2, channel_base=64, channel_max=8)
    theirs = convert.generator_to_reference(G.state_dict())
    assert set(theirs) == REFERENCE_G8
    assert torch.equal(theirs["synthesis.b8.conv0.weight"], G.synthesis.blocks[1].convs[0].conv.weight)
    with_filters = {**theirs, "synthesis.b8.resample_filter": torch.ones(4, 4)}  # the reference keeps them
    back = convert.generator_from_reference(with_filters)
    assert back.keys() == G.state_dict().keys()
    G.load_state_dict(back)  # same shapes: nothing transposed or flipped
    D = Discriminator(16, 3, num_classes=10, channel_base=64, channel_max=8)
    theirs_d = convert.discriminator_to_reference(D.state_dict(), 16)
    assert set(theirs_d) == REFERENCE_D16
    D.load_state_dict(convert.discriminator_from_reference(theirs_d))


# -- losses from the papers' formulas, on fixed tensors ------------------------------------------


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


class ScoreByMean(nn.Module):
    """A stand-in discriminator: the logit is the image's mean pixel."""

    def forward(self, images, labels=None):
        return images.mean(dim=(1, 2, 3))


class HalfSquareNorm(nn.Module):
    """A stand-in discriminator with a known input gradient: D(x) = a/2 |x|^2, so dD/dx = a x."""

    def __init__(self, a: float):
        super().__init__()
        self.a = a

    def forward(self, images, labels=None):
        return self.a / 2 * images.square().sum(dim=(1, 2, 3))


def small_model(**options):
    values = {"channel_base": 64, "channel_max": 8, "z_dim": 8, "w_dim": 8, "mapping_layers": 1, **options}
    return ganzoo.create_model("stylegan2", channels=1, resolution=16, **values)


def constant_images(values, resolution: int = 16) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)[:, None, None, None].expand(-1, 1, resolution, resolution)


def test_g_and_d_losses_are_the_non_saturating_logistic_loss(monkeypatch):
    """G: mean softplus(-D(G(z))); D: mean softplus(D(G(z))) + mean softplus(-D(x))."""
    model = small_model()
    model.D = ScoreByMean()
    fakes = constant_images([-1.0, 0.5, 2.0])
    monkeypatch.setattr(model.G.synthesis, "forward", lambda ws: fakes)
    reals = {"image": constant_images([0.25, -2.0, 1.5])}
    ctx = StepContext(step=0)
    phases = {p.name: p for p in model.phases}
    g_loss = model.phase_loss(phases["G"], reals, ctx).loss.item()
    assert g_loss == pytest.approx((softplus(1.0) + softplus(-0.5) + softplus(-2.0)) / 3, rel=1e-6)
    d_loss = model.phase_loss(phases["D"], reals, ctx).loss.item()
    fake_term = (softplus(-1.0) + softplus(0.5) + softplus(2.0)) / 3
    real_term = (softplus(-0.25) + softplus(2.0) + softplus(-1.5)) / 3
    assert d_loss == pytest.approx(fake_term + real_term, rel=1e-6)


def test_d_judges_fresh_fakes_from_the_updated_generator(monkeypatch):
    """The reference's Dmain draws new z and runs G again (after G's step): the D phase calls the
    generator itself rather than reusing the G phase's images."""
    model = small_model()
    seen: list[torch.Tensor] = []
    model.D = ScoreByMean()
    original = model.D.forward
    monkeypatch.setattr(model.D, "forward", lambda images, labels=None: seen.append(images) or original(images))
    made: list[torch.Tensor] = []

    def synthesis(ws):
        made.append(constant_images([float(len(made))] * len(ws)))
        return made[-1]

    monkeypatch.setattr(model.G.synthesis, "forward", synthesis)
    reals = {"image": constant_images([0.0, 0.0])}
    ctx = StepContext(step=0)
    phases = {p.name: p for p in model.phases}
    model.phase_loss(phases["G"], reals, ctx)
    model.phase_loss(phases["D"], reals, ctx)
    assert len(made) == 2  # one generator run per phase
    assert seen[1] is made[1] and not torch.equal(seen[1], made[0])  # D's fakes: its own run


def test_r1_is_gamma_over_two_times_the_squared_gradient_norm_times_the_interval():
    """D(x) = a/2 |x|^2 has gradient a x: R1 = mean |a x|^2, weighted gamma/2 and x r1_every."""
    model = small_model(gamma=0.5, r1_every=16)
    model.D = HalfSquareNorm(a=3.0)
    reals = {"image": constant_images([0.5, 1.0])}  # |x|^2 = 256 x 0.25 = 64 and 256
    phase = next(p for p in model.phases if p.name == "D_reg")
    result = model.phase_loss(phase, reals, StepContext(step=0))
    penalty = (9 * 64 + 9 * 256) / 2  # mean over the batch of |a x|^2 = 1,440
    assert result.logs["r1_penalty"].item() == pytest.approx(penalty, rel=1e-6)
    assert result.loss.item() == pytest.approx(penalty * 0.5 / 2 * 16, rel=1e-6)  # 5,760


def test_path_length_penalty_follows_the_paper(monkeypatch):
    """A linear synthesis img = sum(ws x A) (every pixel) and y = 1/sqrt(HW) everywhere: J^T y
    = A sqrt(HW) for every sample, length L = sqrt(HW) sqrt(mean_layers sum_dims A^2). From a
    mean of 0 the target moves to decay x L, the penalty is (L - target)^2, and the loss is the
    penalty x pl_weight x pl_every."""
    model = small_model(pl_weight=2.0, pl_every=4, pl_decay=0.01, style_mixing=0.0)
    num_ws, w_dim = model.G.num_ws, model.settings.w_dim
    A = torch.linspace(-1, 1, num_ws * w_dim).reshape(num_ws, w_dim)

    def synthesis(ws):
        return (ws * A).sum(dim=(1, 2))[:, None, None, None].expand(-1, 1, 16, 16)

    monkeypatch.setattr(model.G.synthesis, "forward", synthesis)
    monkeypatch.setattr(torch, "randn_like", torch.ones_like)
    phase = next(p for p in model.phases if p.name == "G_reg")
    result = model.phase_loss(phase, {"image": torch.zeros(8, 1, 16, 16)}, StepContext(step=0))
    length = 16 * math.sqrt(A.square().sum(1).mean().item())
    target = 0.01 * length
    assert model.pl_mean.item() == pytest.approx(target, rel=1e-5)
    assert result.logs["pl_penalty"].item() == pytest.approx((length - target) ** 2, rel=1e-5)
    assert result.loss.item() == pytest.approx((length - target) ** 2 * 2.0 * 4, rel=1e-5)
