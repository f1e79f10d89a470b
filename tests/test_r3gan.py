"""R3GAN: the reference's CIFAR-10 parameter counts, blocks that start as the identity, the
[1,3,3,1] resampling, the RpGAN loss with R1 and R2 as the paper writes it, the cosine schedules
of lr, beta2 and gamma (the engine applies the model's learning-rate factor), and sampling by
class."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ganzoo
from ganzoo.plugin import Phase, StepContext
from ganzoo.training.schedules import LearningRateSchedule
from ganzoo.training.settings import TrainSettings

#: brownvc/R3GAN's Networks.py at its train.py CIFAR-10 preset (widths 768 in 4 stages of 2 blocks,
#: cardinality 96, expansion 2, noise 64; conditional: G embedding 64, D embedding 768), counted
#: layer by layer in docs/models/r3gan.md ("Parameter counts").
REFERENCE = {
    "r3gan": (20_732_160, 20_683_776),
    "r3gan-cond": (20_781_952, 21_280_512),
}
CIFAR = dict(channels=3, resolution=32, width=768, blocks=2, z_dim=64)
DIGITS = tuple("0123456789")


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", list(REFERENCE))
def test_the_cifar10_networks_have_the_reference_parameter_counts(name):
    classes = {"classes": DIGITS} if name.endswith("-cond") else {}
    model = ganzoo.create_model(name, **CIFAR, **classes)
    assert (parameters(model.G), parameters(model.D)) == REFERENCE[name]
    labels = torch.arange(2) if classes else None
    with torch.no_grad():
        images = model.G(model.noise(2), labels)
        assert images.shape == (2, 3, 32, 32)
        assert model.D(images, labels).shape == (2,)


def test_every_residual_block_starts_as_the_identity_with_no_normalisation():
    from ganzoo_r3gan.networks import ResidualBlock

    model = ganzoo.create_model("r3gan", channels=1, resolution=16, width=32)
    blocks = [m for m in model.modules() if isinstance(m, ResidualBlock)]
    assert len(blocks) == 2 * 3 * 2  # G and D, 3 stages at 16 px, 2 blocks each
    x = torch.randn(2, 32, 4, 4)
    for block in blocks:
        assert torch.equal(block(x), x)
    assert block.mix.groups == 64 // 16  # 16 channels per group of the expanded 64
    assert not any(isinstance(m, torch.nn.modules.batchnorm._NormBase) for m in model.modules())
    assert all(getattr(m, "bias", None) is None for m in model.modules() if isinstance(m, torch.nn.Conv2d))


def test_resampling_filters_with_1_3_3_1():
    from ganzoo_r3gan.networks import Resample

    row = torch.tensor([0.0, 8.0, 0.0, 0.0]).view(1, 1, 1, 4).expand(1, 1, 4, 4).contiguous()
    up = Resample(up=True)(row)
    # each new pixel is 3/4 of its nearer and 1/4 of its farther source pixel (per axis; 2x per axis gain)
    assert up.shape == (1, 1, 8, 8)
    assert up[0, 0, 3, :6].tolist() == pytest.approx([0.0, 2.0, 6.0, 6.0, 2.0, 0.0])
    down = Resample(up=False)(torch.ones(1, 2, 8, 8))
    assert down.shape == (1, 2, 4, 4) and down[0, :, 1:3, 1:3].eq(1).all()  # a constant stays (interior)


class Linear(torch.nn.Module):
    """D(x) = <w, x>: its input gradient is w for every image, so R1 = R2 = ||w||^2."""

    def __init__(self, shape):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(shape))

    def forward(self, images, labels=None):
        return (images * self.w).flatten(1).sum(1)


def test_the_discriminator_pays_the_relativistic_loss_plus_gamma_halves_r1_and_r2():
    torch.manual_seed(0)
    model = ganzoo.create_model(
        "r3gan", channels=1, resolution=16, width=16, blocks=1, gamma=0.3, gamma_final=0.005, decay_kimg=0.256
    )
    model.configure_optimizers()
    model.D = Linear((1, 16, 16))
    real = torch.rand(4, 1, 16, 16) * 2 - 1
    torch.manual_seed(1)
    halfway = StepContext(step=2, batch_size=64)  # 128 of the 256 images of the decay
    loss = model.phase_loss(Phase("D", "D", critic=True), {"image": real}, halfway)
    torch.manual_seed(1)
    fake = model.G(torch.randn(4, model.G.z_dim))
    with torch.no_grad():
        real_logits, fake_logits = model.D(real), model.D(fake)
        norm = model.D.w.square().sum()
    gamma = (0.3 + 0.005) / 2  # halfway along the cosine
    expected = F.softplus(fake_logits - real_logits).mean() + gamma / 2 * 2 * norm
    assert loss.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss.logs["R1"].item() == pytest.approx(norm.item(), rel=1e-5) == loss.logs["R2"].item()
    # ADA and LeCam read the paired differences: an RpGAN critic's own level is arbitrary
    assert torch.allclose(loss.real_logits.detach(), real_logits - fake_logits)
    assert torch.allclose(loss.fake_logits.detach(), fake_logits - real_logits)

    torch.manual_seed(2)
    generator = model.phase_loss(Phase("G", "G"), {"image": real}, halfway)
    generator.loss.backward()
    torch.manual_seed(2)
    fake = model.G(torch.randn(4, model.G.z_dim)).detach()
    with torch.no_grad():
        weights = torch.sigmoid(model.D(real) - model.D(fake))  # d softplus(r - f) / d(-f)
        expected = -(weights[:, None, None, None] * fake).mean(0)  # the reals' logits are constants
    assert torch.allclose(model.D.w.grad, expected, atol=1e-6)
    assert all(p.grad is not None for p in model.G.parameters() if p.requires_grad)


def test_lr_beta2_and_gamma_follow_the_reference_cosine_and_the_engine_applies_the_rate():
    from ganzoo_r3gan.recipe import cosine

    assert cosine(2e-4, 5e-5, 0, 100) == 2e-4
    assert cosine(2e-4, 5e-5, 50_000, 100) == pytest.approx(1.25e-4)
    assert cosine(2e-4, 5e-5, 100_000, 100) == cosine(2e-4, 5e-5, 10**9, 100) == 5e-5
    assert cosine(2e-4, 5e-5, 10**9, 0) == 2e-4  # no horizon: no decay
    model = ganzoo.create_model("r3gan", channels=1, resolution=16, width=16, blocks=1, decay_kimg=6.4)
    settings = TrainSettings(model="r3gan", batch_size=64, steps=200, lr_schedule="constant")
    schedule = LearningRateSchedule(settings, 200, model)
    assert schedule.factor(0) == 1.0 and schedule.factor(50) == pytest.approx(0.625)
    assert schedule.factor(100) == schedule.factor(199) == pytest.approx(0.25)
    optimizers = model.configure_optimizers()
    real = torch.rand(64, 1, 16, 16)
    model.phase_loss(Phase("G", "G"), {"image": real}, StepContext(step=50, batch_size=64))
    for optimizer in optimizers.values():  # beta2 halfway from 0.9 to 0.99, set before the phase steps
        assert optimizer.param_groups[0]["betas"] == (0.0, pytest.approx(0.945))


def test_the_conditional_model_samples_by_class_and_refuses_data_without_classes():
    model = ganzoo.create_model("r3gan-cond", channels=1, resolution=16, classes=DIGITS, width=16, blocks=1)
    assert model.condition(3, torch.Generator(), choice=7).tolist() == [7, 7, 7]
    noise = model.noise(3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        sevens, ones = model.sample(noise, torch.full((3,), 7)), model.sample(noise, torch.full((3,), 1))
    assert sevens.shape == (3, 1, 16, 16) and not torch.equal(sevens, ones)
    with pytest.raises(ganzoo.UsageError, match="r3gan-cond needs a dataset with classes"):
        ganzoo.create_model("r3gan-cond", channels=1, resolution=16)
    with pytest.raises(ganzoo.UsageError, match="multiple of group_channels"):
        ganzoo.create_model("r3gan", channels=1, resolution=16, width=12)


def test_a_run_logs_the_decayed_rates(tmp_path):
    run = ganzoo.train(
        "r3gan",
        dataset="digits",
        resolution=16,
        options={"z_dim": 8, "width": 16, "blocks": 1, "decay_kimg": 0.012, "lr": 2e-4, "lr_final": 5e-5},
        steps=4,
        batch_size=4,
        out=str(tmp_path),
        log_every=1,
        device="cpu",
    )
    rates = [record["lr_G"] for record in run.metrics() if "lr_G" in record]
    from ganzoo_r3gan.recipe import cosine

    # decay_kimg 0.012: 12 images, 3 steps of 4
    assert rates == pytest.approx([cosine(2e-4, 5e-5, 4 * step, 0.012) for step in (1, 2, 3, 4)])
    assert rates[0] < 2e-4 and rates[2] == rates[3] == pytest.approx(5e-5)
