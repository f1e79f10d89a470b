"""The built-in models against their reference implementations, without the reference code.

Parameter counts are the ones the reference implementations give for their default
configurations (pytorch/examples dcgan; junyanz/pytorch-CycleGAN-and-pix2pix), and every loss
value is computed here from the papers' and the references' formulas with
``torch.nn.functional`` on fixed tensors: a factor of two in a loss or a weight cannot pass.
The models are built through the public registry (``ganzoo.create_model``), as users build
them; objectives are checked with stub networks whose outputs are known."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from ganzoo.plugin import StepContext
from ganzoo.plugins import load_plugins

# ---------------------------------------------------------------------------------------------
# Parameter counts


def parameters(network: nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())


def test_dcgan_parameters_equal_pytorch_examples():
    """dcgan/main.py defaults: 64x64, 3 channels, nz 100, ngf = ndf = 64."""
    model = ganzoo.create_model("dcgan", channels=3, resolution=64)
    assert (parameters(model.G), parameters(model.D)) == (3_576_704, 2_765_568)


def test_pix2pix_parameters_equal_the_reference():
    """The reference's pix2pix defaults: unet_256 with batch norm, 3 -> 3 channels, ngf 64, and
    the basic (n_layers 3) PatchGAN on the 6-channel input-output pair, ndf 64."""
    model = ganzoo.create_model("pix2pix", channels=3, resolution=256)
    assert (parameters(model.G), parameters(model.D)) == (54_413_955, 2_768_705)
    assert sum(isinstance(m, nn.Dropout) for m in model.G.modules()) == 3  # use_dropout on its 8ngf blocks


def test_cyclegan_parameters_equal_the_reference():
    """The reference's CycleGAN defaults: resnet_9blocks with instance norm (biased convolutions),
    ngf 64, and the basic PatchGAN on 3 channels with instance norm, ndf 64; ganzoo's default of 9
    blocks at 256 px, 6 below (the paper's choice), and 9 on request at any size."""
    model = ganzoo.create_model("cyclegan", channels=3, resolution=256)
    for generator, critic in ((model.G_AB, model.D_A), (model.G_BA, model.D_B)):
        assert (parameters(generator), parameters(critic)) == (11_378_179, 2_764_737)
    small = ganzoo.create_model("cyclegan", channels=3, resolution=128, ngf=4, ndf=4)
    assert sum(type(m).__name__ == "ResidualBlock" for m in small.G_AB.modules()) == 6
    nine = ganzoo.create_model("cyclegan", channels=3, resolution=128, n_blocks=9)
    assert parameters(nine.G_AB) == 11_378_179


# ---------------------------------------------------------------------------------------------
# Every built-in loss, from its formula

REAL = torch.tensor([[1.5, -0.5], [0.25, 2.0]])
FAKE = torch.tensor([[-1.0, 0.75], [3.0, -2.5]])
ONES, ZEROS = torch.ones_like(REAL), torch.zeros_like(REAL)


def test_every_builtin_loss_is_checked_here():
    """A new built-in loss needs its formula test below."""
    builtin = {entry.name for entry in load_plugins().losses if entry.provider.distribution == "ganzoo"}
    assert builtin == {"nonsaturating", "minimax", "lsgan", "hinge", "wgan-gp"}


def test_nonsaturating_and_minimax():
    bce = F.binary_cross_entropy_with_logits
    d = bce(REAL, ONES) + bce(FAKE, ZEROS)  # log D(x) + log(1 - D(G(z))), summed as in pytorch/examples
    for name in ("nonsaturating", "minimax"):
        assert ganzoo.create_loss(name).discriminator_loss(REAL, FAKE).item() == pytest.approx(d.item(), rel=1e-6)
    g = bce(FAKE, ONES)  # -log D(G(z))
    assert ganzoo.create_loss("nonsaturating").generator_loss(FAKE).item() == pytest.approx(g.item(), rel=1e-6)
    g_minimax = torch.log1p(-torch.sigmoid(FAKE)).mean()  # log(1 - D(G(z)))
    assert ganzoo.create_loss("minimax").generator_loss(FAKE).item() == pytest.approx(g_minimax.item(), rel=1e-5)


def test_nonsaturating_label_smoothing():
    smoothed = ganzoo.create_loss("nonsaturating", label_smoothing=0.1).discriminator_loss(REAL, FAKE)
    expected = F.binary_cross_entropy_with_logits(REAL, torch.full_like(REAL, 0.9)) + (
        F.binary_cross_entropy_with_logits(FAKE, ZEROS)
    )
    assert smoothed.item() == pytest.approx(expected.item(), rel=1e-6)


def test_lsgan_is_the_references_mse():
    """Mao et al.'s objective without its 1/2 on every term: G's term is the reference's
    MSE(D(G(x)), 1), not half of it."""
    loss = ganzoo.create_loss("lsgan")
    d = F.mse_loss(REAL, ONES) + F.mse_loss(FAKE, ZEROS)
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(d.item(), rel=1e-6)
    assert loss.generator_loss(FAKE).item() == pytest.approx(F.mse_loss(FAKE, ONES).item(), rel=1e-6)
    paper_g = 0.5 * ((FAKE - 1) ** 2).mean()
    assert loss.generator_loss(FAKE).item() == pytest.approx(2 * paper_g.item(), rel=1e-6)


def test_hinge():
    loss = ganzoo.create_loss("hinge")
    d = F.relu(1 - REAL).mean() + F.relu(1 + FAKE).mean()
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(d.item(), rel=1e-6)
    assert loss.generator_loss(FAKE).item() == pytest.approx(-FAKE.mean().item(), rel=1e-6)


def quadratic_critic(images: torch.Tensor) -> torch.Tensor:
    """D(x) = sum x^2 / 2 per image: its input gradient is x itself."""
    return 0.5 * images.flatten(1).pow(2).sum(1)


def test_wgan_gp_and_its_penalty():
    loss = ganzoo.create_loss("wgan-gp")
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx((FAKE.mean() - REAL.mean()).item(), rel=1e-6)
    assert loss.generator_loss(FAKE).item() == pytest.approx(-FAKE.mean().item(), rel=1e-6)
    real, fake = torch.randn(5, 1, 3, 3), torch.randn(5, 1, 3, 3)
    torch.manual_seed(3)
    penalty = loss.penalty(quadratic_critic, real, fake)
    torch.manual_seed(3)  # the same interpolation weights, drawn the same way
    eps = torch.rand(5, 1, 1, 1)
    interpolates = eps * real + (1 - eps) * fake  # the gradient of the critic there is the point itself
    expected = 10 * (interpolates.flatten(1).norm(dim=1) - 1).pow(2).mean()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-5)


def test_r1_penalty():
    real = torch.randn(4, 2, 3, 3)
    penalty = ganzoo.create_loss("hinge", r1_gamma=8.0).penalty(quadratic_critic, real, real)
    assert penalty.item() == pytest.approx((8.0 / 2 * real.flatten(1).pow(2).sum(1).mean()).item(), rel=1e-5)


# ---------------------------------------------------------------------------------------------
# The models' full objectives, with stub networks


class Affine(nn.Module):
    """x -> scale * x + shift: a generator stub with known outputs."""

    def __init__(self, scale: float, shift: float):
        super().__init__()
        self.scale, self.shift = scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x + self.shift


class PatchStub(nn.Module):
    """A PatchGAN stub: a 2x2 grid of logits per image from its four quadrants' means."""

    def __init__(self, scale: float, shift: float):
        super().__init__()
        self.scale, self.shift = scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * F.avg_pool2d(x.mean(1, keepdim=True), x.shape[-1] // 2) + self.shift


def images(seed: int, channels: int = 3, size: int = 16, n: int = 2) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def phase(model, name: str):
    """The model's phase called ``name``."""
    return next(p for p in model.phases if p.name == name)


def cyclegan_with_stubs(loss: str):
    model = ganzoo.create_model("cyclegan", channels=3, resolution=16, jitter=False, pool_size=0, loss=loss)
    model.G_AB, model.G_BA = Affine(0.5, 0.1), Affine(-0.8, 0.05)
    model.D_A, model.D_B = PatchStub(2.0, 0.3), PatchStub(-1.5, 0.2)
    return model


@pytest.mark.parametrize("loss", ["lsgan", "nonsaturating"])
def test_cyclegan_objective_equals_the_references(loss):
    """G: adversarial terms + 10 x both cycle L1s + 0.5 x 10 x both identity L1s; each D:
    (real term + fake term) / 2 (cycle_gan_model.py's defaults: lambda_A = lambda_B = 10,
    lambda_identity = 0.5, gan_mode lsgan)."""
    model = cyclegan_with_stubs(loss)
    a, b = images(1), images(2)
    ctx = StepContext(step=0)
    result = model.phase_loss(phase(model, "G"), {"A": a, "B": b}, ctx)

    def g_adv(logits):
        return (
            F.mse_loss(logits, torch.ones_like(logits))
            if loss == "lsgan"
            else (F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)))
        )

    def d_adv(real, fake):
        if loss == "lsgan":
            return F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake))
        bce = F.binary_cross_entropy_with_logits
        return bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))

    g_ab, g_ba, d_a, d_b = model.G_AB, model.G_BA, model.D_A, model.D_B
    fake_b, fake_a = g_ab(a), g_ba(b)
    adversarial = g_adv(d_b(fake_b)) + g_adv(d_a(fake_a))
    cycle = F.l1_loss(g_ba(fake_b), a) + F.l1_loss(g_ab(fake_a), b)
    identity = F.l1_loss(g_ab(b), b) + F.l1_loss(g_ba(a), a)
    expected = adversarial + 10 * cycle + 5 * identity
    assert result.loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert result.logs["loss_G_adv"].item() == pytest.approx(adversarial.item(), rel=1e-6)

    d_result = model.phase_loss(phase(model, "D"), {"A": a, "B": b}, ctx)
    expected_d = 0.5 * d_adv(d_a(a), d_a(fake_a)) + 0.5 * d_adv(d_b(b), d_b(fake_b))
    assert d_result.loss.item() == pytest.approx(expected_d.item(), rel=1e-6)


def pix2pix_with_stubs(loss: str, direction: str = "a2b"):
    model = ganzoo.create_model("pix2pix", channels=3, resolution=16, jitter=False, loss=loss, direction=direction)
    model.G, model.D = Affine(-0.6, 0.2), PatchStub(1.7, -0.4)
    return model


@pytest.mark.parametrize("loss", ["nonsaturating", "lsgan"])
def test_pix2pix_objective_equals_the_references(loss):
    """D: (BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)) / 2, D seeing input and output concatenated;
    G: BCE(D(x, G(x)), 1) + 100 x L1(G(x), y) (pix2pix_model.py: gan_mode vanilla, lambda_L1 100;
    with lsgan the MSE against 1 and 0)."""
    model = pix2pix_with_stubs(loss)
    source, target = images(3), images(4)
    ctx = StepContext(step=0)
    d_result = model.phase_loss(phase(model, "D"), {"A": source, "B": target}, ctx)
    g_result = model.phase_loss(phase(model, "G"), {"A": source, "B": target}, ctx)

    criterion = F.mse_loss if loss == "lsgan" else F.binary_cross_entropy_with_logits
    fake = model.G(source)
    real_logits = model.D(torch.cat([source, target], 1))
    fake_logits = model.D(torch.cat([source, fake], 1))
    expected_d = 0.5 * (
        criterion(real_logits, torch.ones_like(real_logits)) + criterion(fake_logits, torch.zeros_like(fake_logits))
    )
    adversarial = criterion(fake_logits, torch.ones_like(fake_logits))
    expected_g = adversarial + 100 * F.l1_loss(fake, target)
    assert d_result.loss.item() == pytest.approx(expected_d.item(), rel=1e-6)
    assert g_result.loss.item() == pytest.approx(expected_g.item(), rel=1e-6)
    assert g_result.logs["loss_G_adv"].item() == pytest.approx(adversarial.item(), rel=1e-6)


def test_pix2pix_b2a_swaps_input_and_target():
    model = pix2pix_with_stubs("nonsaturating", direction="b2a")
    a, b = images(5), images(6)
    result = model.phase_loss(phase(model, "G"), {"A": a, "B": b}, StepContext(step=0))
    fake_logits = model.D(torch.cat([b, model.G(b)], 1))
    expected = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)) + 100 * F.l1_loss(
        model.G(b), a
    )
    assert result.loss.item() == pytest.approx(expected.item(), rel=1e-6)


class ConstantImages(nn.Module):
    """A DCGAN generator stub: the same images whatever z."""

    def __init__(self, image: torch.Tensor):
        super().__init__()
        self.image = image

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.image.expand(z.shape[0], -1, -1, -1)


class MeanCritic(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 3.0 * x.mean((1, 2, 3)) + 0.25


def test_dcgan_objective_equals_pytorch_examples():
    """errD = BCE(D(x), 1) + BCE(D(G(z)), 0); errG = BCE(D(G(z)), 1) (dcgan/main.py, whose D ends
    in a sigmoid where ganzoo's gives the logit), without the default DiffAugment."""
    model = ganzoo.create_model("dcgan", channels=1, resolution=16, augment="")
    fake = images(7, channels=1, n=1)
    model.G, model.D = ConstantImages(fake), MeanCritic()
    real = images(8, channels=1, n=3)
    ctx = StepContext(step=0)
    d_result = model.phase_loss(phase(model, "D"), {"image": real}, ctx)
    g_result = model.phase_loss(phase(model, "G"), {"image": real}, ctx)
    real_p, fake_p = torch.sigmoid(model.D(real)), torch.sigmoid(model.D(fake.expand(3, -1, -1, -1)))
    expected_d = F.binary_cross_entropy(real_p, torch.ones(3)) + F.binary_cross_entropy(fake_p, torch.zeros(3))
    assert d_result.loss.item() == pytest.approx(expected_d.item(), rel=1e-5)
    assert g_result.loss.item() == pytest.approx(F.binary_cross_entropy(fake_p, torch.ones(3)).item(), rel=1e-5)


# ---------------------------------------------------------------------------------------------
# Pix2Pix at test time


def trained_like_pix2pix(**options) -> nn.Module:
    """A small pix2pix whose batch-norm running statistics are no longer the initial ones."""
    torch.manual_seed(0)
    model = ganzoo.create_model("pix2pix", channels=3, resolution=32, ngf=8, ndf=8, **options)
    with torch.no_grad():
        for seed in range(3):
            model.G(images(seed, size=32, n=4))
    return model.eval()


def test_pix2pix_tests_like_the_reference_by_default():
    """inference=train (the default): dropout on and each image normalised by its own statistics,
    as the reference's batch-1 test with its seed gives, for a whole batch at once; reproducible,
    independent of the rest of the batch (up to the rounding of a convolution over another batch
    size); the running statistics and every random stream are left alone."""
    model = trained_like_pix2pix()
    assert model.options.inference == "train"
    x = images(10, size=32, n=3)
    kept = {name: value.clone() for name, value in model.G.state_dict().items()}
    rng = torch.get_rng_state()
    with torch.no_grad():
        out = model.translate(x)
        again = model.translate(x[[2, 0]])
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(kept[name], value) for name, value in model.G.state_dict().items())
    assert not model.training and not model.G.training
    assert torch.allclose(out[[2, 0]], again, atol=1e-6)
    assert torch.equal(model.translate(x[[2, 0]]), again)  # the same batch gives the same output

    reference = trained_like_pix2pix().G.train()  # what the reference does: G in train mode, batches of one
    expected = []
    for image in x:
        torch.manual_seed(model.options.inference_seed)
        with torch.no_grad():
            expected.append(reference(image[None]))
    assert torch.allclose(out, torch.cat(expected), atol=1e-6)

    model.G.eval()
    with torch.no_grad():
        assert (out - model.G(x)).abs().max() > 1e-3  # eval mode is a different network
        preview = model.preview({"A": x, "B": x})
    assert torch.equal(preview[:, 1], out)  # the sample grids show the same outputs


def test_pix2pix_eval_inference_is_the_eval_mode_network():
    model = trained_like_pix2pix(inference="eval")
    x = images(11, size=32, n=2)
    with torch.no_grad():
        assert torch.equal(model.translate(x), model.G(x))
