"""Pix2Pix as a ganzoo recipe: phases D then G on (input, target) pairs.

D sees the input concatenated with either the target or G's output (a conditional GAN), and
its loss is halved, as in the paper, to slow it relative to G. G's loss is the adversarial term
plus lambda_L1 (100) times the L1 distance to the target."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.plugin import DataInfo, Phase, PhaseLoss, StepContext, UnknownPhaseError, UsageError, create_loss, layers

from .networks import UNetGenerator
from .options import Pix2PixOptions


class Pix2Pix(nn.Module):
    phases = (Phase("D", optimizer="D", critic=True), Phase("G", optimizer="G"))
    inference_networks = ("G",)

    def __init__(self, options: Pix2PixOptions, data: DataInfo):
        super().__init__()
        self.options, self.direction = options, options.direction
        self.directions = (options.direction,)  # one way, the trained one (Translates)
        channels_a, channels_b = data.channels, data.channels_b or data.channels
        self.source_key, self.target_key = ("A", "B") if options.direction == "a2b" else ("B", "A")
        source_channels, target_channels = (
            (channels_a, channels_b) if options.direction == "a2b" else (channels_b, channels_a)
        )
        self.G = UNetGenerator(
            source_channels, target_channels, data.resolution, options.ngf, options.norm, options.dropout
        )
        self.D = layers.PatchDiscriminator(
            source_channels + target_channels, options.ndf, options.n_layers, options.norm, data.resolution
        )
        self.G.apply(layers.init_normal)
        self.D.apply(layers.init_normal)
        self.adversarial = create_loss(options.loss)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.options.beta1, self.options.beta2)
        return {
            "D": torch.optim.Adam(self.D.parameters(), lr=self.options.lr, betas=betas),
            "G": torch.optim.Adam(self.G.parameters(), lr=self.options.lr, betas=betas),
        }

    def translate(self, images: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        if direction != self.direction:
            raise UsageError(
                f"this pix2pix model translates {self.direction}, not {direction} "
                f"(train one with --set direction={direction})"
            )
        return self.G(images)

    def preview(self, batch) -> torch.Tensor:
        """input | output | target for each example: (N, 3, C, H, W)."""
        source, target = batch[self.source_key], batch[self.target_key]
        output = self.G(source)
        return torch.stack([_as(source, output), output, _as(target, output)], dim=1)

    def phase_loss(self, phase: Phase, batch, ctx: StepContext) -> PhaseLoss:
        step = ctx.scratch
        if "fake" not in step:  # once per step: the D phase's pair and output are reused by G
            source, target = batch[self.source_key], batch[self.target_key]
            if self.options.jitter:
                source, target = layers.random_jitter([source, target])
            step["source"], step["target"], step["fake"] = source, target, self.G(source)
        source, target, fake = step["source"], step["target"], step["fake"]
        if phase.name == "D":
            real_logits = self.D(torch.cat([source, target], 1))
            fake_logits = self.D(torch.cat([source, fake.detach()], 1))
            loss = 0.5 * self.adversarial.discriminator_loss(real_logits, fake_logits)
            return PhaseLoss(
                loss,
                {
                    "loss_D": loss.detach(),
                    "D(x)": torch.sigmoid(real_logits.detach()).mean(),
                    "D(G(x))": torch.sigmoid(fake_logits.detach()).mean(),
                },
            )
        if phase.name != "G":
            raise UnknownPhaseError(self, phase.name)
        adversarial = self.adversarial.generator_loss(self.D(torch.cat([source, fake], 1)))
        l1 = F.l1_loss(fake, target)
        loss = adversarial + self.options.lambda_l1 * l1
        return PhaseLoss(loss, {"loss_G": loss.detach(), "loss_G_adv": adversarial.detach(), "L1": l1.detach()})


def _as(images: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Grey images shown beside colour ones get three channels."""
    return images.expand(-1, like.shape[1], -1, -1) if images.shape[1] < like.shape[1] else images
