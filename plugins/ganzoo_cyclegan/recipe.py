"""CycleGAN as a ganzoo recipe: phase G (both generators) then phase D (both discriminators).

G_AB maps A to B and G_BA maps B to A; D_A judges domain-A images, D_B domain-B images. G's
loss: LSGAN terms for both fakes + lambda_cycle x (|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|)
+ lambda_cycle x lambda_identity x (|G_AB(b) - b| + |G_BA(a) - a|). Each discriminator's loss is
halved and sees a fake from its image pool of past fakes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.plugin import DataInfo, Phase, PhaseLoss, StepContext, UnknownPhaseError, UsageError, create_loss, layers

from .networks import ResNetGenerator, default_blocks
from .options import CycleGANOptions
from .pool import ImagePool


class CycleGAN(nn.Module):
    phases = (Phase("G", optimizer="G"), Phase("D", optimizer="D", critic=True))
    inference_networks = ("G_AB", "G_BA")
    directions = ("a2b", "b2a")  # translates both ways (Translates)

    def __init__(self, options: CycleGANOptions, data: DataInfo):
        super().__init__()
        self.options = options
        a, b = data.channels, data.channels_b or data.channels
        blocks = options.n_blocks or default_blocks(data.resolution)
        self.G_AB = ResNetGenerator(a, b, options.ngf, blocks, options.norm)
        self.G_BA = ResNetGenerator(b, a, options.ngf, blocks, options.norm)
        self.D_A = layers.PatchDiscriminator(a, options.ndf, options.n_layers, options.norm, data.resolution)
        self.D_B = layers.PatchDiscriminator(b, options.ndf, options.n_layers, options.norm, data.resolution)
        for network in (self.G_AB, self.G_BA, self.D_A, self.D_B):
            network.apply(layers.init_normal)
        self.pool_A = ImagePool(options.pool_size, (a, data.resolution, data.resolution))
        self.pool_B = ImagePool(options.pool_size, (b, data.resolution, data.resolution))
        self.identity = options.lambda_identity > 0 and a == b  # identity maps need equal channels
        self.adversarial = create_loss(options.loss)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.options.beta1, self.options.beta2)
        generators = [*self.G_AB.parameters(), *self.G_BA.parameters()]
        discriminators = [*self.D_A.parameters(), *self.D_B.parameters()]
        return {
            "G": torch.optim.Adam(generators, lr=self.options.lr, betas=betas),
            "D": torch.optim.Adam(discriminators, lr=self.options.lr, betas=betas),
        }

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
        if phase.name == "G":
            return self._generator_loss(batch, ctx)
        if phase.name == "D":
            return self._discriminators_loss(batch, ctx)
        raise UnknownPhaseError(self, phase.name)

    def _reals(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The step's A and B images, jittered when the option asks (each domain on its own)."""
        real_a, real_b = batch["A"], batch["B"]
        if self.options.jitter:
            (real_a,) = layers.random_jitter([real_a])
            (real_b,) = layers.random_jitter([real_b])
        return real_a, real_b

    def _generator_loss(self, batch, ctx: StepContext) -> PhaseLoss:
        real_a, real_b = self._reals(batch)
        fake_b, fake_a = self.G_AB(real_a), self.G_BA(real_b)
        adversarial = self.adversarial.generator_loss(self.D_B(ctx.augment(fake_b))) + self.adversarial.generator_loss(
            self.D_A(ctx.augment(fake_a))
        )
        cycle = F.l1_loss(self.G_BA(fake_b), real_a) + F.l1_loss(self.G_AB(fake_a), real_b)
        loss = adversarial + self.options.lambda_cycle * cycle
        logs = {"loss_G_adv": adversarial.detach(), "loss_cycle": cycle.detach()}
        if self.identity:
            identity = F.l1_loss(self.G_AB(real_b), real_b) + F.l1_loss(self.G_BA(real_a), real_a)
            loss = loss + self.options.lambda_cycle * self.options.lambda_identity * identity
            logs["loss_identity"] = identity.detach()
        ctx.scratch.update(real_a=real_a, real_b=real_b, fake_a=fake_a.detach(), fake_b=fake_b.detach())
        return PhaseLoss(loss, {"loss_G": loss.detach(), **logs})

    def _discriminators_loss(self, batch, ctx: StepContext) -> PhaseLoss:
        """Both discriminators' losses; their outputs are reported together, flattened (one
        heuristic for ADA's p, one pair of LeCam anchors for the two)."""
        scratch = ctx.scratch
        if "fake_a" not in scratch:  # a --d-steps repeat on a fresh batch: G's phase made no fakes for it
            real_a, real_b = self._reals(batch)
            with torch.no_grad():
                scratch.update(real_a=real_a, real_b=real_b, fake_a=self.G_BA(real_b), fake_b=self.G_AB(real_a))
        outputs_a = self._outputs(self.D_A, scratch["real_a"], self.pool_A.query(scratch["fake_a"]), ctx)
        outputs_b = self._outputs(self.D_B, scratch["real_b"], self.pool_B.query(scratch["fake_b"]), ctx)
        d_a = 0.5 * self.adversarial.discriminator_loss(*outputs_a)
        d_b = 0.5 * self.adversarial.discriminator_loss(*outputs_b)
        return PhaseLoss(
            d_a + d_b,
            {"loss_D": (d_a + d_b).detach(), "loss_D_A": d_a.detach(), "loss_D_B": d_b.detach()},
            real_logits=torch.cat([outputs_a[0].flatten(), outputs_b[0].flatten()]),
            fake_logits=torch.cat([outputs_a[1].flatten(), outputs_b[1].flatten()]),
        )

    @staticmethod
    def _outputs(
        critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, ctx: StepContext
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The critic's logits on the real and the (pooled) fake images, through ADA when on."""
        return critic(ctx.augment(real)), critic(ctx.augment(fake))
