"""SNGAN and SAGAN: the CIFAR-10 networks have the reference's parameter counts, the
discriminator's weights are spectrally normalised (and SAGAN's generator's), the attention
block starts as the identity, and the conditional models draw by class."""

from __future__ import annotations

import pytest
import torch

import ganzoo

#: Parameters of the reference code's CIFAR-10 ResNets (pfnet-research/sngan_projection:
#: gen_models/resnet_32.py with ch=256, dim_z=128; dis_models/snresnet_32.py with ch=128), counted
#: from its layer list in docs/models/sngan.md ("Parameter counts").
REFERENCE = {
    "sngan": (4_276_739, 1_053_824),
    "sngan-cond": (4_304_387, 1_055_104),  # 10 classes: per-class BN scales and shifts, the projection
    # ajbrock/BigGAN-PyTorch's BigGAN.py built at its CIFAR-10 script's settings (G_ch = D_ch = 64,
    # so 256-channel blocks, D_wide) with the paper's --G_shared --hier --shared_dim 128
    "biggan": (4_373_251, 4_207_361),
}
CIFAR = dict(channels=3, resolution=32, z_dim=128, g_channels=256, d_channels=128)
WIDTHS = {"biggan": dict(d_channels=256)}


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", list(REFERENCE))
def test_the_cifar10_networks_have_the_reference_parameter_counts(name):
    classes = {"classes": tuple("0123456789")} if name != "sngan" else {}
    model = ganzoo.create_model(name, **{**CIFAR, **WIDTHS.get(name, {})}, **classes)
    assert (parameters(model.G), parameters(model.D)) == REFERENCE[name]
    with torch.no_grad():
        labels = torch.arange(2) if classes else None
        images = model.G(model.noise(2), labels)
        assert images.shape == (2, 3, 32, 32) and images.abs().max() <= 1
        assert model.D(images, labels).shape == (2,)


def test_every_discriminator_weight_has_spectral_norm_one():
    """After enough forward passes in training mode (one power iteration each), the largest
    singular value of each of D's weights, as the layer uses it, is 1."""
    model = ganzoo.create_model("sngan", channels=1, resolution=16, d_channels=16)
    model.D.train()
    with torch.no_grad():
        for _ in range(30):
            model.D(torch.randn(4, 1, 16, 16))
    model.D.eval()
    layers = [m for m in model.D.modules() if hasattr(m, "parametrizations")]
    assert (
        len(layers) == 4 * 2 + 2 + 1
    )  # two convs per block, two 1x1 shortcuts (the down-sampling blocks'), the linear layer
    for layer in layers:
        weight = layer.weight.detach().flatten(1)
        assert torch.linalg.matrix_norm(weight, ord=2).item() == pytest.approx(1.0, abs=0.02)


def test_the_conditional_model_samples_by_class_and_refuses_data_without_classes():
    model = ganzoo.create_model("sngan-cond", channels=1, resolution=16, classes=tuple("0123456789"), g_channels=8)
    assert model.condition(3, torch.Generator(), choice=7).tolist() == [7, 7, 7]
    noise = model.noise(3, torch.Generator().manual_seed(0))
    model.eval()
    with torch.no_grad():
        for embedding in [m for m in model.G.modules() if isinstance(m, torch.nn.Embedding)]:
            embedding.weight.normal_()  # as training leaves them: a scale and shift per class
        sevens, ones = model.sample(noise, torch.full((3,), 7)), model.sample(noise, torch.full((3,), 1))
    assert sevens.shape == (3, 1, 16, 16) and not torch.equal(sevens, ones)
    with pytest.raises(ganzoo.UsageError, match="sngan-cond needs a dataset with classes"):
        ganzoo.create_model("sngan-cond", channels=1, resolution=16)


def test_sagan_adds_attention_spectral_norm_in_g_and_the_two_time_scales():
    model = ganzoo.create_model("sagan", **CIFAR)
    sngan = ganzoo.create_model("sngan", **CIFAR)
    # one attention block each: four 1x1 convolutions to and from C/8 channels, and gamma
    assert parameters(model.G) - parameters(sngan.G) == 4 * 256 * 32 + 1
    assert parameters(model.D) - parameters(sngan.D) == 4 * 128 * 16 + 1
    assert all(hasattr(m, "parametrizations") for m in model.G.modules() if isinstance(m, torch.nn.Conv2d))
    rates = {name: opt.param_groups[0]["lr"] for name, opt in model.configure_optimizers().items()}
    assert rates == {"D": 8e-4, "G": 2e-4} and model.options.beta1 == 0.0  # the paper's ratio, twice its rates
    attention = model.G.attention
    x = torch.randn(2, 256, 16, 16)
    assert torch.equal(attention(x), x)  # gamma starts at 0: the block is the identity
    with torch.no_grad():
        attention.gamma.fill_(1.0)
    assert not torch.equal(attention(x), x)


def test_biggan_splits_z_over_its_blocks_and_regularises_towards_orthogonal_rows():
    from ganzoo_sngan.biggan import orthogonal_penalty

    model = ganzoo.create_model("biggan", channels=1, resolution=16, classes=tuple("0123456789"), g_channels=8)
    assert model.G.z_dim == 126 and model.G.chunk == 42  # 128 in 3 chunks (2 blocks + the first layer)
    noise = model.noise(4, torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 3])
    model.eval()
    with torch.no_grad():
        plain, truncated = model.sample(noise, labels), model.sample(noise, labels, truncation=0.5)
    assert plain.shape == (4, 1, 16, 16) and not torch.equal(plain, truncated)

    layer = torch.nn.Linear(4, 3, bias=False)
    torch.nn.init.orthogonal_(layer.weight)
    assert orthogonal_penalty(layer).item() == pytest.approx(0.0, abs=1e-10)  # orthogonal rows: no penalty
    weight = torch.randn(3, 4)
    with torch.no_grad():
        layer.weight.copy_(weight)
    orthogonal_penalty(layer).backward()
    gram = weight @ weight.t()
    expected = 2 * (gram * (1 - torch.eye(3))) @ weight  # the gradient the reference adds
    assert torch.allclose(layer.weight.grad, expected, atol=1e-5)
    shared = {id(p) for p in model.G.shared.parameters()}
    assert shared and orthogonal_penalty(model.G, skip=(model.G.shared,)) < orthogonal_penalty(model.G)


#: BigGAN-PyTorch's networks at 128x128 as its ImageNet script (launch_BigGAN_bs256x8.sh: G_ch = D_ch
#: = 96, dim_z 120, shared_dim 128, hier, attention at 64, 1,000 classes) and at 64x64 (G_ch = D_ch =
#: 64, dim_z 128, 10 classes), built from the reference code and counted (docs/models/biggan.md);
#: ganzoo's widths are 4 x G_ch. The paper's Table 1 gives 158.3M for the first, G and D together,
#: without the shared embedding's 128,000.
LARGER = {
    128: (dict(z_dim=120, g_channels=384, d_channels=384), 1000, (70_433_988, 87_982_370)),
    64: (dict(z_dim=128, g_channels=256, d_channels=256), 10, (31_807_236, 19_552_961)),
}


@pytest.mark.parametrize("resolution", list(LARGER))
def test_biggan_at_64_and_128_has_the_reference_parameter_counts(resolution):
    options, classes, counts = LARGER[resolution]
    with torch.device("meta"):  # up to 158 million parameters: counted, never allocated
        model = ganzoo.create_model(
            "biggan", channels=3, resolution=resolution, **options, classes=tuple(map(str, range(classes)))
        )
    assert (parameters(model.G), parameters(model.D)) == counts
    assert model.G.attend_after == 3  # after the block that leaves 64x64 maps
    if resolution == 128:
        assert model.G.chunk == 20  # 120 in 6 chunks
        assert [type(m).__name__ for m in model.D.blocks][:2] == ["DiscriminatorBlock", "SelfAttention"]
        # BigGAN's attention: values at half the channels of the 64x64 maps (2 x G_ch = 192)
        assert model.G.attention.pooled and model.G.attention.value.weight.shape[:2] == (96, 192)


def test_biggan_at_64_draws_64px_images_with_the_reference_widths():
    model = ganzoo.create_model(
        "biggan", channels=3, resolution=64, classes=tuple("0123456789"), g_channels=16, d_channels=16
    )
    assert [block.conv1.out_channels for block in model.G.blocks] == [64, 32, 16, 8]  # 16, 8, 4, 2 x G_ch (4)
    assert model.G.attend_after == 3 and not any(
        type(m).__name__ == "SelfAttention" for m in model.D.modules()
    )  # D's maps are 32x32 at most: no attention, as the reference at 64
    model.eval()
    with torch.no_grad():
        images = model.sample(model.noise(2), torch.tensor([3, 4]), truncation=0.5)
        assert images.shape == (2, 3, 64, 64) and model.D(images, torch.tensor([3, 4])).shape == (2,)
