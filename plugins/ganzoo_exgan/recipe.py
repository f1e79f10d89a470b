"""ExGAN as a ganzoo recipe: phases D then G on (image, mask, exemplar) examples.

G sees the image with its hole blanked, the mask and (by mode) the exemplar; its output is
composited (outside the hole the input is kept exactly). D, global + local, judges the real
image against the composite under the same mask and exemplar. G's loss: adversarial +
lambda_l1 x (L1 outside the hole + hole_weight x L1 inside it), plus in code mode the
perceptual exemplar term mean |E(output) - E(exemplar)|.

Code mode follows the paper's figure of code-based ExGAN: the exemplar's code c = E(exemplar)
goes to G, to D and to the perceptual term, and the code of the judged image (E(real image),
E(inpainted image)) goes to D and to the perceptual term. Where E reads an image that is judged,
its weights are held fixed (the gradient goes on to the image, so to G); D's condition c is a
given, never a way to fool D. So the encoder learns only through the generator: by what its
code makes G draw."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ganzoo.plugin import DataInfo, Phase, PhaseLoss, StepContext, UnknownPhaseError, UsageError, create_loss

from .networks import (
    ExemplarEncoder,
    ExGANCodeDiscriminator,
    ExGANDiscriminator,
    ExGANGenerator,
    check_configuration,
)
from .options import ExGANOptions, width_for


class ExGAN(nn.Module):
    phases = (Phase("D", optimizer="D", critic=True), Phase("G", optimizer="G"))

    def __init__(self, options: ExGANOptions, data: DataInfo):
        super().__init__()
        try:
            check_configuration(data.resolution, options.exemplar)
        except ValueError as exc:
            raise UsageError(f"exgan: {exc}") from None
        self.options, self.mode = options, options.exemplar
        channels = data.channels
        ngf, ndf = width_for(data.resolution, options.ngf), width_for(data.resolution, options.ndf)
        self.G = ExGANGenerator(
            channels, data.resolution, options.exemplar, ngf, options.blocks, options.dilated, options.code_dim
        )
        self.D: ExGANDiscriminator | ExGANCodeDiscriminator = (
            ExGANCodeDiscriminator(channels, data.resolution, ndf, options.spectral_norm, options.code_dim)
            if self.mode == "code"
            else ExGANDiscriminator(channels, data.resolution, options.exemplar, ndf, options.spectral_norm)
        )
        # the exemplar encoder is part of the generator side: trained by G's loss, averaged with it
        self.E = ExemplarEncoder(channels, data.resolution, options.code_dim) if self.mode == "code" else None
        self.inference_networks = ("G", "E") if self.E is not None else ("G",)
        self.adversarial = create_loss(options.loss)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.options.beta1, self.options.beta2)
        generator_side = list(self.G.parameters()) + (list(self.E.parameters()) if self.E is not None else [])
        return {
            "D": torch.optim.Adam(self.D.parameters(), lr=self.options.lr, betas=betas),
            "G": torch.optim.Adam(generator_side, lr=self.options.lr, betas=betas),
        }

    # -- inference -------------------------------------------------------------------------
    @property
    def needs_exemplar(self) -> bool:
        return self.mode != "none"

    def fill(self, images: torch.Tensor, masks: torch.Tensor, exemplars: torch.Tensor | None):
        """(raw output, exemplar code or None) for images in [-1, 1] and masks in {0, 1}."""
        if self.mode != "none" and exemplars is None:
            raise UsageError(f"this exgan model ({self.mode} mode) needs an exemplar for every image")
        masked = images * (1 - masks)  # the hole reads as 0 (mid-grey), whatever was there
        code = self.E(exemplars) if self.E is not None else None
        raw = self.G(masked, masks, exemplar=exemplars if self.mode == "reference" else None, exemplar_code=code)
        return raw, code

    def inpaint(self, images: torch.Tensor, masks: torch.Tensor, exemplars: torch.Tensor | None) -> torch.Tensor:
        """The images with their holes (mask 1) filled; every other pixel is the input's."""
        raw, _ = self.fill(images, masks, exemplars)
        return torch.where(masks > 0.5, raw, images)

    def preview(self, batch) -> torch.Tensor:
        """masked input | exemplar | output | target per example: (N, 4, C, H, W)."""
        image, mask, exemplar = batch["image"], batch["mask"], batch["exemplar"]
        shown = torch.where(mask > 0.5, torch.ones_like(image), image)  # the hole in white
        return torch.stack([shown, exemplar, self.inpaint(image, mask, exemplar), image], dim=1)

    # -- training --------------------------------------------------------------------------
    def code_of(self, images: torch.Tensor) -> torch.Tensor:
        """E(images) with E's weights held fixed: the gradient reaches the images (so G), never
        E's weights. Used where E reads an image that is judged: D's input and the perceptual
        term; trained through them, E could move every code to one point and fool both."""
        assert self.E is not None
        frozen = {name: p.detach() for name, p in self.E.named_parameters()}
        return functional_call(self.E, frozen, (images,))

    def critic(
        self,
        images: torch.Tensor,
        mask: torch.Tensor,
        exemplar: torch.Tensor,
        code: torch.Tensor | None,
        image_code: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """D's logits for judged images under their mask and exemplar (by mode: the exemplar
        image beside them; or the exemplar's code, taken as a given, and the judged images' code)."""
        if self.mode == "code":
            assert code is not None and image_code is not None
            return self.D(images, mask, exemplar_code=code.detach(), image_code=image_code)
        return self.D(images, mask, exemplar=exemplar if self.mode == "reference" else None)

    def phase_loss(self, phase: Phase, batch, ctx: StepContext) -> PhaseLoss:
        step = ctx.scratch
        if "fake" not in step:  # once per step: D's fill is reused by G
            image, mask, exemplar = batch["image"], batch["mask"], batch["exemplar"]
            raw, code = self.fill(image, mask, exemplar)
            step.update(
                image=image, mask=mask, exemplar=exemplar, raw=raw, code=code, fake=mask * raw + (1 - mask) * image
            )  # composite; gradients reach the hole only
        image, mask, exemplar, raw, code, fake = (step[k] for k in ("image", "mask", "exemplar", "raw", "code", "fake"))
        if phase.name == "D":
            real_code = fake_code = None
            if self.E is not None:
                with torch.no_grad():  # D does not train the encoder
                    real_code, fake_code = self.E(image), self.E(fake)
            real_logits = self.critic(image, mask, exemplar, code, real_code)
            fake_logits = self.critic(fake.detach(), mask, exemplar, code, fake_code)
            loss = self.adversarial.discriminator_loss(real_logits, fake_logits)
            return PhaseLoss(
                loss,
                {
                    "loss_D": loss.detach(),
                    "D(x)": torch.sigmoid(real_logits.detach()).mean(),
                    "D(fill)": torch.sigmoid(fake_logits.detach()).mean(),
                },
            )
        if phase.name != "G":
            raise UnknownPhaseError(self, phase.name)
        fake_code = self.code_of(fake) if self.E is not None else None
        adversarial = self.adversarial.generator_loss(self.critic(fake, mask, exemplar, code, fake_code))
        error = (raw - image).abs()
        hole = (error * mask).sum() / mask.sum().clamp_min(1) / image.shape[1]
        outside = (error * (1 - mask)).sum() / (1 - mask).sum().clamp_min(1) / image.shape[1]
        loss = adversarial + self.options.lambda_l1 * (outside + self.options.hole_weight * hole)
        logs = {"loss_G": loss.detach(), "loss_G_adv": adversarial.detach(), "L1_hole": hole.detach()}
        if fake_code is not None and self.options.lambda_code > 0:
            perceptual = F.l1_loss(fake_code, code.detach())
            loss = loss + self.options.lambda_code * perceptual
            logs["code"] = perceptual.detach()
        logs["loss_G"] = loss.detach()
        return PhaseLoss(loss, logs)
