"""SNGAN (and SAGAN, the same networks with self-attention) as a ganzoo recipe: phases D then G, hinge loss by default, Adam (0, 0.9) at 2e-4 for
both networks (the paper's setting for its CIFAR-10 ResNets, where D takes 5 steps per G step:
``--d-steps 5``, as examples/configs/sngan-cifar10.toml does). Every image D sees goes through
the engine's ADA when ``--augment ada`` asks, and the D phase reports D's outputs (ADA, LeCam).

:class:`ConditionalSNGAN` conditions G's batch normalisations and D's projection on the class."""

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
    create_loss,
    latents,
)

from .biggan import BigGANGenerator, biggan_discriminator, orthogonal_penalty
from .networks import Generator, sngan_discriminator
from .options import BigGANOptions, SAGANOptions, SNGANOptions


class SNGAN(nn.Module):
    phases = (Phase("D", optimizer="D", critic=True), Phase("G", optimizer="G"))
    inference_networks = ("G",)
    name = "sngan"
    num_classes = 0
    G: Generator | BigGANGenerator  # what build_networks builds

    def __init__(self, options: SNGANOptions, data: DataInfo):
        super().__init__()
        self.options = options
        self.G, self.D = self.build_networks(options, data, self.classes(data))
        self.adversarial = create_loss(options.loss)

    def build_networks(
        self, options: SNGANOptions, data: DataInfo, classes: int
    ) -> tuple[Generator | BigGANGenerator, nn.Module]:
        sagan = isinstance(options, SAGANOptions)
        return (
            Generator(
                options.z_dim,
                options.g_channels,
                data.channels,
                data.resolution,
                classes,
                attention=sagan,
                spectral=sagan,
            ),
            sngan_discriminator(options.d_channels, data.channels, classes, attention=sagan),
        )

    def classes(self, data: DataInfo) -> int:
        return 0

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas, options = (self.options.beta1, self.options.beta2), self.options
        lr_g = options.lr_g if isinstance(options, (SAGANOptions, BigGANOptions)) else options.lr
        return {
            "D": torch.optim.Adam(self.D.parameters(), lr=options.lr, betas=betas),
            "G": torch.optim.Adam(self.G.parameters(), lr=lr_g, betas=betas),
        }

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
        real, labels, scratch = batch["image"], self.labels(batch), ctx.scratch
        if "fake" not in scratch:  # generated once per step: D trains on it detached, G through it
            scratch["fake"] = self.G(torch.randn(real.shape[0], self.G.z_dim, device=real.device), labels)
        fake = scratch["fake"]
        if phase.name == "D":
            real_logits = self.D(ctx.augment(real), labels)
            fake_logits = self.D(ctx.augment(fake.detach()), labels)
            loss = self.adversarial.discriminator_loss(real_logits, fake_logits)
            logs = {
                "loss_D": loss.detach(),
                "D(x)": real_logits.detach().mean(),
                "D(G(z))": fake_logits.detach().mean(),
            }
            return PhaseLoss(loss, logs, real_logits=real_logits, fake_logits=fake_logits)
        if phase.name != "G":
            raise UnknownPhaseError(self, phase.name)
        loss = self.adversarial.generator_loss(self.D(ctx.augment(fake), labels))
        return self.generator_phase(loss)

    def generator_phase(self, loss: torch.Tensor) -> PhaseLoss:
        return PhaseLoss(loss, {"loss_G": loss.detach()})


class ConditionalSNGAN(SNGAN):
    """Class-conditional (ganzoo.protocols.SamplesConditionally): G's blocks normalise with a
    scale and shift per class, D adds the projection of its features on the class's embedding."""

    name = "sngan-cond"

    def classes(self, data: DataInfo) -> int:
        if not data.classes:
            raise UsageError(
                f"sngan-cond needs a dataset with classes, and '{data.name or 'this dataset'}' has none "
                "(e.g. digits, mnist, cifar10; a folder with --data-set classes=true)"
            )
        self.num_classes = len(data.classes)
        return self.num_classes

    def labels(self, batch) -> torch.Tensor:
        if "label" not in batch:
            raise UsageError("sngan-cond: the batches hold no 'label'")
        return batch["label"]

    def sample(
        self, noise: torch.Tensor, labels: torch.Tensor | None = None, truncation: float | None = None
    ) -> torch.Tensor:
        if labels is None:
            raise UsageError(
                "sngan-cond draws images of given classes: pass labels (`ganzoo generate RUN --class NAME`)"
            )
        return self.G(noise, labels)

    def condition(self, n: int, generator: torch.Generator, choice: int | None = None) -> torch.Tensor:
        return latents.class_labels(n, self.num_classes, generator, choice)


class SAGAN(SNGAN):
    """SAGAN (Zhang et al. 2019): SNGAN's networks with a self-attention block in each, spectral
    normalisation in the generator too, and the two time-scale rule (D four times G's rate)."""

    name = "sagan"


class ConditionalSAGAN(ConditionalSNGAN):
    """Class-conditional SAGAN, as the paper's ImageNet model: conditional BN and projection."""

    name = "sagan-cond"


class BigGAN(ConditionalSNGAN):
    """BigGAN (Brock et al. 2019) at 16, 32, 64 and 128 pixels: class-conditional, with the shared class
    embedding, the hierarchical latent, spectral norm in G and D, orthogonal regularisation of G
    and the truncation trick at sampling (ganzoo.protocols.Truncates)."""

    name = "biggan"
    truncation_effect = "draws each noise component within ±T"

    def build_networks(
        self, options: SNGANOptions, data: DataInfo, classes: int
    ) -> tuple[Generator | BigGANGenerator, nn.Module]:
        if not isinstance(options, BigGANOptions):
            raise TypeError(f"biggan is built from BigGANOptions, not {type(options).__name__}")
        generator = BigGANGenerator(
            options.z_dim, options.g_channels, data.channels, data.resolution, classes, options.shared_dim
        )
        return generator, biggan_discriminator(options.d_channels, data.channels, data.resolution, classes)

    def sample(
        self, noise: torch.Tensor, labels: torch.Tensor | None = None, truncation: float | None = None
    ) -> torch.Tensor:
        return super().sample(latents.truncate(noise, truncation) if truncation is not None else noise, labels)

    def generator_phase(self, loss: torch.Tensor) -> PhaseLoss:
        strength = getattr(self.options, "ortho", 0.0)
        if not strength:
            return super().generator_phase(loss)
        generator = self.G
        if not isinstance(generator, BigGANGenerator):  # build_networks above made it
            raise TypeError("biggan's generator is a BigGANGenerator")
        penalty = orthogonal_penalty(generator, skip=(generator.shared,))
        total = loss + strength * penalty
        return PhaseLoss(total, {"loss_G": loss.detach(), "ortho_G": penalty.detach()})
