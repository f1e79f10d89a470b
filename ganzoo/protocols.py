"""The contracts between the ganzoo core and its plugins. Read this file first.

A *model* (a recipe) owns its networks, its optimizers and its loss maths. The training loop
owns everything else: devices, data order, gradient steps, budgets, logging, samples and
checkpoints. The loop only ever calls the methods declared on :class:`GANModel`.

Tensors crossing these contracts are ``(N, C, H, W)`` images scaled to ``[-1, 1]`` (masks to
``[0, 1]``), on the model's device.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from ganzoo.errors import PluginError

if TYPE_CHECKING:  # torch is imported lazily so that listing plugins stays fast
    import torch
    from torch import Tensor

T = TypeVar("T")

Batch = Mapping[str, "Tensor"]
"""A batch maps names to tensors: the keys its task's :class:`BatchSchema` declares (``ganzoo info
TASK`` lists them), plus ``label`` or ``attributes`` from a labelled dataset. Datasets yield them
as stored (uint8 images and masks); the loop hands the model floats on its device, images in
[-1, 1] and masks in [0, 1], with labels and attributes unchanged (:data:`KEY_KINDS`)."""


@dataclass(frozen=True)
class DataInfo:
    """Facts about the training data that a model needs to build its networks."""

    kind: str
    """A data kind: images | paired | unpaired | inpainting, or one a plugin's task declares."""
    channels: int
    """Channels of every image key (A and B may differ: see channels_b)."""
    resolution: int
    """Square side, after preparation."""
    size: int = 0
    """Number of training examples."""
    name: str = ""
    """The dataset's registry name."""
    channels_b: int | None = None
    """Translation targets with a different channel count."""
    classes: tuple[str, ...] = ()
    """Class names; batches then hold ``label`` (int64 indices into this tuple)."""
    attributes: tuple[str, ...] = ()
    """Attribute names; batches then hold ``attributes`` (float ``(N, len(attributes))``, 0 or 1)."""

    def __post_init__(self):  # config.json gives lists back
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "attributes", tuple(self.attributes))

    @property
    def num_classes(self) -> int:
        """How many classes: 0 for unlabelled data."""
        return len(self.classes)

    @property
    def num_attributes(self) -> int:
        """How many attributes: 0 for data without them."""
        return len(self.attributes)


# -- batches: what each task's data holds, declared once --------------------------------------

#: The kinds of batch entry: how a dataset stores one, and what the model receives (on its
#: device, same shape). ``N`` is the batch size, ``C`` the image's channels, ``S`` the data's
#: square resolution, ``K`` the number of attributes.
KEY_KINDS: dict[str, tuple[str, str]] = {
    "image": ("uint8 (N, C, S, S) in [0, 255]", "float in [-1, 1]"),
    "mask": ("uint8 (N, 1, S, S): 255 = hole, 0 = kept", "float: 1 = hole, 0 = kept"),
    "label": ("int64 (N,): indices into DataInfo.classes", "unchanged"),
    "attributes": ("float32 (N, K): 1 where the example has DataInfo.attributes[k], else 0", "unchanged"),
}


@dataclass(frozen=True)
class BatchKey:
    """One tensor of every batch: its name and its kind (a key of :data:`KEY_KINDS`), which fix its
    dtype, shape and range. An image has the data's ``channels`` (or, with
    ``channels="channels_b"``, a translation target's ``DataInfo.channels_b`` where that differs)."""

    name: str
    """The key in the batch dict."""
    kind: str = "image"
    """``image``, ``mask``, ``label`` or ``attributes`` (tasks declare images and masks only)."""
    channels: str = "channels"
    """The DataInfo field that gives an image's C: ``channels``, or ``channels_b`` for a target."""
    summary: str = ""
    """What it shows, for the docs and ``ganzoo info TASK``."""

    def __post_init__(self):
        if not self.name or self.kind not in KEY_KINDS or self.channels not in ("channels", "channels_b"):
            raise ValueError(
                f"BatchKey {self.name!r}: needs a name, a kind among {', '.join(KEY_KINDS)} (got "
                f"{self.kind!r}) and channels 'channels' or 'channels_b' (got {self.channels!r})"
            )

    def shape(self, info: DataInfo, n: int) -> tuple[int, ...]:
        """The shape of this key's tensor in a batch of ``n`` examples of data described by ``info``."""
        side = info.resolution
        if self.kind == "image":
            channels = (info.channels_b or info.channels) if self.channels == "channels_b" else info.channels
            return (n, channels, side, side)
        if self.kind == "mask":
            return (n, 1, side, side)
        return (n,) if self.kind == "label" else (n, info.num_attributes)

    def describe(self) -> str:
        """One line: its name, what it shows, how it is stored and what the model gets."""
        stored, model = KEY_KINDS[self.kind]
        return f"{self.name}" + (f" ({self.summary})" if self.summary else "") + f": {stored}; model: {model}"


#: Added to every batch of a dataset with classes (``DataInfo.classes``), whatever its task.
LABEL = BatchKey("label", kind="label", summary="the class of each example")
#: Added to every batch of a dataset with attributes (``DataInfo.attributes``), whatever its task.
ATTRIBUTES = BatchKey("attributes", kind="attributes", summary="which attributes each example has")


@dataclass(frozen=True)
class BatchSchema:
    """The keys every batch of a task's data holds, declared once on its ``TaskSpec``: the loop
    converts by it (which keys are masks), ``ganzoo bench`` makes random batches of any model
    from it, evaluation reads the real images by it, and ``ganzoo info TASK`` shows it. ``label``
    and ``attributes`` are not declared here: any labelled dataset adds them (:meth:`keys_for`)."""

    keys: tuple[BatchKey, ...]
    """The task's keys, in order; the first image key is what sampling models imitate."""

    def __post_init__(self):
        object.__setattr__(self, "keys", tuple(self.keys))
        names = [key.name for key in self.keys]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"a BatchSchema needs keys with distinct names, got {names}")
        if any(key.kind in ("label", "attributes") for key in self.keys):
            raise ValueError("a BatchSchema declares no label or attributes key: labelled datasets add them")

    def keys_for(self, info: DataInfo) -> tuple[BatchKey, ...]:
        """The keys of a batch of data described by ``info``: the task's, then its labels if any."""
        return self.keys + ((LABEL,) if info.classes else ()) + ((ATTRIBUTES,) if info.attributes else ())

    @property
    def images(self) -> tuple[str, ...]:
        """The names of the image keys, in declared order (the first is what sampling models imitate)."""
        return tuple(key.name for key in self.keys if key.kind == "image")

    @property
    def masks(self) -> frozenset[str]:
        """The names of the mask keys: stored 0/255, handed to the model as 0/1."""
        return frozenset(key.name for key in self.keys if key.kind == "mask")


@runtime_checkable
class Dataset(Protocol):
    """Random access to prepared examples, so the loop controls (and can restore) the order: what
    ``DatasetSpec.load`` returns (checked when it is loaded)."""

    info: DataInfo
    """What the model is built for: data kind, channels, resolution, size, class names."""

    def __len__(self) -> int: ...

    def batch(self, indices: Sequence[int]) -> dict[str, Tensor]:
        """The examples at ``indices``: the keys of its task's :class:`BatchSchema` (and labels), stored
        as :data:`KEY_KINDS` says (uint8 images of shape ``(len(indices), C, S, S)``...)."""


class Generator(Protocol):
    """Maps noise (or an input image, or masked image + mask + exemplar) to images in [-1, 1]."""

    def __call__(self, *inputs: Tensor) -> Tensor: ...


class Discriminator(Protocol):
    """Maps images (optionally concatenated with their condition) to real/fake logits."""

    def __call__(self, images: Tensor) -> Tensor: ...


@runtime_checkable
class Loss(Protocol):
    """An adversarial loss on raw logits (never on probabilities): what ``create_loss(name, ...)``
    returns, checked when it is built.

    ``LossSpec.build`` is called with keywords only, each 0.0 unless the model's options set it:
    ``label_smoothing`` (real targets 1 - s), ``label_noise`` (the share of targets flipped) and
    ``r1_gamma`` (the weight of an R1 penalty on real images, which :meth:`penalty` adds). Accept
    all three; a loss that cannot honour a non-zero value raises ``UsageError`` saying so. A model
    may call every method (DCGAN does), so a loss written like this works with all of them::

        class MyLoss:
            def __init__(self, label_smoothing=0.0, label_noise=0.0, r1_gamma=0.0):
                if label_smoothing or label_noise or r1_gamma:
                    raise UsageError("loss 'mine' has no labels and no penalty")

            def discriminator_loss(self, real_logits, fake_logits):
                return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

            def generator_loss(self, fake_logits):
                return F.softplus(-fake_logits).mean()

            def penalty(self, critic, real, fake):
                return None
    """

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """The discriminator's loss (a scalar, the mean over the batch) from its logits on real and
        generated images."""

    def generator_loss(self, fake_logits: Tensor) -> Tensor:
        """The generator's loss (a scalar) from the discriminator's logits on generated images."""

    def penalty(self, critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor | None:
        """A gradient penalty (a scalar) to add to the discriminator's loss, or None for none.
        ``critic`` maps images to logits (the model's discriminator, with its conditions and
        augmentation); ``real`` and ``fake`` are the batch's images (differentiate through
        ``ganzoo.plugin.regularization.input_gradients``)."""


@dataclass
class PhaseLoss:
    """What a model answers for one phase on one batch."""

    loss: Tensor
    """The scalar the loop back-propagates into the phase's optimizer's parameters."""
    logs: dict[str, Tensor] = field(default_factory=dict)
    """Detached scalars by name (``loss_D``, ``D(x)``...), which the loop averages and records;
    they stay on the device until a log line is due (never synchronised on every step)."""
    real_logits: Tensor | None = None
    """Critic phases: D's raw outputs on this batch's real images (as the loss saw them: augmented,
    with their graph). The engine's ADA tunes its probability from their signs and LeCam
    regularises them; a model that leaves them out cannot train with ``--augment ada`` or ``--lecam``.
    A relativistic critic, whose outputs' level is arbitrary, gives its paired differences
    D(x) - D(G(z)) here and their negatives as ``fake_logits`` (R3GAN)."""
    fake_logits: Tensor | None = None
    """Critic phases: D's raw outputs on this batch's generated images, with their graph (LeCam)."""


@dataclass(frozen=True)
class Phase:
    """One gradient step of a training step, declared as data (read by the loop, never probed).

    At training step ``s`` (counted from 0) the loop runs the phase when ``s % every == 0``:
    it zeroes the gradients of ``optimizer``'s parameters, back-propagates the phase's loss into
    them only, and steps that optimizer. Phases run in their declared order; two phases may
    step the same optimizer (StyleGAN2's lazy R1 is ``Phase("D_reg", optimizer="D", every=16)``).
    """

    name: str
    """What ``phase_loss`` is asked for, and the prefix of nothing: logs are named by the model."""
    optimizer: str
    """The key of ``configure_optimizers()`` whose optimizer this phase steps."""
    every: int = 1
    """Runs at the steps divisible by this (lazy regularisation: 4, 16, ...)."""
    fresh_batch: bool = False
    """Draws its own batch instead of the one the step's phases share."""
    critic: bool = False
    """Repeated --d-steps times per step, each repeat on a fresh batch and scratch."""
    double_backward: bool = False
    """The loss differentiates through a gradient (a lazy R1 or path-length phase): under ``--compile`` the phase runs the networks uncompiled, and outside autocast (fp32). A penalty inside an ordinary phase gets the same through ``ganzoo.regularization.double_backward()``."""

    def __post_init__(self):
        if not self.name or not self.optimizer:
            raise ValueError("a Phase needs a name and an optimizer")
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"Phase {self.name!r}: every must be a positive integer, got {self.every!r}")

    def runs_at(self, step: int) -> bool:
        """Whether the phase runs at training step ``step`` (from 0)."""
        return step % self.every == 0


@dataclass
class StepContext:
    """What ``phase_loss`` learns about the training step it is part of."""

    step: int
    """The index of this training step, from 0 (a phase with every=N runs when step % N == 0)."""
    scratch: dict[str, Any] = field(default_factory=dict)
    """Shared by the phases of this step only (e.g. the fakes the D phase made, reused by G); empty at the start of every step and of every --d-steps repeat."""
    repeat: int = 0
    """Which --d-steps repeat of a critic phase this is (0 for the others)."""
    batch_size: int = 0
    """Images in the step's whole batch: every process's share and every --accumulate micro-batch (``batch`` holds fewer under torchrun or --accumulate). For settings defined per batch."""
    augment: Callable[[Tensor], Tensor] = field(default=lambda images: images)
    """The engine's augmentation of the discriminator's inputs (``--augment ada``; the images
    themselves when off): call it on every batch of images D sees, real or generated, in every
    phase (G's too), so D never tells the two apart by the augmentation."""


@runtime_checkable
class GANModel(Protocol):
    """A recipe: networks + optimizers + "the loss for this phase on this batch".

    Implementations are ``torch.nn.Module`` subclasses built as ``Cls(options, data)`` where
    ``options`` is the model's options dataclass and ``data`` a :class:`DataInfo`; their
    submodules are the networks, so ``state_dict()`` is the checkpoint of the weights.
    """

    phases: ClassVar[tuple[Phase, ...]]
    """The training phases in order: (Phase("D", "D", critic=True), Phase("G", "G")) for DCGAN."""
    inference_networks: ClassVar[tuple[str, ...]]
    """Submodule names used at inference (the generators); the loop keeps EMA copies of them."""

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimizers the phases name, created after the model is on its device."""

    def phase_loss(self, phase: Phase, batch: Batch, ctx: StepContext) -> PhaseLoss:
        """The loss of ``phase`` on ``batch`` at step ``ctx.step``."""


# -- optional capabilities: the loop and the CLI check these with isinstance ---------------
# A capability is declared once, by implementing its protocol on the recipe class; nothing on
# the ModelSpec repeats it. What a model offers at inference (generate, translate, inpaint) is
# therefore known once a command has built the model, which every such command does anyway.


@runtime_checkable
class SamplesFromNoise(Protocol):
    """Models that draw images from noise (``ganzoo generate``, ``interpolate``, ``eval``).
    Sampling belongs to the model: it decides what ``truncation`` means (a Gaussian-noise model
    redraws large components; a W-space model interpolates towards its average W), and says
    that it honours one by also implementing :class:`Truncates`."""

    def noise(self, n: int, generator: torch.Generator) -> Tensor:
        """Latent codes for ``n`` samples drawn from ``generator`` (on the CPU)."""

    def sample(self, noise: Tensor, labels: Tensor | None = None, truncation: float | None = None) -> Tensor:
        """Images in [-1, 1] for the given latent codes (and conditions, for conditional models)."""


@runtime_checkable
class Truncates(Protocol):
    """Sampling models whose ``sample(..., truncation=T)`` honours ``T > 0`` (``generate
    --truncation``, ``Run.generate(truncation=)``); for any other model the option is refused
    rather than silently ignored."""

    truncation_effect: ClassVar[str]
    """What ``T`` does, in a few words: "draws each noise component within ±T"."""


@runtime_checkable
class SamplesConditionally(Protocol):
    """Conditional models (task ``class-conditional``): ``sample`` needs ``labels``. The choices
    are the run's ``DataInfo.classes`` (int64 labels) or ``DataInfo.attributes`` (float rows)."""

    def condition(self, n: int, generator: torch.Generator, choice: int | None = None) -> Tensor:
        """Conditions for ``n`` samples: all of class (or with attribute) ``choice``, an index
        into the choices, or drawn at random like the training data when None (on the CPU)."""


@runtime_checkable
class PreviewsExamples(Protocol):
    """Models whose training sample grids show fixed held-out examples (translation models)."""

    def preview(self, batch: Batch) -> Tensor:
        """``(N, columns, C, H, W)`` images in [-1, 1]: e.g. input | output | target per example."""


@runtime_checkable
class OrdersItsData(Protocol):
    """Datasets whose batches are not one shuffled index list (unpaired domains): they give the
    loop an order object with ``next()``, ``epoch``, ``batches_per_epoch`` and state dicts."""

    def make_order(self, batch_size: int, seed: int) -> Any:
        """The seeded order of batches for ``batch_size``, restorable from its state dict."""


@runtime_checkable
class GathersRows(Protocol):
    """Datasets whose ``batch(indices)`` only gathers rows of arrays (no decoding, no random
    draws): the loop may upload them to the training device once (``--data-on-device``) and
    gather the next batch in the background while a step runs, without changing any result."""

    def nbytes(self) -> int:
        """Bytes of the arrays a copy on the device would hold."""

    def to_device(self, device: torch.device) -> GathersRows:
        """The same dataset with every array on ``device`` (batches are gathered there)."""


@runtime_checkable
class ReadsPreparedCache(Protocol):
    """Datasets decoded once into ganzoo's prepared cache (``ganzoo data prepare``; the datakit's
    image datasets): the cache's manifest identifies their source files, so checkpoints and
    cached real statistics can tell when the files changed."""

    manifest: dict[str, Any]
    """``fingerprint`` (of the source files and the preparation settings), ``count``, ``seconds``,
    ``skipped_count`` and ``skipped`` (file and reason per skipped file)."""
    cache_path: Path
    """The cache folder."""
    cache_built: bool
    """Whether opening the dataset prepared it (False: it was up to date)."""


@runtime_checkable
class Translates(Protocol):
    """Translation models (``ganzoo translate``, ``eval``): images of one domain to the other."""

    directions: tuple[str, ...]
    """The directions ``translate`` takes, its default first: ``("a2b",)`` for a one-way model
    (evaluated on that direction), ``("a2b", "b2a")`` for a two-way one (evaluated on both)."""

    def translate(self, images: Tensor, direction: str = "a2b") -> Tensor:
        """Images in [-1, 1] translated in ``direction`` (one of :attr:`directions`)."""


@runtime_checkable
class AveragesOverImages(Protocol):
    """A model whose generator average is defined by a half-life in images (StyleGAN's "EMA
    kimg"), as its reference implementation averages: without ``--ema-decay`` the loop keeps
    beta = 0.5 ** (batch / (1000 x kimg)) of the average at each step, so it spans the same
    number of images whatever the batch size, with no other warm-up."""

    def ema_half_life_kimg(self, batch_size: int) -> float:
        """The half-life, in thousands of images, for training at ``batch_size``."""

    def ema_rampup(self) -> float | None:
        """None, or r: the half-life is at most r x the images seen so far (StyleGAN2-ADA's
        ``ema_rampup``, 0.05 in its ``auto`` and ``cifar`` configurations), so the average of a
        young run covers recent weights only."""


@runtime_checkable
class DecaysItsLearningRate(Protocol):
    """A model whose learning rate follows its own schedule in images seen (R3GAN's cosine
    decay over a horizon in kimg): the loop multiplies every optimizer's rate by
    ``lr_factor(images)`` at each step, on top of ``--lr-schedule``. A pure function of the
    images seen, so a resumed run follows the same rates."""

    def lr_factor(self, images_seen: int) -> float:
        """The factor on the optimizers' initial learning rates after ``images_seen`` images."""


@runtime_checkable
class Inpaints(Protocol):
    """Inpainting models (``ganzoo inpaint``, ``eval``): fill the holes of masked images."""

    needs_exemplar: bool
    """Whether ``inpaint`` needs an exemplar per image (False: ``exemplars`` may be None)."""

    def inpaint(self, images: Tensor, masks: Tensor, exemplars: Tensor | None) -> Tensor:
        """Images in [-1, 1] with their holes (masks: 1) filled; every other pixel unchanged."""


# -- evaluation: metrics and the feature extractors they compare through ---------------------


@runtime_checkable
class Metric(Protocol):
    """An evaluation metric: what ``MetricSpec.build()`` (kind ``metric``, called with no
    arguments) returns, checked when it is built. It declares which way is better and whether
    it reads logits; the evaluator asks nothing else of it::

        class Sharpness:
            higher_is_better = True
            needs_logits = False

            def __call__(self, real, fake, fake_logits):
                return {"sharpness": float(fake.std(0).mean() / real.std(0).mean())}
    """

    higher_is_better: bool
    """True when larger values are better (IS, precision), False when smaller are (FID, KID):
    ``train --eval-every`` keeps as best.safetensors the checkpoint it ranks best, and the
    inpainting evaluation's ``exemplar_gain_*`` values are positive when the right exemplar helps."""
    needs_logits: bool
    """Whether it reads ``fake_logits``: the evaluator has the extractor compute logits only then."""

    def __call__(self, real: Tensor, fake: Tensor, fake_logits: Tensor | None) -> dict[str, float]:
        """Named values from the features ``(N, D)`` of real and of generated images (and the
        generated images' logits ``(M, K)``, or None when :attr:`needs_logits` is False). One
        value is named as the metric is registered (``fid``): that one ranks checkpoints;
        ``<name>_std`` values are spreads. Two-way models get each value per direction."""


@runtime_checkable
class FeatureExtractor(Protocol):
    """A network mapping images to the features metrics compare: what ``MetricSpec.build(weights=
    PATH or None)`` (kind ``feature-extractor``) returns, checked when it is built. It takes
    uint8 ``(N, C, H, W)`` images of any size with 1 or 3 channels (resizing and converting them
    itself, so every model's samples go in as they are). A ``torch.nn.Module`` with the members
    below conforms (``to`` and ``eval`` are the module's)."""

    name: str
    """A short name, part of the file names of cached real statistics."""
    key: str
    """Everything that changes its numbers (weights, resize): the real statistics' cache key."""

    def features(self, images: Tensor) -> Tensor:
        """Features ``(N, D)`` of uint8 images."""

    def logits(self, images: Tensor) -> Tensor:
        """Class scores ``(N, K)`` of uint8 images, for metrics that need logits (the Inception Score)."""

    def to(self, device: torch.device) -> Any:
        """Itself on ``device``."""

    def eval(self) -> Any:
        """Itself in inference mode."""


# -- loggers -----------------------------------------------------------------------------------


class Logger(Protocol):
    """What ``LoggerSpec.build(run)`` returns for a run that asked for it (``train --logger
    NAME``): an object whose methods, each marked ``@ganzoo.plugin.hookimpl``, implement any of
    the lifecycle hooks below for that run only. Every method is optional and may take any
    subset of its hook's arguments (pluggy checks them against the hook when the logger is
    registered), which is why this protocol documents rather than checks: no ``isinstance``
    test can tell a logger from an object that implements none of the hooks."""

    def on_train_start(self, run: Any, step: int) -> None:
        """Training starts (``step`` 0) or resumes from ``step``: anything logged after it is redone."""

    def on_log(self, run: Any, step: int, scalars: dict[str, float]) -> None:
        """A log line: each logged value's mean since the previous one."""

    def on_sample(self, run: Any, step: int, path: Path, grid: Tensor) -> None:
        """A sample grid was written to ``path``; ``grid`` is it as a uint8 ``(C, H, W)`` tensor."""

    def on_evaluate(self, run: Any, step: int, results: dict[str, float]) -> None:
        """An evaluation of ``--eval-every`` finished."""

    def on_checkpoint(self, run: Any, step: int, path: Path) -> None:
        """A checkpoint was written."""

    def on_train_end(self, run: Any, step: int, status: str) -> None:
        """Training stopped (``finished``, ``interrupted``, ``diverged`` or ``failed``): close files here."""


# -- reading capabilities, checking contracts ---------------------------------------------------

#: The inference each capability gives, by the name commands, errors and config.json use.
INFERENCE: dict[str, type] = {"sample": SamplesFromNoise, "translate": Translates, "inpaint": Inpaints}


def inference_kinds(model: object) -> tuple[str, ...]:
    """What a built model offers at inference (``("sample",)``...), read from its capabilities."""
    return tuple(kind for kind, capability in INFERENCE.items() if isinstance(model, capability))


def protocol_members(protocol: type) -> list[str]:
    """The attributes and methods a protocol declares (its own and its bases'), in declared order."""
    members: list[str] = []
    for base in reversed(protocol.__mro__):
        if base in (object, Protocol, Generic):
            continue
        declared = vars(base)
        own_methods = [
            name
            for name, value in declared.items()
            if inspect.isfunction(value) and value.__qualname__ == f"{base.__qualname__}.{name}"
        ]
        for name in [*declared.get("__annotations__", {}), *own_methods]:
            if name not in members:
                members.append(name)
    return members


def conforming(obj: T, protocol: type, owner: str) -> T:
    """``obj`` when it implements ``protocol``; else a one-line PluginError naming ``owner`` (the
    plugin entry that made it, e.g. "metric 'sharp' of plugin my_metrics") and what it lacks."""
    if isinstance(obj, protocol):
        return obj
    present = set(dir(obj))
    lacks = [name for name in protocol_members(protocol) if name not in present]
    raise PluginError(
        f"{owner}: its {type(obj).__name__} does not implement ganzoo.plugin.{protocol.__name__}"
        + (f" (it lacks {', '.join(lacks)})" if lacks else "")
    )
