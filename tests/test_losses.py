"""Every adversarial loss against values computed by hand from known logits."""

import math

import pytest
import torch

from ganzoo import create_loss
from ganzoo.errors import UsageError

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def mean(values) -> float:
    return sum(values) / len(values)


def test_nonsaturating():
    loss = create_loss("nonsaturating")
    # BCE(l, 1) = softplus(-l); BCE(l, 0) = softplus(l)
    expected_d = mean([softplus(-2.0), softplus(1.0)]) + mean([softplus(0.5), softplus(-3.0)])
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator_loss(FAKE).item() == pytest.approx(mean([softplus(-0.5), softplus(3.0)]), rel=1e-6)


def test_label_smoothing_changes_only_real_targets():
    loss = create_loss("nonsaturating", label_smoothing=0.1)
    # BCE(l, t) = softplus(l) - t * l
    real_term = mean([softplus(l) - 0.9 * l for l in (2.0, -1.0)])
    expected = real_term + mean([softplus(0.5), softplus(-3.0)])
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_label_noise_flips_about_the_requested_share():
    torch.manual_seed(0)
    loss = create_loss("nonsaturating", label_noise=0.25)
    logits = torch.zeros(20000)
    real_t, fake_t = loss._targets(logits, logits)
    assert (real_t == 0).float().mean().item() == pytest.approx(0.25, abs=0.02)
    assert (fake_t == 1).float().mean().item() == pytest.approx(0.25, abs=0.02)


def test_minimax():
    loss = create_loss("minimax")
    assert loss.generator_loss(FAKE).item() == pytest.approx(-mean([softplus(0.5), softplus(-3.0)]), rel=1e-6)
    nonsat = create_loss("nonsaturating")
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(nonsat.discriminator_loss(REAL, FAKE).item())


def test_lsgan():
    loss = create_loss("lsgan")
    expected_d = mean([(2 - 1) ** 2, (-1 - 1) ** 2]) + mean([0.5**2, 3.0**2])  # no 1/2: docs/losses.md
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator_loss(FAKE).item() == pytest.approx(mean([0.25, 16.0]), rel=1e-6)


def test_hinge():
    loss = create_loss("hinge")
    expected_d = mean([max(0, 1 - 2.0), max(0, 1 + 1.0)]) + mean([max(0, 1 + 0.5), max(0, 1 - 3.0)])
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator_loss(FAKE).item() == pytest.approx(1.25, rel=1e-6)
    with pytest.raises(UsageError, match="hinge"):
        create_loss("hinge", label_smoothing=0.1)


@pytest.mark.parametrize("name", ["nonsaturating", "minimax", "lsgan", "hinge"])
def test_gradients_point_the_right_way(name):
    """Raising the real logit and lowering the fake one lowers D's loss; raising the fake lowers G's.
    (Logits chosen inside every loss's active range: below LSGAN's and hinge's real target of 1,
    above LSGAN's fake target of 0 and hinge's fake margin of -1.)"""
    loss = create_loss(name)
    real, fake = torch.tensor([0.5, -1.0], requires_grad=True), torch.tensor([0.5, 0.2], requires_grad=True)
    loss.discriminator_loss(real, fake).backward()
    assert (real.grad <= 0).all() and (fake.grad >= 0).all() and real.grad.sum() < 0
    fake2 = torch.tensor([0.5, 0.2], requires_grad=True)
    loss.generator_loss(fake2).backward()
    assert (fake2.grad <= 0).all() and fake2.grad.sum() < 0


def linear_critic(weights: torch.Tensor):
    """D(x) = <w, x>: its input gradient is w everywhere, so penalties have closed forms."""
    return lambda images: images.flatten(1) @ weights


def test_wgan_gp_values_and_penalty_on_a_known_critic():
    loss = create_loss("wgan-gp")
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(mean([0.5, -3.0]) - mean([2.0, -1.0]))
    assert loss.generator_loss(FAKE).item() == pytest.approx(-mean([0.5, -3.0]))
    weights = torch.tensor([3.0, 4.0, 0.0, 0.0], requires_grad=True)  # ||w|| = 5
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    penalty = loss.penalty(linear_critic(weights), real, fake)
    assert penalty.item() == pytest.approx(10 * (5 - 1) ** 2, rel=1e-5)
    penalty.backward()  # the penalty trains the critic: d/dw 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w||
    assert torch.allclose(weights.grad, 20 * 4 * torch.tensor([3.0, 4.0, 0.0, 0.0]) / 5)
    with pytest.raises(UsageError, match="wgan-gp"):
        create_loss("wgan-gp", label_noise=0.1)


def test_r1_penalty_on_a_known_critic():
    weights = torch.tensor([1.0, 2.0, 2.0, 0.0])  # ||w||^2 = 9
    real = torch.randn(5, 1, 2, 2)
    assert create_loss("nonsaturating").penalty(linear_critic(weights), real, real) is None
    penalty = create_loss("nonsaturating", r1_gamma=10.0).penalty(linear_critic(weights), real, real)
    assert penalty.item() == pytest.approx(0.5 * 10.0 * 9.0, rel=1e-6)
