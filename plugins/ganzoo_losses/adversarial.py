"""Adversarial losses computed from raw discriminator logits.

Each loss returns means over the batch. Discriminator losses add the real and fake terms
(the convention of Goodfellow et al. and the DCGAN reference code); models that want the
Pix2Pix/CycleGAN halving apply it themselves.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.errors import UsageError


class _TargetLoss:
    """A loss with real/fake targets, which supports label smoothing and noisy labels."""

    name = ""

    def __init__(self, label_smoothing: float = 0.0, label_noise: float = 0.0):
        self.label_smoothing = label_smoothing
        self.label_noise = label_noise

    def _targets(self, real_logits: torch.Tensor, fake_logits: torch.Tensor):
        real_target = torch.full_like(real_logits, 1.0 - self.label_smoothing)
        fake_target = torch.zeros_like(fake_logits)
        if self.label_noise > 0:  # flip each label with probability label_noise
            flip_real = torch.rand_like(real_logits) < self.label_noise
            flip_fake = torch.rand_like(fake_logits) < self.label_noise
            real_target = torch.where(flip_real, torch.zeros_like(real_target), real_target)
            fake_target = torch.where(flip_fake, torch.full_like(fake_target, 1.0 - self.label_smoothing),
                                      fake_target)
        return real_target, fake_target


class NonSaturatingLoss(_TargetLoss):
    """D: BCE(D(x), 1) + BCE(D(G(z)), 0); G: BCE(D(G(z)), 1), i.e. -log D(G(z))."""

    def discriminator_loss(self, real_logits, fake_logits):
        real_target, fake_target = self._targets(real_logits, fake_logits)
        return (F.binary_cross_entropy_with_logits(real_logits, real_target)
                + F.binary_cross_entropy_with_logits(fake_logits, fake_target))

    def generator_loss(self, fake_logits):
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


class MinimaxLoss(NonSaturatingLoss):
    """The discriminator of the non-saturating loss; G minimises log(1 - D(G(z))) = -softplus(l)."""

    def generator_loss(self, fake_logits):
        return -F.softplus(fake_logits).mean()


class LeastSquaresLoss(_TargetLoss):
    """D: 1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2; G: 1/2 (D(G(z)) - 1)^2, on the raw outputs."""

    def discriminator_loss(self, real_logits, fake_logits):
        real_target, fake_target = self._targets(real_logits, fake_logits)
        return 0.5 * (F.mse_loss(real_logits, real_target) + F.mse_loss(fake_logits, fake_target))

    def generator_loss(self, fake_logits):
        return 0.5 * F.mse_loss(fake_logits, torch.ones_like(fake_logits))


class HingeLoss:
    """D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)). Margins, not targets: no smoothing."""

    def __init__(self, label_smoothing: float = 0.0, label_noise: float = 0.0):
        if label_smoothing or label_noise:
            raise UsageError("loss 'hinge' has no labels: label_smoothing and label_noise must be 0")

    def discriminator_loss(self, real_logits, fake_logits):
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def generator_loss(self, fake_logits):
        return -fake_logits.mean()
