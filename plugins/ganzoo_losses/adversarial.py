"""Adversarial losses computed from raw discriminator logits.

Each loss returns means over the batch. Discriminator losses add the real and fake terms
(the convention of Goodfellow et al. and the DCGAN reference code); models that want the
Pix2Pix/CycleGAN halving apply it themselves. No loss carries a constant factor of its own:
``lsgan`` is the least-squares objective of Mao et al. times 2 (the paper's 1/2 on every term
left out), so its generator term is the plain MSE that the Pix2Pix/CycleGAN reference code
weighs against its L1 terms. ``penalty`` adds gradient penalties (R1 on any
loss, the WGAN-GP penalty on ``wgan-gp``) to the discriminator's loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ganzoo.plugin import UsageError, regularization

Critic = Callable[[torch.Tensor], torch.Tensor]


class AdversarialLoss:
    """Base of the built-in losses: options common to all, and the R1 penalty."""

    name = ""
    has_labels = True  # whether label smoothing and noisy labels mean anything for this loss

    def __init__(self, label_smoothing: float = 0.0, label_noise: float = 0.0, r1_gamma: float = 0.0):
        if not self.has_labels and (label_smoothing or label_noise):
            raise UsageError(f"loss '{self.name}' has no labels: label_smoothing and label_noise must be 0")
        self.label_smoothing, self.label_noise, self.r1_gamma = label_smoothing, label_noise, r1_gamma

    def penalty(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """R1 (Mescheder et al. 2018): gamma/2 * E ||grad D(x)||^2 on real images, if r1_gamma > 0."""
        if not self.r1_gamma:
            return None
        return 0.5 * self.r1_gamma * regularization.input_gradients(critic, real).pow(2).sum(1).mean()

    def _targets(self, real_logits: torch.Tensor, fake_logits: torch.Tensor):
        real_target = torch.full_like(real_logits, 1.0 - self.label_smoothing)
        fake_target = torch.zeros_like(fake_logits)
        if self.label_noise > 0:  # flip each label with probability label_noise
            flip_real = torch.rand_like(real_logits) < self.label_noise
            flip_fake = torch.rand_like(fake_logits) < self.label_noise
            real_target = torch.where(flip_real, torch.zeros_like(real_target), real_target)
            fake_target = torch.where(flip_fake, torch.full_like(fake_target, 1.0 - self.label_smoothing), fake_target)
        return real_target, fake_target


class NonSaturatingLoss(AdversarialLoss):
    """D: BCE(D(x), 1) + BCE(D(G(z)), 0); G: BCE(D(G(z)), 1), i.e. -log D(G(z))."""

    name = "nonsaturating"

    def discriminator_loss(self, real_logits, fake_logits):
        real_target, fake_target = self._targets(real_logits, fake_logits)
        return F.binary_cross_entropy_with_logits(real_logits, real_target) + F.binary_cross_entropy_with_logits(
            fake_logits, fake_target
        )

    def generator_loss(self, fake_logits):
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


class MinimaxLoss(NonSaturatingLoss):
    """The discriminator of the non-saturating loss; G minimises log(1 - D(G(z))) = -softplus(l)."""

    name = "minimax"

    def generator_loss(self, fake_logits):
        return -F.softplus(fake_logits).mean()


class LeastSquaresLoss(AdversarialLoss):
    """D: (D(x) - 1)^2 + D(G(z))^2; G: (D(G(z)) - 1)^2, on the raw outputs (means over all
    outputs). Mao et al. write 1/2 before every term; dropping it from D's and G's loss alike
    scales the whole game by 2 (the same optimum; Adam's steps do not depend on the loss's scale,
    up to its epsilon) and makes the generator term the reference CycleGAN/Pix2Pix code's
    MSE(D(G(x)), 1). An R1 penalty weighs half as much against it as against the paper's form."""

    name = "lsgan"

    def discriminator_loss(self, real_logits, fake_logits):
        real_target, fake_target = self._targets(real_logits, fake_logits)
        return F.mse_loss(real_logits, real_target) + F.mse_loss(fake_logits, fake_target)

    def generator_loss(self, fake_logits):
        return F.mse_loss(fake_logits, torch.ones_like(fake_logits))


class HingeLoss(AdversarialLoss):
    """D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)). Margins, not targets: no smoothing."""

    name = "hinge"
    has_labels = False

    def discriminator_loss(self, real_logits, fake_logits):
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def generator_loss(self, fake_logits):
        return -fake_logits.mean()


class WassersteinGPLoss(AdversarialLoss):
    """WGAN-GP (Gulrajani et al. 2017). Critic: D(G(z)) - D(x) + 10 * (||grad D(x_hat)|| - 1)^2 on
    random interpolates x_hat; G: -D(G(z)). The paper trains the critic 5 times per G step
    (``--d-steps 5``) and avoids BatchNorm in the critic."""

    name = "wgan-gp"
    has_labels = False
    gp_weight = 10.0

    def discriminator_loss(self, real_logits, fake_logits):
        return fake_logits.mean() - real_logits.mean()

    def generator_loss(self, fake_logits):
        return -fake_logits.mean()

    def penalty(self, critic, real, fake):
        eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
        interpolates = eps * real.detach() + (1 - eps) * fake.detach()
        gp = self.gp_weight * (regularization.input_gradients(critic, interpolates).norm(2, dim=1) - 1).pow(2).mean()
        r1 = super().penalty(critic, real, fake)
        return gp if r1 is None else gp + r1
