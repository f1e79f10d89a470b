"""DCGAN as a ganzoo recipe: phases D then G, the D phase's fakes reused by the G phase."""

from __future__ import annotations

import torch
from torch import nn

from ganzoo import create_loss
from ganzoo.augment import diff_augment, parse_policy
from ganzoo.errors import UsageError
from ganzoo.protocols import DataInfo, PhaseLoss

from .networks import Discriminator, Generator, init_weights
from .options import DCGANOptions


class DCGAN(nn.Module):
    phases = ("D", "G")
    inference_networks = ("G",)

    def __init__(self, options: DCGANOptions, data: DataInfo):
        super().__init__()
        self.options = options
        self.G = Generator(options.nz, options.ngf, data.channels, data.resolution)
        self.D = Discriminator(options.ndf, data.channels, data.resolution)
        self.G.apply(init_weights)
        self.D.apply(init_weights)
        try:
            self.augment = parse_policy(options.augment)
        except ValueError as exc:
            raise UsageError(f"option 'augment' of model 'dcgan': {exc}") from None
        self.adversarial = create_loss(
            options.loss, label_smoothing=options.label_smoothing, label_noise=options.label_noise,
            r1_gamma=options.r1_gamma,
        )

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.options.beta1, self.options.beta2)
        return {
            "D": torch.optim.Adam(self.D.parameters(), lr=self.options.lr, betas=betas),
            "G": torch.optim.Adam(self.G.parameters(), lr=self.options.lr, betas=betas),
        }

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.options.nz, generator=generator)

    def sample(self, noise: torch.Tensor) -> torch.Tensor:
        return self.G(noise)

    def critic(self, images: torch.Tensor) -> torch.Tensor:
        """D's logits, on augmented images when a DiffAugment policy is set."""
        return self.D(diff_augment(images, self.augment) if self.augment else images)

    def phase_loss(self, phase: str, batch, step: dict) -> PhaseLoss:
        real = batch["image"]
        if "fake" not in step:  # generated once per step: D trains on it detached, G through it
            z = torch.randn(real.shape[0], self.options.nz, device=real.device)
            step["fake"] = self.G(z)
        fake = step["fake"]
        if phase == "D":
            real_logits, fake_logits = self.critic(real), self.critic(fake.detach())
            loss = self.adversarial.discriminator_loss(real_logits, fake_logits)
            logs = {"loss_D": loss.detach()}
            penalty = self.adversarial.penalty(self.critic, real, fake.detach())
            if penalty is not None:
                loss = loss + penalty
                logs["penalty_D"] = penalty.detach()
            return PhaseLoss(loss, {
                **logs,
                "D(x)": torch.sigmoid(real_logits.detach()).mean(),
                "D(G(z))": torch.sigmoid(fake_logits.detach()).mean(),
            })
        loss = self.adversarial.generator_loss(self.critic(fake))
        return PhaseLoss(loss, {"loss_G": loss.detach()})
