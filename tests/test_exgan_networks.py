"""ExGAN's networks: shapes of every exemplar mode at every size, gradients to every parameter,
a local critic that sees exactly the hole's box, spectral norm on and off, and a generator
that learns (a short L1 overfit)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ganzoo.data.masks import make_masks
from ganzoo_exgan import networks
from ganzoo_exgan.networks import ExemplarEncoder, ExGANDiscriminator, ExGANGenerator

MODES = networks.EXEMPLAR_MODES


def inputs(resolution: int, n: int = 2, channels: int = 3, seed: int = 0):
    """Images, box masks with their holes zeroed, and exemplars."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, channels, resolution, resolution, generator=g) * 2 - 1
    masks = make_masks("box", n, resolution, g)
    exemplars = torch.rand(n, channels, resolution, resolution, generator=g) * 2 - 1
    return images, masks, images * (1 - masks), exemplars


def exemplar_inputs(mode: str, exemplars: torch.Tensor, encoder: ExemplarEncoder | None) -> dict:
    if mode == "reference":
        return {"exemplar": exemplars}
    if mode == "code":
        return {"exemplar_code": encoder(exemplars)}
    return {}


@pytest.mark.parametrize("resolution", [32, 64, 128])
@pytest.mark.parametrize("mode", MODES)
def test_forward_shapes_of_every_exemplar_mode(mode, resolution):
    torch.manual_seed(0)
    images, masks, masked, exemplars = inputs(resolution)
    encoder = ExemplarEncoder(3, resolution)
    generator = ExGANGenerator(3, resolution, mode)
    critic = ExGANDiscriminator(3, resolution, mode)
    with torch.no_grad():
        code = encoder(exemplars)
        assert code.shape == (2, 256)
        extra = exemplar_inputs(mode, exemplars, encoder)
        output = generator(masked, masks, **extra)
        assert output.shape == images.shape
        assert output.abs().max() <= 1.0  # tanh
        logits = critic(output, masks, **extra)
        assert logits.shape == (2,) and torch.isfinite(logits).all()
        assert critic.local_features(output, masks).shape == (2, 256)


def test_grey_single_channel_images_work():
    images, masks, masked, exemplars = inputs(32, channels=1)
    generator = ExGANGenerator(1, 32, "reference", ngf=8)
    critic = ExGANDiscriminator(1, 32, "reference", ndf=8)
    output = generator(masked, masks, exemplar=exemplars)
    assert output.shape == (2, 1, 32, 32)
    assert critic(output, masks, exemplar=exemplars).shape == (2,)


@pytest.mark.parametrize("mode", MODES)
def test_one_backward_reaches_every_parameter(mode):
    torch.manual_seed(0)
    images, masks, masked, exemplars = inputs(32)
    encoder = ExemplarEncoder(3, 32, code_dim=64) if mode == "code" else None
    generator = ExGANGenerator(3, 32, mode, ngf=16, blocks=2, code_dim=64)
    critic = ExGANDiscriminator(3, 32, mode, ndf=16, code_dim=64)
    extra = exemplar_inputs(mode, exemplars, encoder)
    output = generator(masked, masks, **extra)
    critic(output, masks, **extra).sum().backward()
    modules = {"generator": generator, "critic": critic, **({"encoder": encoder} if encoder else {})}
    for label, module in modules.items():
        for name, parameter in module.named_parameters():
            assert parameter.grad is not None, f"{label}.{name} got no gradient"
            assert parameter.grad.abs().sum() > 0, f"{label}.{name} got a zero gradient"


@pytest.mark.parametrize("resolution", [32, 64])
def test_the_local_branch_sees_exactly_the_holes_box(resolution):
    torch.manual_seed(0)
    critic = ExGANDiscriminator(3, resolution, "none", ndf=8).eval()
    images = torch.rand(2, 3, resolution, resolution) * 2 - 1
    masks = torch.zeros(2, 1, resolution, resolution)
    top, bottom, left, right = resolution // 4, resolution // 2, resolution // 8, resolution // 2 + 3
    masks[:, :, top:bottom, left:right] = 1
    masks[1, :, top + 2 : bottom - 2, left + 2 : right - 2] = 0  # a ring: the box, not the hole, is cropped
    inside = torch.zeros_like(masks, dtype=torch.bool)
    inside[:, :, top:bottom, left:right] = True
    inside = inside.expand_as(images)

    with torch.no_grad():
        local, logits = critic.local_features(images, masks), critic(images, masks)
        changed_inside = torch.where(inside, images.flip(-1), images)
        changed_outside = torch.where(inside, images, -images)  # every pixel outside the box, its neighbours too
        assert not torch.allclose(critic.local_features(changed_inside, masks), local)
        assert not torch.allclose(critic(changed_inside, masks), logits)
        assert torch.equal(critic.local_features(changed_outside, masks), local)
        assert not torch.allclose(critic(changed_outside, masks), logits)  # the global branch does see it


def test_the_crop_reads_nothing_outside_the_box():
    images = torch.zeros(3, 1, 32, 32)
    masks = torch.zeros(3, 1, 32, 32)
    for index, (y0, y1, x0, x1) in enumerate([(4, 9, 20, 31), (0, 32, 10, 11), (31, 32, 0, 32)]):
        images[index, :, y0:y1, x0:x1] = 1.0  # inside the box: 1, outside: 0
        masks[index, :, y0:y1, x0:x1] = 1.0
    crops = networks.crop_holes(images, masks, 16)
    assert crops.shape == (3, 1, 16, 16)
    assert torch.equal(crops[0], torch.ones(1, 16, 16))
    # a 1 px wide (or tall) box grows to 2 px inside the image, so its crop blends the box's line
    # (1) into one neighbouring line (0): the next column, or the row above at the bottom border
    assert (crops[1][..., 0] > 0.9).all() and (crops[1][..., -1] < 0.1).all()
    assert (crops[2][..., 0, :] < 0.1).all() and (crops[2][..., -1, :] > 0.9).all()


@pytest.mark.parametrize("spectral_norm", [True, False])
def test_spectral_norm_on_and_off(spectral_norm):
    torch.manual_seed(0)
    critic = ExGANDiscriminator(3, 32, "code", ndf=8, spectral_norm=spectral_norm, code_dim=16)
    layers = [m for m in critic.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert all(parametrize.is_parametrized(layer, "weight") == spectral_norm for layer in layers)
    images, masks, _, _ = inputs(32)
    code = torch.randn(2, 16)
    for _ in range(30):  # power iterations run in training mode
        logits = critic(images, masks, exemplar_code=code)
    assert logits.shape == (2,)
    sigma = torch.linalg.matrix_norm(critic.global_branch.linear.weight.detach(), ord=2)
    assert (abs(sigma - 1.0) < 0.05) == spectral_norm


def test_exemplar_inputs_must_match_the_mode():
    images, masks, masked, exemplars = inputs(32)
    with pytest.raises(ValueError, match="takes an exemplar image"):
        ExGANGenerator(3, 32, "reference", ngf=8)(masked, masks)
    with pytest.raises(ValueError, match="takes an exemplar code"):
        ExGANGenerator(3, 32, "code", ngf=8)(masked, masks, exemplar=exemplars)
    with pytest.raises(ValueError, match="takes no exemplar"):
        ExGANDiscriminator(3, 32, "none", ndf=8)(images, masks, exemplar=exemplars)
    with pytest.raises(ValueError, match="exemplar must be one of"):
        ExGANGenerator(3, 32, "images")
    with pytest.raises(ValueError, match="resolutions"):
        ExGANDiscriminator(3, 48, "none")


def test_dilations_grow_and_stay_inside_the_bottleneck():
    assert networks.block_dilations(4, True, bottleneck=32) == [1, 2, 4, 8]
    assert networks.block_dilations(4, True, bottleneck=8) == [1, 2, 4, 4]  # 32 px images
    assert networks.block_dilations(3, False, bottleneck=32) == [1, 1, 1]


def test_the_generator_learns_to_fill_holes():
    """100 Adam steps of hole L1 on 4 fixed 32 px examples cut the hole L1 by far more than half."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    images = F.interpolate(torch.rand(4, 3, 4, 4, generator=g), size=32, mode="bilinear") * 2 - 1  # smooth
    masks = make_masks("box", 4, 32, g)
    masked, exemplars = images * (1 - masks), images.flip(0)
    generator = ExGANGenerator(3, 32, "reference", ngf=16, blocks=2)
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))

    def hole_l1() -> torch.Tensor:
        output = generator(masked, masks, exemplar=exemplars)
        return ((output - images).abs() * masks).sum() / (masks.sum() * 3)

    with torch.no_grad():
        before = hole_l1().item()
    for _ in range(100):
        loss = hole_l1()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        after = hole_l1().item()
    assert after < 0.3 * before, (before, after)
