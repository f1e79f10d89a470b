"""CycleGAN as a ganzoo recipe: phase G (both generators) then phase D (both discriminators).

G_AB maps A to B and G_BA maps B to A; D_A judges domain-A images, D_B domain-B images. G's
loss: LSGAN terms for both fakes + lambda_cycle x (|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|)
+ lambda_cycle x lambda_identity x (|G_AB(b) - b| + |G_BA(a) - a|). Each discriminator's loss is
halved and sees a fake from its image pool of past fakes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo import create_loss
from ganzoo.errors import UsageError
from ganzoo.layers import PatchDiscriminator, init_normal, random_jitter
from ganzoo.protocols import DataInfo, Phase, PhaseLoss, StepContext

from .networks import ResNetGenerator, default_blocks
from .options import CycleGANOptions
from .pool import ImagePool


class CycleGAN(nn.Module):
    phases = (Phase("G", optimizer="G"), Phase("D", optimizer="D", critic=True))
    inference_networks = ("G_AB", "G_BA")

    def __init__(self, options: CycleGANOptions, data: DataInfo):
        super().__init__()
        self.options = options
        a, b = data.channels, data.channels_b or data.channels
        blocks = options.n_blocks or default_blocks(data.resolution)
        self.G_AB = ResNetGenerator(a, b, options.ngf, blocks, options.norm)
        self.G_BA = ResNetGenerator(b, a, options.ngf, blocks, options.norm)
        self.D_A = PatchDiscriminator(a, options.ndf, options.n_layers, options.norm, data.resolution)
        self.D_B = PatchDiscriminator(b, options.ndf, options.n_layers, options.norm, data.resolution)
        for network in (self.G_AB, self.G_BA, self.D_A, self.D_B):
            network.apply(init_normal)
        self.pool_A = ImagePool(options.pool_size, (a, data.resolution, data.resolution))
        self.pool_B = ImagePool(options.pool_size, (b, data.resolution, data.resolution))
        self.identity = options.lambda_identity > 0 and a == b  # identity maps need equal channels
        if options.loss not in ("lsgan", "nonsaturating"):
            raise UsageError(f"cyclegan is defined with the lsgan or nonsaturating loss, not '{options.loss}'")
        self.adversarial = create_loss(options.loss)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.options.beta1, self.options.beta2)
        generators = [*self.G_AB.parameters(), *self.G_BA.parameters()]
        discriminators = [*self.D_A.parameters(), *self.D_B.parameters()]
        return {"G": torch.optim.Adam(generators, lr=self.options.lr, betas=betas),
                "D": torch.optim.Adam(discriminators, lr=self.options.lr, betas=betas)}

    def translate(self, images: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        if direction not in ("a2b", "b2a"):
            raise UsageError(f"direction must be a2b or b2a, not '{direction}'")
        return (self.G_AB if direction == "a2b" else self.G_BA)(images)

    def preview(self, batch) -> torch.Tensor:
        """real A | fake B | reconstructed A | real B | fake A | reconstructed B."""
        real_a, real_b = batch["A"], batch["B"]
        fake_b, fake_a = self.G_AB(real_a), self.G_BA(real_b)
        return torch.stack([real_a, fake_b, self.G_BA(fake_b), real_b, fake_a, self.G_AB(fake_a)], dim=1)

    def phase_loss(self, phase: Phase, batch, ctx: StepContext) -> PhaseLoss:
        step = ctx.scratch
        if phase.name == "G":
            real_a, real_b = batch["A"], batch["B"]
            if self.options.jitter:
                real_a, = random_jitter([real_a])
                real_b, = random_jitter([real_b])
            fake_b, fake_a = self.G_AB(real_a), self.G_BA(real_b)
            adversarial = (self.adversarial.generator_loss(self.D_B(fake_b))
                           + self.adversarial.generator_loss(self.D_A(fake_a)))
            cycle = F.l1_loss(self.G_BA(fake_b), real_a) + F.l1_loss(self.G_AB(fake_a), real_b)
            loss = adversarial + self.options.lambda_cycle * cycle
            logs = {"loss_G_adv": adversarial.detach(), "loss_cycle": cycle.detach()}
            if self.identity:
                identity = F.l1_loss(self.G_AB(real_b), real_b) + F.l1_loss(self.G_BA(real_a), real_a)
                loss = loss + self.options.lambda_cycle * self.options.lambda_identity * identity
                logs["loss_identity"] = identity.detach()
            step.update(real_a=real_a, real_b=real_b, fake_a=fake_a.detach(), fake_b=fake_b.detach())
            return PhaseLoss(loss, {"loss_G": loss.detach(), **logs})
        d_a = self._discriminator_loss(self.D_A, step["real_a"], self.pool_A.query(step["fake_a"]))
        d_b = self._discriminator_loss(self.D_B, step["real_b"], self.pool_B.query(step["fake_b"]))
        return PhaseLoss(d_a + d_b, {"loss_D": (d_a + d_b).detach(), "loss_D_A": d_a.detach(), "loss_D_B": d_b.detach()})

    def _discriminator_loss(self, critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.adversarial.discriminator_loss(critic(real), critic(fake))
