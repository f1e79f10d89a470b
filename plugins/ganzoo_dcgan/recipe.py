"""DCGAN as a ganzoo recipe: phases D then G, the D phase's fakes reused by the G phase.

:class:`CDCGAN` is the same recipe conditioned on classes or attributes: the generator and the
critic receive the batch's conditions, and sampling needs them."""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.plugin import (
    DataInfo,
    Phase,
    PhaseLoss,
    StepContext,
    UnknownPhaseError,
    UsageError,
    augment,
    create_loss,
    latents,
)

from .conditional import ConditionalGenerator, ProjectionDiscriminator
from .networks import Discriminator, Generator, init_weights
from .options import CDCGANOptions, DCGANOptions


class DCGAN(nn.Module):
    phases = (Phase("D", optimizer="D", critic=True), Phase("G", optimizer="G"))
    inference_networks = ("G",)
    truncation_effect = "draws each noise component within ±T"  # sampling honours truncation (Truncates)

    def __init__(self, options: DCGANOptions, data: DataInfo):
        super().__init__()
        self.options = options
        self.G, self.D = self.build_networks(options, data)
        self.G.apply(init_weights)
        self.D.apply(init_weights)
        try:
            self.augment = augment.parse_policy(options.augment)
        except ValueError as exc:
            raise UsageError(f"option 'augment' of model '{self.name}': {exc}") from None
        self.adversarial = create_loss(
            options.loss,
            label_smoothing=options.label_smoothing,
            label_noise=options.label_noise,
            r1_gamma=options.r1_gamma,
        )

    name = "dcgan"

    def build_networks(self, options: DCGANOptions, data: DataInfo) -> tuple[nn.Module, nn.Module]:
        return (
            Generator(options.nz, options.ngf, data.channels, data.resolution),
            Discriminator(options.ndf, data.channels, data.resolution),
        )

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.options.beta1, self.options.beta2)
        return {
            "D": torch.optim.Adam(self.D.parameters(), lr=self.options.lr, betas=betas),
            "G": torch.optim.Adam(self.G.parameters(), lr=self.options.lr, betas=betas),
        }

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.options.nz, generator=generator)

    def sample(
        self, noise: torch.Tensor, labels: torch.Tensor | None = None, truncation: float | None = None
    ) -> torch.Tensor:
        """Truncation draws each noise component from the normal truncated to ±truncation."""
        if labels is not None:
            raise UsageError(f"model '{self.name}' is unconditional: it takes no labels")
        return self.G(latents.truncate(noise, truncation) if truncation is not None else noise)

    def conditions(self, batch) -> torch.Tensor | None:
        """What the networks are conditioned on in this batch (nothing, for DCGAN)."""
        return None

    def generate(self, z: torch.Tensor, conditions: torch.Tensor | None) -> torch.Tensor:
        return self.G(z)

    def critic(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        """D's logits, on augmented images when a DiffAugment policy is set."""
        return self.D(augment.diff_augment(images, self.augment) if self.augment else images)

    def phase_loss(self, phase: Phase, batch, ctx: StepContext) -> PhaseLoss:
        real, conditions, scratch = batch["image"], self.conditions(batch), ctx.scratch
        if "fake" not in scratch:  # generated once per step: D trains on it detached, G through it
            z = torch.randn(real.shape[0], self.options.nz, device=real.device)
            scratch["fake"] = self.generate(z, conditions)
        fake = scratch["fake"]
        critic = lambda images: self.critic(ctx.augment(images), conditions)  # noqa: E731 (ADA's, when on)
        if phase.name == "D":
            real_logits, fake_logits = critic(real), critic(fake.detach())
            loss = self.adversarial.discriminator_loss(real_logits, fake_logits)
            logs = {"loss_D": loss.detach()}
            penalty = self.adversarial.penalty(critic, real, fake.detach())
            if penalty is not None:
                loss = loss + penalty
                logs["penalty_D"] = penalty.detach()
            return PhaseLoss(
                loss,
                {
                    **logs,
                    "D(x)": torch.sigmoid(real_logits.detach()).mean(),
                    "D(G(z))": torch.sigmoid(fake_logits.detach()).mean(),
                },
                real_logits=real_logits,
                fake_logits=fake_logits,
            )
        if phase.name != "G":
            raise UnknownPhaseError(self, phase.name)
        loss = self.adversarial.generator_loss(critic(fake))
        return PhaseLoss(loss, {"loss_G": loss.detach()})


class CDCGAN(DCGAN):
    """Class-conditional DCGAN: conditional BatchNorm generator (class embedding also joined to z),
    projection discriminator (Miyato & Koyama 2018). Conditioned on ``label`` when the data has
    classes, else on the ``attributes`` rows (multi-label)."""

    name = "cdcgan"
    G: ConditionalGenerator  # what build_networks below builds
    attribute_sums: torch.Tensor  # buffers registered in __init__; declared so the checker knows they are tensors
    attribute_count: torch.Tensor

    def __init__(self, options: CDCGANOptions, data: DataInfo):
        if not data.classes and not data.attributes:
            raise UsageError(
                f"cdcgan needs a dataset with classes or attributes, and '{data.name or 'this dataset'}' "
                "has neither (e.g. digits, mnist, cifar10, celeba; a folder with "
                "--data-set classes=true)"
            )
        self.key = "label" if data.classes else "attributes"
        super().__init__(options, data)
        # How often each attribute is on in the training data, counted as batches go by, so
        # random conditions at sampling time look like the data's.
        self.register_buffer("attribute_sums", torch.zeros(data.num_attributes))
        self.register_buffer("attribute_count", torch.zeros(()))

    def build_networks(self, options: DCGANOptions, data: DataInfo) -> tuple[nn.Module, nn.Module]:
        if not isinstance(options, CDCGANOptions):  # DCGAN's __init__ passes on what CDCGAN was given
            raise TypeError(f"cdcgan is built from CDCGANOptions, not {type(options).__name__}")
        return (
            ConditionalGenerator(options.nz, options.ngf, data, options.embed_dim),
            ProjectionDiscriminator(options.ndf, data),
        )

    def conditions(self, batch) -> torch.Tensor:
        if self.key not in batch:
            raise UsageError(f"cdcgan: the batches hold no '{self.key}'")
        conditions = batch[self.key]
        if self.training and self.key == "attributes":
            self.attribute_sums += conditions.detach().sum(0)
            self.attribute_count += conditions.shape[0]
        return conditions

    def generate(self, z: torch.Tensor, conditions: torch.Tensor | None) -> torch.Tensor:
        if conditions is None:  # self.conditions(batch) always gives some
            raise ValueError("cdcgan generates from conditions: pass them")
        return self.G(z, conditions)

    def critic(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        return self.D(augment.diff_augment(images, self.augment) if self.augment else images, conditions)

    def sample(
        self, noise: torch.Tensor, labels: torch.Tensor | None = None, truncation: float | None = None
    ) -> torch.Tensor:
        if labels is None:
            raise UsageError(
                "cdcgan draws images of given classes or attributes: pass labels (`ganzoo generate RUN --class NAME`)"
            )
        return self.G(latents.truncate(noise, truncation) if truncation is not None else noise, labels)

    def condition(self, n: int, generator: torch.Generator, choice: int | None = None) -> torch.Tensor:
        if self.key == "label":
            return latents.class_labels(n, self.G.embed.count, generator, choice)
        rates = (
            (self.attribute_sums / self.attribute_count).cpu()
            if self.attribute_count > 0
            else torch.full(self.attribute_sums.shape, 0.5)
        )
        rows = (torch.rand(n, rates.numel(), generator=generator) < rates).float()
        if choice is not None:
            rows[:, int(choice)] = 1.0
        return rows
