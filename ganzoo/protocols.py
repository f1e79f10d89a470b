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
#: ``inpainting``: "image", "mask", "exemplar". Labelled datasets add ``label`` (int64 ``(N,)``)
#: or ``attributes`` (float ``(N, K)``); the loop passes them through unchanged.
Batch = Mapping[str, "Tensor"]


@dataclass(frozen=True)
class DataInfo:
    """Facts about the training data that a model needs to build its networks."""

    kind: str  # a data kind: images | paired | unpaired | inpainting, or one a plugin's task declares
    channels: int  # channels of every image key (A and B may differ: see channels_b)
    resolution: int  # square side, after preparation
    size: int = 0  # number of training examples
    name: str = ""
    channels_b: int | None = None  # translation targets with a different channel count
    #: Class names; batches then hold ``label`` (int64 indices into this tuple).
    classes: tuple[str, ...] = ()
    #: Attribute names; batches then hold ``attributes`` (float ``(N, len(attributes))``, 0 or 1).
    attributes: tuple[str, ...] = ()

    def __post_init__(self):  # config.json gives lists back
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "attributes", tuple(self.attributes))

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def num_attributes(self) -> int:
        return len(self.attributes)


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


@dataclass(frozen=True)
class Phase:
    """One gradient step of a training step, declared as data (read by the loop, never probed).

    At training step ``s`` (counted from 0) the loop runs the phase when ``s % every == 0``:
    it zeroes the gradients of ``optimizer``'s parameters, back-propagates the phase's loss into
    them only, and steps that optimizer. Phases run in their declared order; two phases may
    step the same optimizer (StyleGAN2's lazy R1 is ``Phase("D_reg", optimizer="D", every=16)``).
    """

    name: str
    optimizer: str  # a key of configure_optimizers()
    every: int = 1  # runs at the steps divisible by this (lazy regularisation: 4, 16, ...)
    fresh_batch: bool = False  # draws its own batch instead of the one the step's phases share
    critic: bool = False  # repeated --d-steps times per step, each repeat on a fresh batch and scratch
    #: The loss differentiates through a gradient (a lazy R1 or path-length phase): under
    #: ``--compile`` the phase runs the networks uncompiled, and outside autocast (fp32). A penalty
    #: inside an ordinary phase gets the same through ``ganzoo.regularization.double_backward()``.
    double_backward: bool = False

    def __post_init__(self):
        if not self.name or not self.optimizer:
            raise ValueError("a Phase needs a name and an optimizer")
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"Phase {self.name!r}: every must be a positive integer, got {self.every!r}")

    def runs_at(self, step: int) -> bool:
        return step % self.every == 0


@dataclass
class StepContext:
    """What ``phase_loss`` learns about the training step it is part of."""

    step: int  # the index of this training step, from 0 (a phase with every=N runs when step % N == 0)
    #: Shared by the phases of this step only (e.g. the fakes the D phase made, reused by G);
    #: empty at the start of every step and of every --d-steps repeat.
    scratch: dict[str, Any] = field(default_factory=dict)
    repeat: int = 0  # which --d-steps repeat of a critic phase this is (0 for the others)
    #: Images in the step's whole batch: every process's share and every --accumulate micro-batch
    #: (``batch`` holds fewer under torchrun or --accumulate). For settings defined per batch.
    batch_size: int = 0


@runtime_checkable
class GANModel(Protocol):
    """A recipe: networks + optimizers + "the loss for this phase on this batch".

    Implementations are ``torch.nn.Module`` subclasses built as ``Cls(options, data)`` where
    ``options`` is the model's options dataclass and ``data`` a :class:`DataInfo`; their
    submodules are the networks, so ``state_dict()`` is the checkpoint of the weights.
    """

    #: The training phases in order: (Phase("D", "D", critic=True), Phase("G", "G")) for DCGAN.
    phases: ClassVar[tuple[Phase, ...]]
    #: Submodule names used at inference (the generators); the loop keeps EMA copies of them.
    inference_networks: ClassVar[tuple[str, ...]]

    def configure_optimizers(self) -> dict[str, "torch.optim.Optimizer"]:
        """The optimizers the phases name, created after the model is on its device."""

    def phase_loss(self, phase: Phase, batch: Batch, ctx: StepContext) -> PhaseLoss:
        """The loss of ``phase`` on ``batch`` at step ``ctx.step``."""


# -- optional capabilities: the loop and the CLI check these with isinstance ---------------


@runtime_checkable
class SamplesFromNoise(Protocol):
    """Models that draw images from noise (``inference=("sample",)``). Sampling belongs to the
    model: it decides what ``truncation`` means (a Gaussian-noise model redraws large
    components; a W-space model interpolates towards its average W)."""

    def noise(self, n: int, generator: "torch.Generator") -> "Tensor":
        """Latent codes for ``n`` samples drawn from ``generator`` (on the CPU)."""

    def sample(self, noise: "Tensor", labels: "Tensor | None" = None, truncation: float | None = None) -> "Tensor":
        """Images in [-1, 1] for the given latent codes (and conditions, for conditional models)."""


@runtime_checkable
class SamplesConditionally(Protocol):
    """Conditional models (task ``class-conditional``): ``sample`` needs ``labels``. The choices
    are the run's ``DataInfo.classes`` (int64 labels) or ``DataInfo.attributes`` (float rows)."""

    def condition(self, n: int, generator: "torch.Generator", choice: int | None = None) -> "Tensor":
        """Conditions for ``n`` samples: all of class (or with attribute) ``choice``, an index
        into the choices, or drawn at random like the training data when None (on the CPU)."""


@runtime_checkable
class PreviewsExamples(Protocol):
    """Models whose training sample grids show fixed held-out examples (translation models)."""

    def preview(self, batch: Batch) -> "Tensor":
        """``(N, columns, C, H, W)`` images in [-1, 1]: e.g. input | output | target per example."""


@runtime_checkable
class OrdersItsData(Protocol):
    """Datasets whose batches are not one shuffled index list (unpaired domains): they give the
    loop an order object with ``next()``, ``epoch``, ``batches_per_epoch`` and state dicts."""

    def make_order(self, batch_size: int, seed: int) -> Any: ...


@runtime_checkable
class GathersRows(Protocol):
    """Datasets whose ``batch(indices)`` only gathers rows of arrays (no decoding, no random
    draws): the loop may upload them to the training device once (``--data-on-device``) and
    gather the next batch in the background while a step runs, without changing any result."""

    def nbytes(self) -> int:
        """Bytes of the arrays a copy on the device would hold."""

    def to_device(self, device: "torch.device") -> "GathersRows":
        """The same dataset with every array on ``device`` (batches are gathered there)."""


@runtime_checkable
class Translates(Protocol):
    """Inference of translation models (``inference=("translate",)``)."""

    def translate(self, images: "Tensor", direction: str = "a2b") -> "Tensor": ...


@runtime_checkable
class AveragesOverImages(Protocol):
    """A model whose generator average is defined by a half-life in images (StyleGAN's "EMA
    kimg"): without ``--ema-decay`` the loop uses decay = 0.5 ** (batch / (1000 x kimg)), so
    the average spans the same number of images whatever the batch size."""

    def ema_half_life_kimg(self, batch_size: int) -> float:
        """The half-life, in thousands of images, for training at ``batch_size``."""


@runtime_checkable
class Inpaints(Protocol):
    """Inference of inpainting models (``inference=("inpaint",)``)."""

    #: Whether ``inpaint`` needs an exemplar per image (False: ``exemplars`` may be None).
    needs_exemplar: bool

    def inpaint(self, images: "Tensor", masks: "Tensor", exemplars: "Tensor | None") -> "Tensor":
        """Images in [-1, 1] with their holes (masks: 1) filled; every other pixel unchanged."""
