"""Pix2Pix as a ganzoo recipe: phases D then G on (input, target) pairs.

D sees the input concatenated with either the target or G's output (a conditional GAN), and
its loss is halved, as in the paper, to slow it relative to G. G's loss is the adversarial term
plus lambda_L1 (100) times the L1 distance to the target.

Translation (``translate``, the sample grids' ``preview``) runs G as the paper and the reference
code test it when ``inference`` is ``train``: dropout on and batch normalisation from each
image's own statistics, as the reference's test with batches of 1 does, but a whole batch at
once: every image gets the masks one image draws after seeding with ``inference_seed``, so an
output depends on its input and the seed only, never on the other images of a batch; the
running statistics and every random stream are left as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
        self._masks: dict[tuple[int, ...], list[torch.Tensor]] = {}  # test-time dropout, by image size

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
        return self.inferred(images)

    def inferred(self, source: torch.Tensor) -> torch.Tensor:
        """G's outputs for ``source`` at inference (the model in eval mode), in the mode the
        ``inference`` option names; in training mode, G's plain forward pass."""
        if self.training or self.options.inference == "eval":
            return self.G(source)
        masks = self._test_time_masks(source)
        with _test_time_mode(self.G, masks):
            return self.G(source)

    def _test_time_masks(self, source: torch.Tensor) -> list[torch.Tensor]:
        """The dropout masks (scaled by 1/(1-p)) that one image draws when G runs in train mode
        after ``torch.manual_seed(inference_seed)``, as the reference's batch-1 test does: drawn
        once per image size from a generator of their own, in the order the layers run, and
        shared by every image, so an output depends on its input and the seed only. Kept, so a
        later call (and a graph exported for ONNX) reuses them as constants."""
        key = tuple(source.shape[1:])
        if key not in self._masks:
            generator = torch.Generator().manual_seed(self.options.inference_seed)
            drawn: list[torch.Tensor] = []

            def draw(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
                keep = 1 - float(getattr(module, "p"))  # noqa: B009 (every _DropoutNd has p)
                mask = torch.empty(inputs[0].shape[1:], dtype=torch.float32).bernoulli_(keep, generator=generator)
                drawn.append((mask / keep)[None])

            hooks = [m.register_forward_hook(draw) for m in self.G.modules() if isinstance(m, _DROPOUTS)]
            try:
                with torch.no_grad():  # one image through G in eval mode: only the shapes matter
                    self.G(torch.zeros(1, *key, device=source.device, dtype=source.dtype))
            finally:
                for hook in hooks:
                    hook.remove()
            self._masks[key] = drawn
        return [mask.to(source.device, source.dtype) for mask in self._masks[key]]

    def preview(self, batch) -> torch.Tensor:
        """input | output | target for each example: (N, 3, C, H, W)."""
        source, target = batch[self.source_key], batch[self.target_key]
        output = self.inferred(source)
        return torch.stack([_as(source, output), output, _as(target, output)], dim=1)

    def phase_loss(self, phase: Phase, batch, ctx: StepContext) -> PhaseLoss:
        step = ctx.scratch
        if "fake" not in step:  # once per step: the D phase's pair and output are reused by G
            source, target = batch[self.source_key], batch[self.target_key]
            if self.options.jitter:
                source, target = layers.random_jitter([source, target])
            step["source"], step["target"], step["fake"] = source, target, self.G(source)
        source, target, fake = step["source"], step["target"], step["fake"]
        if phase.name == "D":  # ADA (when on) transforms each input and its pair alike: one tensor
            real_logits = self.D(ctx.augment(torch.cat([source, target], 1)))
            fake_logits = self.D(ctx.augment(torch.cat([source, fake.detach()], 1)))
            loss = 0.5 * self.adversarial.discriminator_loss(real_logits, fake_logits)
            return PhaseLoss(
                loss,
                {
                    "loss_D": loss.detach(),
                    "D(x)": torch.sigmoid(real_logits.detach()).mean(),
                    "D(G(x))": torch.sigmoid(fake_logits.detach()).mean(),
                },
                real_logits=real_logits,
                fake_logits=fake_logits,
            )
        if phase.name != "G":
            raise UnknownPhaseError(self, phase.name)
        adversarial = self.adversarial.generator_loss(self.D(ctx.augment(torch.cat([source, fake], 1))))
        l1 = F.l1_loss(fake, target)
        loss = adversarial + self.options.lambda_l1 * l1
        return PhaseLoss(loss, {"loss_G": loss.detach(), "loss_G_adv": adversarial.detach(), "L1": l1.detach()})


_DROPOUTS = nn.modules.dropout._DropoutNd
#: The batch normalisations that test-time inference runs from each image's own statistics.
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


@contextmanager
def _test_time_mode(network: nn.Module, masks: list[torch.Tensor]) -> Iterator[None]:
    """``network`` as train mode runs it on one image at a time, for a whole batch at once and
    without changing it: each dropout layer multiplies by its fixed mask (``masks``, in the order
    the layers run), and each batch normalisation normalises each image by its own statistics
    (what batch statistics are for a batch of one: an instance normalisation with the layer's
    scale and shift). The layers stay in eval mode, so no running statistic is read or updated
    and a SyncBatchNorm never waits for other processes; the hooks go afterwards."""
    remaining = iter(masks)

    def apply_mask(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
        return inputs[0] * next(remaining)

    def own_statistics(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
        norm: Any = module
        return F.instance_norm(inputs[0], weight=norm.weight, bias=norm.bias, eps=norm.eps)

    hooks = [m.register_forward_hook(apply_mask) for m in network.modules() if isinstance(m, _DROPOUTS)]
    hooks += [m.register_forward_hook(own_statistics) for m in network.modules() if isinstance(m, _BATCH_NORMS)]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


def _as(images: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Grey images shown beside colour ones get three channels."""
    return images.expand(-1, like.shape[1], -1, -1) if images.shape[1] < like.shape[1] else images
