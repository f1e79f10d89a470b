"""Pix2Pix as a ganzoo recipe: phases D then G on (input, target) pairs.

D sees the input concatenated with either the target or G's output (a conditional GAN), and
its loss is halved, as in the paper, to slow it relative to G. G's loss is the adversarial term
plus lambda_L1 (100) times the L1 distance to the target.

Translation (``translate``, the sample grids' ``preview``) runs G as the paper and the reference
code test it when ``inference`` is ``train``: dropout on and batch normalisation from each
image's own statistics, one image at a time (the reference tests with batches of 1), so an
output depends on its input and ``inference_seed`` only, never on the other images of a batch;
the running statistics are left as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
        return self.inferred(images)

    def inferred(self, source: torch.Tensor) -> torch.Tensor:
        """G's outputs for ``source`` at inference (the model in eval mode), in the mode the
        ``inference`` option names; in training mode, G's plain forward pass."""
        if self.training or self.options.inference == "eval":
            return self.G(source)
        with _test_time_mode(self.G):  # entered once per batch; each image seeded alike
            return torch.cat([self._seeded_output(image[None]) for image in source])

    def _seeded_output(self, image: torch.Tensor) -> torch.Tensor:
        with _seeded(image.device, self.options.inference_seed):
            return self.G(image)

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


@contextmanager
def _seeded(device: torch.device, seed: int) -> Iterator[None]:
    """The block draws from the random streams of ``device`` (and the CPU's) seeded with ``seed``;
    afterwards they are as they were."""
    cuda = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda, device_type="cuda"):
        torch.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        yield


#: The batch normalisations whose running statistics test-time inference sets aside.
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


@contextmanager
def _test_time_mode(network: nn.Module) -> Iterator[None]:
    """``network`` as train mode runs it, without changing it: dropout layers in train mode, and
    batch normalisation from the batch's statistics (its running statistics set aside for the
    block, so they are neither read nor updated; the layers stay in eval mode, so a
    SyncBatchNorm never waits for other processes). Afterwards all is as it was."""
    dropouts = [m for m in network.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
    norms = [m for m in network.modules() if isinstance(m, _BATCH_NORMS) and m.running_mean is not None]
    modes = [dropout.training for dropout in dropouts]
    statistics = [(norm.running_mean, norm.running_var) for norm in norms]
    try:
        for dropout in dropouts:
            dropout.train()
        for norm in norms:
            setattr(norm, "running_mean", None)  # noqa: B010 (a buffer set to None, not a typed attribute)
            setattr(norm, "running_var", None)  # noqa: B010
        yield
    finally:
        for dropout, mode in zip(dropouts, modes):
            dropout.train(mode)
        for norm, (mean, var) in zip(norms, statistics):
            setattr(norm, "running_mean", mean)  # noqa: B010
            setattr(norm, "running_var", var)  # noqa: B010


def _as(images: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Grey images shown beside colour ones get three channels."""
    return images.expand(-1, like.shape[1], -1, -1) if images.shape[1] < like.shape[1] else images
