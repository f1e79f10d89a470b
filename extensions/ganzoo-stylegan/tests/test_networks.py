"""StyleGAN2's networks: shapes at every size, modulated convolution against a per-sample
reference, FIR resampling, equalized learning rate, truncation and the tracked average w,
noise modes, and gradients (including the double backward of R1 and path-length
regularisation) reaching every parameter."""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs before the package is installed

import pytest
import torch
import torch.nn.functional as F

from ganzoo_stylegan.networks import (
    Discriminator,
    EqualizedConv2d,
    EqualizedLinear,
    Generator,
    MinibatchStdDev,
    ModulatedConv2d,
    NoiseInjection,
    blur,
    downsample2d,
    setup_filter,
    upsample2d,
)

TINY = {"channel_base": 1024, "channel_max": 64}  # 64 channels at most: each test runs in well under a second
Z_DIM = W_DIM = 32


def tiny_generator(resolution: int = 16, channels: int = 3, num_classes: int = 0) -> Generator:
    return Generator(Z_DIM, W_DIM, resolution, channels, num_classes=num_classes, mapping_layers=2, **TINY)


def tiny_discriminator(resolution: int = 16, channels: int = 3, num_classes: int = 0) -> Discriminator:
    return Discriminator(resolution, channels, num_classes=num_classes, **TINY)


def labels_for(num_classes: int, n: int) -> torch.Tensor | None:
    return torch.arange(n) % num_classes if num_classes else None


def zero_insert(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, 2H, 2W) with x at even positions and zeros elsewhere."""
    n, c, h, w = x.shape
    z = x.new_zeros(n, c, 2 * h, 2 * w)
    z[:, :, ::2, ::2] = x
    return z


# -- shapes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [0, 3])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("resolution", [16, 32, 64])
def test_forward_shapes(resolution, channels, num_classes):
    torch.manual_seed(0)
    G, D = tiny_generator(resolution, channels, num_classes), tiny_discriminator(resolution, channels, num_classes)
    labels = labels_for(num_classes, 4)
    assert G.num_ws == 2 * int(math.log2(resolution)) - 2  # 2 ws per resolution from 8 on, as StyleGAN's 18 at 1024
    ws = G.mapping(torch.randn(4, Z_DIM), labels)
    assert ws.shape == (4, G.num_ws, W_DIM)
    images = G(torch.randn(4, Z_DIM), labels)
    assert images.shape == (4, channels, resolution, resolution)
    assert torch.isfinite(images).all()
    logits = D(images, labels)
    assert logits.shape == (4,) and torch.isfinite(logits).all()


def test_eight_pixels_and_bad_sizes():
    assert tiny_generator(8)(torch.randn(2, Z_DIM)).shape == (2, 3, 8, 8)
    assert tiny_discriminator(8)(torch.randn(2, 3, 8, 8)).shape == (2,)
    for bad in (4, 24):
        with pytest.raises(ValueError, match="power-of-two"):
            tiny_generator(bad)
        with pytest.raises(ValueError, match="power-of-two"):
            tiny_discriminator(bad)


def test_conditional_networks_need_labels_and_take_one_hot_rows():
    torch.manual_seed(0)
    G, D = tiny_generator(num_classes=3), tiny_discriminator(num_classes=3)
    z, labels = torch.randn(3, Z_DIM), torch.tensor([0, 2, 1])
    with pytest.raises(ValueError, match="labels"):
        G(z)
    with pytest.raises(ValueError, match="labels"):
        D(torch.randn(3, 3, 16, 16))
    one_hot = F.one_hot(labels, 3).float()
    assert torch.equal(G.mapping(z, labels), G.mapping(z, one_hot))
    images = torch.randn(3, 3, 16, 16)
    assert torch.equal(D(images, labels), D(images, one_hot))


def test_minibatch_std_handles_any_batch_size():
    D = tiny_discriminator()
    for n in (1, 3, 6, 8):  # 6 does not divide into groups of 4: groups of 3
        assert D(torch.randn(n, 3, 16, 16)).shape == (n,)
    x = torch.randn(8, 4, 2, 2)
    stats = MinibatchStdDev(group_size=4, num_channels=2)(x)
    assert stats.shape == (8, 6, 2, 2)
    # Group members are samples 8/4 = 2 apart: samples 0, 2, 4, 6 share one statistic.
    members = x[0::2, :2]
    expected = members.std(dim=0, unbiased=False).mean()
    assert torch.allclose(stats[0, 4], expected.expand(2, 2), atol=1e-5)
    assert torch.equal(stats[0, 4:], stats[6, 4:])


# -- modulated convolution -----------------------------------------------------------------------


def reference_modulated_conv(conv: ModulatedConv2d, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """One ordinary convolution per sample, each with its own modulated (and demodulated) weight,
    written from the paper's Eqs. 1-3 without the module's grouped-convolution machinery."""
    outputs = []
    for xi, wi in zip(x, w):
        styles = conv.affine(wi[None])[0]
        gain = 1 if conv.demodulate else 1 / math.sqrt(conv.weight[0].numel())  # demodulation cancels it
        weight = conv.weight * gain * styles[None, :, None, None]  # Eq. 1
        if conv.demodulate:
            weight = weight / torch.sqrt(weight.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)  # Eq. 3
        k = conv.kernel_size
        if conv.up:
            # zero insertion, the true convolution (correlation with the flipped kernel: the
            # reference's layout) over output positions -1 .. 2H-1, then the FIR filter.
            padded = F.pad(zero_insert(xi[None]), [k // 2 + 1, k // 2, k // 2 + 1, k // 2])
            y = blur(F.conv2d(padded, weight.flip([2, 3])), setup_filter() * 4, 1)
        else:
            y = F.conv2d(xi[None], weight, padding=k // 2)
        outputs.append(y)
    return torch.cat(outputs)


@pytest.mark.parametrize(
    ("kernel", "demodulate", "up"), [(3, True, False), (3, True, True), (1, False, False), (3, False, True)]
)
def test_modulated_conv_equals_per_sample_reference(kernel, demodulate, up):
    torch.manual_seed(0)
    conv = ModulatedConv2d(16, 24, kernel, w_dim=8, demodulate=demodulate, up=up)
    with torch.no_grad():  # styles away from their initial 1 so modulation matters
        conv.affine.weight.mul_(3)
    x, w = torch.randn(5, 16, 8, 8), torch.randn(5, 8)
    out = conv(x, w)
    assert out.shape == (5, 24, 16 if up else 8, 16 if up else 8)
    expected = reference_modulated_conv(conv, x, w)
    assert torch.allclose(out, expected, atol=1e-5, rtol=0), (out - expected).abs().max()
    grouped = conv._grouped(x, w)  # the GPU path, run here on the CPU
    assert torch.allclose(grouped, expected, atol=1e-5, rtol=0), (grouped - expected).abs().max()


def test_demodulation_gives_unit_norm_weights_per_output():
    torch.manual_seed(0)
    conv = ModulatedConv2d(16, 24, 3, w_dim=8)
    weights = conv.modulated_weights(torch.randn(4, 8))
    norms = weights.square().sum(dim=(2, 3, 4))
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)


def test_upsampling_equalized_conv_equals_zero_insertion_convolution_and_blur():
    torch.manual_seed(0)
    conv = EqualizedConv2d(6, 5, 3, bias=False, up=True)
    x = torch.randn(2, 6, 8, 8)
    weight = (conv.weight * conv.weight_gain).flip([2, 3])  # a true convolution: F.conv2d correlates
    expected = blur(F.conv2d(F.pad(zero_insert(x), [2, 1, 2, 1]), weight), setup_filter() * 4, 1)
    assert torch.allclose(conv(x), expected, atol=1e-5, rtol=0)


def test_downsampling_conv_is_blur_then_strided_conv():
    torch.manual_seed(0)
    conv = EqualizedConv2d(6, 5, 3, bias=False, down=True)
    x = torch.randn(2, 6, 16, 16)
    expected = F.conv2d(blur(x, setup_filter(), 2), conv.weight * conv.weight_gain, stride=2)
    out = conv(x)
    assert out.shape == (2, 5, 8, 8)
    assert torch.allclose(out, expected, atol=1e-5, rtol=0)
    skip = EqualizedConv2d(6, 5, 1, bias=False, down=True)
    assert torch.allclose(
        skip(x), F.conv2d(downsample2d(x, setup_filter()), skip.weight * skip.weight_gain), atol=1e-5, rtol=0
    )


# -- FIR resampling ------------------------------------------------------------------------------


def test_filter_is_the_normalised_outer_product_of_1_3_3_1():
    f = setup_filter()
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0]) / 8
    assert f.shape == (4, 4)
    assert torch.allclose(f, torch.outer(taps, taps))
    assert torch.isclose(f.sum(), torch.tensor(1.0))


def test_up_and_down_sampling_shapes_and_constants():
    f = setup_filter()
    constant = torch.full((2, 3, 8, 8), 0.7)
    up, down = upsample2d(constant, f), downsample2d(constant, f)
    assert up.shape == (2, 3, 16, 16) and down.shape == (2, 3, 4, 4)
    # Zero padding darkens the outermost pixels; inside, a constant stays that constant.
    assert torch.allclose(up[..., 1:-1, 1:-1], torch.full_like(up[..., 1:-1, 1:-1], 0.7))
    assert torch.allclose(down[..., 1:-1, 1:-1], torch.full_like(down[..., 1:-1, 1:-1], 0.7))
    assert blur(constant, f, (2, 1)).shape == (2, 3, 8, 8)


def test_resampling_keeps_pixel_centres_aligned():
    """A ramp x[i] = i: upsampled pixels 2i, 2i+1 sit at i -/+ 1/4; downsampled pixel j sits
    halfway between 2j and 2j+1."""
    f = setup_filter()
    ramp = torch.arange(8.0).expand(1, 1, 8, 8)
    up = upsample2d(ramp, f)[0, 0, 4, 1:-1]
    assert torch.allclose(up, torch.arange(1, 15) / 2 - 0.25)
    down = downsample2d(ramp, f)[0, 0, 2, 1:-1]
    assert torch.allclose(down, torch.tensor([2.5, 4.5]))


def test_resample_filter_follows_the_module_but_stays_out_of_checkpoints():
    G = tiny_generator()
    state = G.state_dict()
    assert not any("resample_filter" in key for key in state)
    assert "mapping.w_avg" in state
    assert any(key.endswith("noise.noise_const") for key in state)
    assert G.synthesis.blocks[1].resample_filter.dtype == torch.float32
    assert G.double().synthesis.blocks[1].resample_filter.dtype == torch.float64


# -- equalized learning rate ---------------------------------------------------------------------


def test_equalized_linear_stores_unit_weights_and_scales_at_runtime():
    torch.manual_seed(0)
    layer = EqualizedLinear(512, 256, bias_init=0.5, lr_multiplier=0.01)
    assert abs(layer.weight.std().item() - 100) < 2  # N(0, 1) / lr_multiplier
    assert layer.weight_gain == pytest.approx(0.01 / math.sqrt(512))
    x = torch.randn(4096, 512)
    out = layer(x)
    expected = x @ (layer.weight * 0.01 / math.sqrt(512)).t() + 0.5
    assert torch.allclose(out, expected, atol=1e-4)
    assert torch.allclose(layer(torch.zeros(1, 512)), torch.full((1, 256), 0.5))  # bias_init as used
    assert abs((out - 0.5).std().item() - 1) < 0.05  # unit-variance inputs give unit-variance outputs


def test_equalized_conv_and_lrelu_gain_keep_unit_scale():
    torch.manual_seed(0)
    conv = EqualizedConv2d(64, 64, 3)
    assert abs(conv.weight.std().item() - 1) < 0.05
    assert conv.weight_gain == pytest.approx(1 / math.sqrt(64 * 9))
    out = conv(torch.randn(16, 64, 16, 16))[..., 1:-1, 1:-1]
    assert abs(out.std().item() - 1) < 0.05
    activated = EqualizedLinear(512, 512, activation="lrelu")(torch.randn(4096, 512))
    # gain sqrt(2) on a slope-0.2 leaky ReLU: second moment 2 * (1 + 0.04) / 2 = 1.04
    assert abs(activated.square().mean().item() - 1.04) < 0.05
    with pytest.raises(ValueError, match="activation"):
        EqualizedLinear(4, 4, activation="relu")


# -- mapping: truncation and the tracked average ---------------------------------------------------


def generator_with_some_w_avg(num_classes: int = 0) -> Generator:
    torch.manual_seed(0)
    G = tiny_generator(num_classes=num_classes)
    for _ in range(20):
        G.mapping(torch.randn(16, Z_DIM), labels_for(num_classes, 16), update_w_avg=True)
    assert G.mapping.w_avg.abs().sum() > 0
    return G


def test_truncation_psi_zero_gives_the_average_w_and_its_image():
    G = generator_with_some_w_avg()
    with torch.no_grad():
        for module in G.modules():
            if isinstance(module, NoiseInjection):
                module.strength.fill_(0.3)
        z = torch.randn(4, Z_DIM)
        ws = G.mapping(z, truncation_psi=0)
        assert torch.equal(ws, G.mapping.w_avg.expand(4, G.num_ws, -1))
        images = G(z, truncation_psi=0, noise_mode="const")
    assert torch.allclose(images, images[:1].expand_as(images), atol=1e-6)


def test_truncation_psi_one_changes_nothing_and_cutoff_spares_later_layers():
    G = generator_with_some_w_avg()
    z = torch.randn(4, Z_DIM)
    with torch.no_grad():
        ws = G.mapping(z)
        assert torch.equal(G.mapping(z, truncation_psi=1.0), ws)
        assert torch.equal(G.mapping(z, truncation_psi=1.0, truncation_cutoff=2), ws)
        assert torch.equal(G(z, truncation_psi=1.0, noise_mode="const"), G(z, noise_mode="const"))
        cut = G.mapping(z, truncation_psi=0.5, truncation_cutoff=2)
    w_avg = G.mapping.w_avg
    assert torch.allclose(cut[:, :2], w_avg + 0.5 * (ws[:, :2] - w_avg))
    assert torch.equal(cut[:, 2:], ws[:, 2:])
    assert not torch.allclose(cut[:, :2], ws[:, :2])


def test_truncation_of_a_conditional_mapping():
    G = generator_with_some_w_avg(num_classes=3)
    ws = G.mapping(torch.randn(3, Z_DIM), torch.tensor([0, 1, 2]), truncation_psi=0)
    assert torch.equal(ws, G.mapping.w_avg.expand(3, G.num_ws, -1))


def test_w_avg_moves_only_when_asked():
    torch.manual_seed(0)
    G = tiny_generator()
    mapping = G.mapping.train()
    before = mapping.w_avg.clone()
    z = torch.randn(8, Z_DIM)
    mapping(z)
    G(z)
    assert torch.equal(mapping.w_avg, before)
    w = mapping(z, update_w_avg=True)[:, 0]
    expected = before * mapping.w_avg_beta + w.mean(dim=0) * (1 - mapping.w_avg_beta)
    assert torch.allclose(mapping.w_avg, expected, atol=1e-6)
    assert not torch.equal(mapping.w_avg, before)


# -- noise ---------------------------------------------------------------------------------------


def test_noise_modes():
    torch.manual_seed(0)
    G = tiny_generator()
    with torch.no_grad():
        for module in G.modules():
            if isinstance(module, NoiseInjection):
                module.strength.fill_(0.5)  # strengths start at 0, where noise would not show
        ws = G.mapping(torch.randn(2, Z_DIM))
        const = G.synthesis(ws, noise_mode="const")
        assert torch.equal(const, G.synthesis(ws, noise_mode="const"))
        first, second = G.synthesis(ws), G.synthesis(ws)
        assert not torch.allclose(first, second)
        torch.manual_seed(7)
        again = G.synthesis(ws)
        torch.manual_seed(7)
        assert torch.equal(again, G.synthesis(ws))  # random noise comes from torch's global RNG
        assert not torch.allclose(G.synthesis(ws, noise_mode="none"), const)
        with pytest.raises(ValueError, match="noise_mode"):
            G.synthesis(ws, noise_mode="fixed")


def test_noise_strengths_start_at_zero():
    G = tiny_generator()
    ws = G.mapping(torch.randn(2, Z_DIM))
    with torch.no_grad():
        assert torch.equal(G.synthesis(ws, noise_mode="none"), G.synthesis(ws, noise_mode="const"))


# -- gradients -----------------------------------------------------------------------------------


def assert_nonzero_finite_grads(named_parameters, skip=()):
    missing = [
        name for name, p in named_parameters if name not in skip and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    assert not missing, f"no gradient reached {missing}"


def test_one_backward_reaches_every_parameter_of_G_and_D():
    torch.manual_seed(0)
    G, D = tiny_generator(num_classes=3), tiny_discriminator(num_classes=3)
    labels = labels_for(3, 8)
    fakes = G(torch.randn(8, Z_DIM), labels)  # noise on: strengths get gradients
    loss = F.softplus(-D(fakes, labels)).mean() + F.softplus(D(torch.randn(8, 3, 16, 16), labels)).mean()
    loss.backward()
    assert_nonzero_finite_grads(G.named_parameters())
    assert_nonzero_finite_grads(D.named_parameters())
    strengths = [m.strength for m in G.modules() if isinstance(m, NoiseInjection)]
    assert len(strengths) == 2 * 3 - 1 and all(s.grad.abs() > 0 for s in strengths)


def test_r1_double_backward_reaches_the_discriminator():
    torch.manual_seed(0)
    D = tiny_discriminator(num_classes=3)
    reals = torch.randn(8, 3, 16, 16, requires_grad=True)
    (gradients,) = torch.autograd.grad(D(reals, labels_for(3, 8)).sum(), reals, create_graph=True)
    penalty = gradients.square().sum(dim=(1, 2, 3)).mean()
    penalty.backward()
    assert torch.isfinite(penalty)
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in D.parameters())
    # Weights shape the gradient w.r.t. the images; the output layer's bias cannot.
    weights = [(name, p) for name, p in D.named_parameters() if p.ndim >= 2]
    assert_nonzero_finite_grads(weights)


def test_path_length_double_backward_through_synthesis():
    torch.manual_seed(0)
    G = tiny_generator()
    ws = G.mapping(torch.randn(4, Z_DIM)).detach().requires_grad_()
    images = G.synthesis(ws)
    noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
    (gradients,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    lengths = gradients.square().sum(dim=2).mean(dim=1).sqrt()
    penalty = (lengths - 1).square().mean()
    penalty.backward()
    assert torch.isfinite(penalty)
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in G.synthesis.parameters())
    convs = [(name, p) for name, p in G.synthesis.named_parameters() if name.endswith("weight")]
    assert_nonzero_finite_grads(convs)
