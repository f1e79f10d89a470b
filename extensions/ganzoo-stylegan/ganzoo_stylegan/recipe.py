"""StyleGAN2 as a ganzoo recipe, on ganzoo's public API only.

Four phases, as in the paper and in StyleGAN2-ADA's training loop: ``G`` (non-saturating logistic
loss, with style mixing), ``G_reg`` (path-length regularisation, every ``pl_every`` steps), ``D``
(logistic loss, on fakes generated afresh by the generator as G's phases left it) and ``D_reg``
(R1 on reals, every ``r1_every`` steps). The regularisers are lazy: their losses are weighted by
their interval and the optimisers get the lazy-regularisation correction
(``ganzoo.regularization.lazy_adam_settings``). The engine does everything else: data,
checkpoints, the generator's moving average (its half-life and ramp-up declared here), logging,
sampling grids, evaluation."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.plugin import (
    DataInfo,
    Phase,
    PhaseLoss,
    StepContext,
    UnknownPhaseError,
    UsageError,
    augment,
    latents,
    regularization,
)

from .networks import Discriminator, Generator
from .options import StyleGAN2Options, resolve_options

BETAS = (0.0, 0.99)  # the paper's Adam betas


class StyleGAN2(nn.Module):
    inference_networks = ("G",)
    truncation_effect = "moves each w towards the average w by psi = T"  # sampling honours truncation (Truncates)
    conditional = False  # the class-conditional variant is ConditionalStyleGAN2
    pl_mean: torch.Tensor  # a buffer registered in __init__; declared so the checker knows it is a tensor
    phases: tuple[Phase, ...]  # four, or three without G_reg when pl_weight is 0

    def __init__(self, options: StyleGAN2Options, data: DataInfo):
        super().__init__()
        if data.resolution & (data.resolution - 1) or not 16 <= data.resolution <= 256:
            raise UsageError(f"stylegan2 trains at 16, 32, 64, 128 or 256 px, not {data.resolution}")
        if self.conditional and not data.classes:
            raise UsageError("stylegan2-cond is conditioned on classes; this dataset has none (use stylegan2)")
        self.options, self.data = options, data
        self.settings = resolve_options(options, data.resolution)
        try:
            self.augment = augment.parse_policy(self.settings.augment)
        except ValueError as exc:
            raise UsageError(f"option 'augment' of model 'stylegan2': {exc}") from None
        s = self.settings
        self.num_classes = data.num_classes if self.conditional else 0
        self.G = Generator(
            s.z_dim,
            s.w_dim,
            data.resolution,
            data.channels,
            num_classes=self.num_classes,
            mapping_layers=s.mapping_layers,
            mapping_lr=options.mapping_lr,
            channel_base=s.channel_base,
            channel_max=s.channel_max,
            conv_clamp=s.conv_clamp,
        )
        self.D = Discriminator(
            data.resolution,
            data.channels,
            num_classes=self.num_classes,
            channel_base=s.channel_base,
            channel_max=s.channel_max,
            mbstd_group=s.mbstd_group,
            architecture=s.d_architecture,
            conv_clamp=s.conv_clamp,
        )
        self.register_buffer("pl_mean", torch.zeros(()))  # the path-length target, checkpointed with the model
        # the penalty phases differentiate a gradient: fp32 and uncompiled (Phase.double_backward)
        self.phases = (
            Phase("G", optimizer="G"),
            Phase("G_reg", optimizer="G", every=options.pl_every, double_backward=True),
            Phase("D", optimizer="D", critic=True),
            Phase("D_reg", optimizer="D", every=options.r1_every, double_backward=True),
        )
        if self.settings.pl_weight == 0:
            self.phases = tuple(p for p in self.phases if p.name != "G_reg")

    # -- the engine's questions ------------------------------------------------------------
    def ema_half_life_kimg(self, batch_size: int) -> float:
        """The generator average's half-life (ganzoo.protocols.AveragesOverImages): the row's,
        whatever the batch size (auto's is the row's minibatch x 10 / 32 thousand images, as in
        the reference, where --batch does not change it either)."""
        return self.settings.ema_kimg

    def ema_rampup(self) -> float | None:
        """The EMA ramp-up of the reference's training loop: while fewer than half-life / rampup
        images have been seen, the half-life is images seen x rampup (auto and cifar 0.05);
        None: the full half-life from the first step."""
        return self.settings.ema_rampup

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        lr = self.settings.lr
        lazy = regularization.lazy_adam_settings
        g_lr, g_betas = lazy(lr, BETAS, self.options.pl_every) if self.settings.lazy_g else (lr, BETAS)
        d_lr, d_betas = lazy(lr, BETAS, self.options.r1_every)
        return {
            "G": torch.optim.Adam(self.G.parameters(), lr=g_lr, betas=g_betas, eps=1e-8),
            "D": torch.optim.Adam(self.D.parameters(), lr=d_lr, betas=d_betas, eps=1e-8),
        }

    # -- sampling (ganzoo.protocols.SamplesFromNoise / SamplesConditionally) -------------------
    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.settings.z_dim, generator=generator)

    def sample(
        self, noise: torch.Tensor, labels: torch.Tensor | None = None, truncation: float | None = None
    ) -> torch.Tensor:
        """Images for noise (and labels); ``truncation`` is psi in W towards the average w,
        on the first ``truncation_cutoff`` style layers (all by default). Noise inputs are the
        fixed per-layer ones, so an image depends on its z alone."""
        return self.G(
            noise,
            self._labels(labels),
            truncation_psi=1.0 if truncation is None else truncation,
            truncation_cutoff=self.options.truncation_cutoff or None,
            noise_mode="const",
        )

    def _labels(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        if labels is None:
            raise UsageError("this stylegan2 model is class-conditional: give labels")
        return labels.to(next(self.parameters()).device)

    # -- training ----------------------------------------------------------------------------
    def _discriminate(self, images: torch.Tensor, labels: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        """D's logits on ``images`` through the engine's ADA (when on), then the DiffAugment policy."""
        images = ctx.augment(images)
        return self.D(augment.diff_augment(images, self.augment) if self.augment else images, labels)

    def _styles(self, n: int, labels: torch.Tensor | None, device: torch.device) -> torch.Tensor:
        """w for n random z, with style mixing: a second w from a random layer on, for a share
        ``style_mixing`` of the batch (the paper's regulariser of style locality)."""
        ws = self.G.mapping(torch.randn(n, self.settings.z_dim, device=device), labels, update_w_avg=True)
        if self.settings.style_mixing > 0:
            num_ws = ws.shape[1]
            cutoff = torch.randint(1, num_ws, (), device=device)
            mixed = torch.rand((), device=device) < self.settings.style_mixing
            cutoff = torch.where(mixed, cutoff, torch.full_like(cutoff, num_ws))
            other = self.G.mapping(torch.randn(n, self.settings.z_dim, device=device), labels, update_w_avg=False)
            layer = torch.arange(num_ws, device=device)[None, :, None]
            ws = torch.where(layer < cutoff, ws, other)
        return ws

    def phase_loss(self, phase: Phase, batch, ctx: StepContext) -> PhaseLoss:
        real = batch["image"]
        labels = batch.get("label") if self.num_classes else None
        n = real.shape[0]
        if phase.name == "G":
            fake = self.G.synthesis(self._styles(n, labels, real.device))
            loss = F.softplus(-self._discriminate(fake, labels, ctx)).mean()
            return PhaseLoss(loss, {"loss_G": loss.detach()})
        if phase.name == "G_reg":
            return self._path_length(max(1, n // self.options.pl_batch_shrink), labels, real.device)
        if phase.name == "D":
            # fresh z, through the generator as G's phases left it (the reference's Dmain)
            with torch.no_grad():
                fake = self.G.synthesis(self._styles(n, labels, real.device))
            fake_logits = self._discriminate(fake, labels, ctx)
            real_logits = self._discriminate(real, labels, ctx)
            loss = F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()
            return PhaseLoss(
                loss,
                {"loss_D": loss.detach(), "D(x)": real_logits.detach().mean(), "D(G(z))": fake_logits.detach().mean()},
                real_logits=real_logits,
                fake_logits=fake_logits,
            )
        if phase.name == "D_reg":
            return self._r1(real, labels, ctx)
        raise UnknownPhaseError(self, phase.name)

    def _path_length(self, n: int, labels: torch.Tensor | None, device: torch.device) -> PhaseLoss:
        """Path-length regularisation: |J_w^T y| for random image-space y should stay near its
        running mean, so a step in W moves the image by a fixed amount (the paper's section 3.2)."""
        ws = self._styles(n, labels[:n] if labels is not None else None, device)
        images = self.G.synthesis(ws)
        y = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        (grads,) = torch.autograd.grad((images * y).sum(), ws, create_graph=True)
        lengths = grads.square().sum(2).mean(1).sqrt()
        # the target moves first and the penalty sees it with its gradient, as in the reference
        pl_mean = self.pl_mean.lerp(lengths.mean(), self.options.pl_decay)
        with torch.no_grad():
            self.pl_mean.copy_(pl_mean)
        penalty = (lengths - pl_mean).square().mean()
        loss = penalty * self.settings.pl_weight * self.options.pl_every
        return PhaseLoss(loss, {"pl_penalty": penalty.detach(), "pl_mean": self.pl_mean.detach().clone()})

    def _r1(self, real: torch.Tensor, labels: torch.Tensor | None, ctx: StepContext) -> PhaseLoss:
        """R1: the squared gradient norm of D on real images (Mescheder et al. 2018), weighted by
        gamma / 2 and the lazy interval."""
        gradients = regularization.input_gradients(lambda images: self._discriminate(images, labels, ctx), real)
        penalty = gradients.square().sum(1).mean()
        loss = penalty * (self.settings.gamma / 2) * self.options.r1_every
        return PhaseLoss(loss, {"r1_penalty": penalty.detach()})


class ConditionalStyleGAN2(StyleGAN2):
    """Class-conditional: the label's embedding joins z in the mapping network, and D scores
    images by projection onto the label's code from its own mapping network (an embedding and
    8 layers, as in StyleGAN2-ADA) (ganzoo.protocols.SamplesConditionally)."""

    conditional = True

    def condition(self, n: int, generator: torch.Generator | None = None, choice: int | None = None) -> torch.Tensor:
        """n labels of class ``choice``, or uniformly random classes."""
        return latents.class_labels(n, self.num_classes, generator, choice)
