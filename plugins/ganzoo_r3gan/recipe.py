"""R3GAN as a ganzoo recipe: phases D then G, one Adam per network (beta1 0).

The loss is the relativistic pairing RpGAN, each real image paired with a generated one:
D minimises softplus(-(D(x) - D(G(z)))), G minimises softplus(-(D(G(z)) - D(x))); D also pays
gamma/2 x (R1 + R2), the squared gradients of its logits on the real (R1) and the generated (R2)
images, at every step. lr, Adam's beta2 and gamma move along a cosine from their start to their
final values over ``decay_kimg`` thousand images, then hold, as the reference's schedules; the
images D sees go through the engine's ``--augment ada`` when asked, inside the penalties' reach
(the gradients are taken on the images before augmentation, as the reference's)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.plugin import DataInfo, Phase, PhaseLoss, StepContext, UnknownPhaseError, UsageError, latents

from .networks import Discriminator, Generator, Shape
from .options import R3GANOptions


def cosine(start: float, end: float, images: int, horizon_kimg: float) -> float:
    """The reference's ``cosine_decay_with_warmup`` without warm-up: from ``start`` at 0 images to
    ``end`` at the horizon along half a cosine, then ``end``; a horizon of 0 holds ``start``."""
    if horizon_kimg <= 0:
        return start
    if images >= horizon_kimg * 1000:
        return end
    progress = images / (horizon_kimg * 1000)
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * progress))


class R3GAN(nn.Module):
    phases = (Phase("D", optimizer="D", critic=True, double_backward=True), Phase("G", optimizer="G"))
    inference_networks = ("G",)
    name = "r3gan"
    num_classes = 0

    def __init__(self, options: R3GANOptions, data: DataInfo):
        super().__init__()
        self.options = options
        classes = self.classes(data)
        shape = Shape(
            options.width, options.blocks, options.expansion, options.group_channels, data.channels, data.resolution
        )
        if (options.width * options.expansion) % options.group_channels:
            raise UsageError(
                f"{self.name}: width x expansion ({options.width * options.expansion}) must be a multiple of "
                f"group_channels ({options.group_channels})"
            )
        self.G = Generator(options.z_dim, shape, classes, options.embed_dim)
        self.D = Discriminator(shape, classes)
        self._optimizers: tuple[torch.optim.Optimizer, ...] = ()

    def classes(self, data: DataInfo) -> int:
        return 0

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (0.0, self.options.beta2)
        optimizers: dict[str, torch.optim.Optimizer] = {
            "D": torch.optim.Adam(self.D.parameters(), lr=self.options.lr, betas=betas),
            "G": torch.optim.Adam(self.G.parameters(), lr=self.options.lr, betas=betas),
        }
        self._optimizers = tuple(optimizers.values())  # whose beta2 follows its schedule
        return optimizers

    def lr_factor(self, images_seen: int) -> float:
        """The learning rate's cosine decay (ganzoo.protocols.DecaysItsLearningRate)."""
        options = self.options
        if not options.lr:
            return 1.0
        return cosine(options.lr, options.lr_final, images_seen, options.decay_kimg) / options.lr

    def ema_half_life_kimg(self, batch_size: int) -> float:
        """The generator average's half-life (ganzoo.protocols.AveragesOverImages)."""
        return self.options.ema_kimg

    def ema_rampup(self) -> float | None:
        # the reference grows the half-life from 0 along the cosine to ema_kimg at the horizon:
        # here at most the share of the images seen that it is there (5,000 of 20,000 kimg: 0.25)
        options = self.options
        return options.ema_kimg / options.decay_kimg if options.decay_kimg > 0 else None

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.G.z_dim, generator=generator)

    def sample(
        self, noise: torch.Tensor, labels: torch.Tensor | None = None, truncation: float | None = None
    ) -> torch.Tensor:
        if labels is not None:
            raise UsageError(f"model '{self.name}' is unconditional: it takes no labels")
        return self.G(noise)

    def labels(self, batch) -> torch.Tensor | None:
        return None

    def phase_loss(self, phase: Phase, batch, ctx: StepContext) -> PhaseLoss:
        real, labels = batch["image"], self.labels(batch)
        images_seen = ctx.step * ctx.batch_size
        self._follow_beta2(images_seen, ctx)
        noise = torch.randn(real.shape[0], self.G.z_dim, device=real.device)
        if phase.name == "D":
            return self._discriminator_phase(real, labels, noise, images_seen, ctx)
        if phase.name != "G":
            raise UnknownPhaseError(self, phase.name)
        fake = self.G(noise, labels)
        with torch.no_grad():  # the real images' logits are a constant of G's loss
            real_logits = self.D(ctx.augment(real), labels)
        fake_logits = self.D(ctx.augment(fake), labels)
        loss = F.softplus(real_logits - fake_logits).mean()
        return PhaseLoss(loss, {"loss_G": loss.detach()})

    def _discriminator_phase(
        self, real: torch.Tensor, labels: torch.Tensor | None, noise: torch.Tensor, images_seen: int, ctx: StepContext
    ) -> PhaseLoss:
        with torch.no_grad():
            fake = self.G(noise, labels)
        real = real.detach().float().requires_grad_(True)
        fake = fake.detach().float().requires_grad_(True)
        real_logits = self.D(ctx.augment(real), labels)
        fake_logits = self.D(ctx.augment(fake), labels)
        r1, r2 = torch.autograd.grad(
            (real_logits.sum(), fake_logits.sum()), (real, fake), create_graph=True
        )  # one backward pass for both: each image's gradient depends on its own logit only
        r1, r2 = r1.square().sum(dim=(1, 2, 3)), r2.square().sum(dim=(1, 2, 3))
        gamma = cosine(self.options.gamma, self.options.gamma_final, images_seen, self.options.decay_kimg)
        adversarial = F.softplus(fake_logits - real_logits)
        loss = (adversarial + gamma / 2 * (r1 + r2)).mean()
        logs = {
            "loss_D": adversarial.detach().mean(),
            "R1": r1.detach().mean(),
            "R2": r2.detach().mean(),
            "D(x)": real_logits.detach().mean(),
            "D(G(z))": fake_logits.detach().mean(),
        }
        # an RpGAN discriminator's own level is arbitrary (a constant added to every logit changes
        # nothing), so ADA's overfitting sign and LeCam read the paired differences, as the
        # reference's Loss/signs/real does
        paired = real_logits - fake_logits
        return PhaseLoss(loss, logs, real_logits=paired, fake_logits=-paired)

    def _follow_beta2(self, images_seen: int, ctx: StepContext) -> None:
        """Adam's beta2 along its cosine, set before the phase's optimizer steps: a function of the
        step alone, so a resumed run sets the same values."""
        beta2 = cosine(self.options.beta2, self.options.beta2_final, images_seen, self.options.decay_kimg)
        for optimizer in self._optimizers:
            for group in optimizer.param_groups:
                group["betas"] = (group["betas"][0], beta2)


class ConditionalR3GAN(R3GAN):
    """Class-conditional, as the reference's: G joins a class embedding to z, D's last layer
    gives an embedding whose projection on the class's embedding is the logit (projection
    only, no unconditional term) (ganzoo.protocols.SamplesConditionally)."""

    name = "r3gan-cond"

    def classes(self, data: DataInfo) -> int:
        if not data.classes:
            raise UsageError(
                f"{self.name} needs a dataset with classes, and '{data.name or 'this dataset'}' has none "
                "(e.g. digits, mnist, cifar10; a folder with --data-set classes=true)"
            )
        self.num_classes = len(data.classes)
        return self.num_classes

    def labels(self, batch) -> torch.Tensor:
        if "label" not in batch:
            raise UsageError(f"{self.name}: the batches hold no 'label'")
        return batch["label"]

    def sample(
        self, noise: torch.Tensor, labels: torch.Tensor | None = None, truncation: float | None = None
    ) -> torch.Tensor:
        if labels is None:
            raise UsageError(
                f"{self.name} draws images of given classes: pass labels (`ganzoo generate RUN --class NAME`)"
            )
        return self.G(noise, labels)

    def condition(self, n: int, generator: torch.Generator, choice: int | None = None) -> torch.Tensor:
        return latents.class_labels(n, self.num_classes, generator, choice)
