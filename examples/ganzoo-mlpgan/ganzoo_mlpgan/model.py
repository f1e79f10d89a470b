"""The recipe: two MLPs, phases D then G, the loss taken from ganzoo's loss registry."""

from dataclasses import dataclass

import torch
from torch import nn

from ganzoo.plugin import DataInfo, Phase, PhaseLoss, StepContext, UnknownPhaseError, create_loss, option


@dataclass
class MLPGANOptions:
    nz: int = option(64, "length of the noise vector", min=1)
    hidden: int = option(256, "width of the hidden layers", min=1)
    lr: float = option(2e-4, "Adam learning rate", min=0.0)
    loss: str = option("nonsaturating", "adversarial loss (see `ganzoo list losses`)")


class MLPGAN(nn.Module):
    phases = (Phase("D", optimizer="D", critic=True), Phase("G", optimizer="G"))
    inference_networks = ("G",)

    def __init__(self, options: MLPGANOptions, data: DataInfo):
        super().__init__()
        self.options = options
        self.shape = (data.channels, data.resolution, data.resolution)
        pixels = data.channels * data.resolution**2
        # BatchNorm in G: without it this G collapsed onto one blob within 500 steps on digits
        self.G = nn.Sequential(
            nn.Linear(options.nz, options.hidden),
            nn.BatchNorm1d(options.hidden),
            nn.ReLU(),
            nn.Linear(options.hidden, options.hidden),
            nn.BatchNorm1d(options.hidden),
            nn.ReLU(),
            nn.Linear(options.hidden, pixels),
            nn.Tanh(),
        )
        self.D = nn.Sequential(
            nn.Linear(pixels, options.hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(options.hidden, options.hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(options.hidden, 1),
        )
        self.adversarial = create_loss(options.loss)

    def configure_optimizers(self):
        return {
            "D": torch.optim.Adam(self.D.parameters(), lr=self.options.lr, betas=(0.5, 0.999)),
            "G": torch.optim.Adam(self.G.parameters(), lr=self.options.lr, betas=(0.5, 0.999)),
        }

    def noise(self, n, generator=None):
        return torch.randn(n, self.options.nz, generator=generator)

    def sample(self, noise, labels=None, truncation=None):
        return self.G(noise).view(-1, *self.shape)

    def phase_loss(self, phase: Phase, batch, ctx: StepContext):
        real, scratch = batch["image"], ctx.scratch
        if "fake" not in scratch:  # made once per step: D trains on it detached, G through it
            scratch["fake"] = self.sample(torch.randn(len(real), self.options.nz, device=real.device))
        fake = scratch["fake"]
        if phase.name == "D":  # D's outputs reported: for --augment ada and --lecam
            real_logits = self.D(ctx.augment(real).flatten(1))
            fake_logits = self.D(ctx.augment(fake.detach()).flatten(1))
            loss = self.adversarial.discriminator_loss(real_logits, fake_logits)
            return PhaseLoss(loss, {"loss_D": loss.detach()}, real_logits=real_logits, fake_logits=fake_logits)
        if phase.name != "G":
            raise UnknownPhaseError(self, phase.name)
        loss = self.adversarial.generator_loss(self.D(ctx.augment(fake).flatten(1)))
        return PhaseLoss(loss, {"loss_G": loss.detach()})
