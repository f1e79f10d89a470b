"""SNGAN: the CIFAR-10 networks have the reference's parameter counts, the discriminator's
weights are spectrally normalised, and the conditional model draws by class."""

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
}
CIFAR = dict(channels=3, resolution=32, z_dim=128, g_channels=256, d_channels=128)


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", list(REFERENCE))
def test_the_cifar10_networks_have_the_reference_parameter_counts(name):
    classes = {"classes": tuple("0123456789")} if name == "sngan-cond" else {}
    model = ganzoo.create_model(name, **CIFAR, **classes)
    assert (parameters(model.G), parameters(model.D)) == REFERENCE[name]
    with torch.no_grad():
        labels = torch.arange(2) if classes else None
        images = model.G(torch.randn(2, 128), labels)
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
