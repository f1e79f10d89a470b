"""The contracts between the ganzoo core and its plugins. Read this file first.

A *model* (a recipe) owns its networks, its optimizers and its loss maths. The training loop
owns everything else: devices, data order, gradient steps, budgets, logging, samples and
checkpoints. The loop only ever calls the methods declared on :class:`GANModel`.

Tensors crossing these contracts are ``(N, C, H, W)`` images scaled to ``[-1, 1]`` (masks to
``[0, 1]``), on the model's device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:  # torch is imported lazily so that listing plugins stays fast
    import torch
    from torch import Tensor

#: A batch maps names to tensors. Datasets yield uint8 ``(N, C, H, W)``; the loop hands the
#: model floats in [-1, 1] (keys ending in ``mask``: [0, 1]). Keys by data kind:
#: ``images``: "image"; ``paired``: "A", "B"; ``unpaired``: "A", "B" (independent draws);
#: ``inpainting``: "image", "mask", "exemplar".
Batch = Mapping[str, "Tensor"]


@dataclass(frozen=True)
class DataInfo:
    """Facts about the training data that a model needs to build its networks."""

    kind: str  # images | paired | unpaired | inpainting
    channels: int  # channels of every image key (A and B may differ: see channels_b)
    resolution: int  # square side, after preparation
    size: int = 0  # number of training examples
    name: str = ""
    channels_b: int | None = None  # translation targets with a different channel count


@runtime_checkable
class Dataset(Protocol):
    """Random access to prepared examples, so the loop controls (and can restore) the order."""

    info: DataInfo

    def __len__(self) -> int: ...

    def batch(self, indices: Sequence[int]) -> dict[str, "Tensor"]:
        """uint8 ``(len(indices), C, H, W)`` tensors keyed as described for :data:`Batch`."""


class Generator(Protocol):
    """Maps noise (or an input image, or masked image + mask + exemplar) to images in [-1, 1]."""

    def __call__(self, *inputs: "Tensor") -> "Tensor": ...


class Discriminator(Protocol):
    """Maps images (optionally concatenated with their condition) to real/fake logits."""

    def __call__(self, images: "Tensor") -> "Tensor": ...


class Loss(Protocol):
    """An adversarial loss on raw logits (never on probabilities)."""

    def discriminator_loss(self, real_logits: "Tensor", fake_logits: "Tensor") -> "Tensor": ...

    def generator_loss(self, fake_logits: "Tensor") -> "Tensor": ...

    def penalty(self, critic: Callable[["Tensor"], "Tensor"], real: "Tensor", fake: "Tensor") -> "Tensor | None":
        """A gradient penalty to add to the discriminator's loss (R1, WGAN-GP), or None."""


@dataclass
class PhaseLoss:
    """What a model answers for one phase on one batch.

    ``loss`` is what the loop back-propagates into the phase's optimizer; ``logs`` are detached
    scalars the loop averages and records (never synchronised with the host on every step).
    """

    loss: "Tensor"
    logs: dict[str, "Tensor"] = field(default_factory=dict)


@runtime_checkable
class GANModel(Protocol):
    """A recipe: networks + optimizers + "the loss for this phase on this batch".

    Implementations are ``torch.nn.Module`` subclasses built as ``Cls(options, data)`` where
    ``options`` is the model's options dataclass and ``data`` a :class:`DataInfo`; their
    submodules are the networks, so ``state_dict()`` is the checkpoint of the weights.
    """

    #: The training phases in order, each stepping one optimizer: ("D", "G") for DCGAN.
    phases: ClassVar[tuple[str, ...]]
    #: Submodule names used at inference (the generators); the loop keeps EMA copies of them.
    inference_networks: ClassVar[tuple[str, ...]]

    def configure_optimizers(self) -> dict[str, "torch.optim.Optimizer"]:
        """One optimizer per phase, created after the model is on its device."""

    def phase_loss(self, phase: str, batch: Batch, step: dict[str, Any]) -> PhaseLoss:
        """The loss of ``phase`` on ``batch``.

        ``step`` is a scratch dict shared by the phases of one training step (e.g. the fakes the
        D phase generated, reused by the G phase); it is empty at the start of every step.
        """


@runtime_checkable
class SamplesFromNoise(Protocol):
    """Inference of unconditional models (``inference=("sample",)``)."""

    def noise(self, n: int, generator: "torch.Generator") -> "Tensor":
        """Latent codes for ``n`` samples drawn from ``generator`` (on the CPU)."""

    def sample(self, noise: "Tensor") -> "Tensor":
        """Images in [-1, 1] for the given latent codes."""


@runtime_checkable
class Translates(Protocol):
    """Inference of translation models (``inference=("translate",)``)."""

    def translate(self, images: "Tensor", direction: str = "a2b") -> "Tensor": ...


@runtime_checkable
class Inpaints(Protocol):
    """Inference of inpainting models (``inference=("inpaint",)``)."""

    def inpaint(self, images: "Tensor", masks: "Tensor", exemplars: "Tensor") -> "Tensor": ...

