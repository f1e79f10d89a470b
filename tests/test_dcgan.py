"""DCGAN networks: shapes at every supported size, the paper's initialisation, logits out."""

import pytest
import torch

from ganzoo import create_model
from ganzoo_dcgan.networks import SUPPORTED_RESOLUTIONS


@pytest.mark.parametrize("resolution", SUPPORTED_RESOLUTIONS)
@pytest.mark.parametrize("channels", [1, 3])
def test_forward_backward_shapes(resolution, channels):
    torch.manual_seed(0)
    model = create_model("dcgan", channels=channels, resolution=resolution, nz=16, ngf=8, ndf=8)
    z = model.noise(4, torch.Generator().manual_seed(0))
    images = model.sample(z)
    assert images.shape == (4, channels, resolution, resolution)
    assert images.min() >= -1 and images.max() <= 1
    logits = model.D(images)
    assert logits.shape == (4,)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.G.parameters())
    assert all(p.grad is not None for p in model.D.parameters())


def test_unsupported_resolution():
    with pytest.raises(ValueError, match="supports resolutions"):
        create_model("dcgan", channels=1, resolution=24)


def test_weights_follow_the_paper():
    torch.manual_seed(0)
    model = create_model("dcgan", channels=3, resolution=64)
    conv = [m.weight for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    stds = torch.tensor([w.std().item() for w in conv])
    assert torch.allclose(stds, torch.full_like(stds, 0.02), atol=0.002)
    bn = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(abs(m.weight.mean().item() - 1) < 0.01 and m.bias.abs().max() == 0 for m in bn)


def test_paper_widths_at_64():
    model = create_model("dcgan", channels=3, resolution=64)
    first = model.G.main[0]
    assert (first.in_channels, first.out_channels) == (100, 512)  # nz -> ngf * 8 at 4x4
    assert model.D.main[-1].in_channels == 512
    assert not any(isinstance(m, torch.nn.Sigmoid) for m in model.D.modules())


def test_options_validated_by_create_model():
    from ganzoo.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="ngf"):
        create_model("dcgan", ngff=8)
