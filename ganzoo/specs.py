"""What a plugin registers: small, import-free descriptions with lazy references.

A reference such as ``"ganzoo_dcgan.recipe:DCGAN"`` is imported only when the entry is used,
so registering (and ``ganzoo list``) stays cheap: no torch, no networks, no downloads.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganzoo.errors import PluginError
from ganzoo.protocols import BatchSchema, conforming

NAME_PATTERN = r"[a-z0-9][a-z0-9._-]*"

Ref = str | Callable[..., Any] | type


def resolve(ref: Ref) -> Any:
    """Import a ``"package.module:attribute"`` reference (objects pass through)."""
    if not isinstance(ref, str):
        return ref
    module_name, _, attribute = ref.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for part in filter(None, attribute.split(".")):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"cannot load '{ref}': {type(exc).__name__}: {exc}") from exc
    return obj


def build_conforming(ref: Ref, protocol: type, owner: str, /, *args: Any, **kwargs: Any) -> Any:
    """Call an entry's ``build`` with the arguments its contract names and check that the object
    it returns implements ``protocol``. A build that cannot take those arguments, or that returns
    something else, is a one-line PluginError naming ``owner`` ("metric 'x' of plugin y")."""
    factory = resolve(ref)
    try:
        inspect.signature(factory).bind(*args, **kwargs)
    except TypeError as exc:
        given = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        raise PluginError(
            f"{owner}: its build must be callable as build({given}), as the {protocol.__name__} contract says ({exc})"
        ) from None
    except ValueError:  # no signature to read (a builtin): the call itself will tell
        pass
    return conforming(factory(*args, **kwargs), protocol, owner)


def _check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(f"{what} '{value}' must be lower-case letters, digits, '.', '_' or '-'")


def _check_choice(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got '{value}'")


@dataclass(frozen=True)
class TaskSpec:
    """What a family of models learns, the data kind it trains on and what a batch of that data
    holds. Built-in tasks: unconditional, class-conditional (images), paired-translation
    (paired), unpaired-translation (unpaired), inpainting (inpainting); a plugin may add its own."""

    name: str
    """The registry name (lower-case letters, digits, ``.``, ``_``, ``-``): what users type."""
    summary: str
    """One line for ``ganzoo list`` and the docs."""
    data_kind: str
    """The ``DatasetSpec.kind`` of the datasets it trains on (and ``DataInfo.kind``)."""
    batch: BatchSchema
    """The keys its datasets' batches hold (``label``/``attributes`` come with labelled datasets)."""

    def __post_init__(self):
        _check_name("task data kind", self.data_kind)


@dataclass(frozen=True)
class ModelSpec:
    """A GAN architecture: its task, options and how to build its recipe.

    What the model offers at inference (sampling, truncation, translating, inpainting) is not a
    field here: the recipe class declares it by implementing the capability protocols of
    ``ganzoo.protocols``, and commands read it with ``isinstance`` on the model they build. A
    second declaration here could only disagree with the class; ``ganzoo list``/``info`` stay
    cheap (no torch import) by showing the task, which says what the model is for."""

    name: str
    """The registry name (lower-case letters, digits, ``.``, ``_``, ``-``): what users type."""
    summary: str
    """One line for ``ganzoo list`` and the docs."""
    task: str
    """A registered task (``ganzoo list tasks``), which fixes the data kind it trains on."""
    build: Ref
    """The recipe class (a :class:`GANModel`), built as ``build(options, data_info)``."""
    options: Ref
    """The dataclass of the model's options, its fields made with :func:`option`."""
    paper: str = ""
    """Where the architecture is described (a URL)."""
    default_dataset: str | None = None
    """What ``ganzoo train MODEL`` trains on without ``--dataset``."""
    resolutions: tuple[int, ...] = (16, 32, 64, 128)
    """The square sizes it can be built at (``--resolution``)."""
    default_steps: int = 2000
    """Training steps without ``--steps`` or ``--epochs``."""
    default_batch_size: int = 64
    """Images per step without ``--batch-size``."""
    lr_schedule: str = "constant"
    """The default of ``train --lr-schedule``: ``constant`` or ``linear-decay``."""
    ema_start_fraction: float = 0.2
    """Where the generator's moving average starts without ``--ema-start``, as a fraction of the
    step budget: a fifth by default, so untrained weights never enter it; 0 for a model whose
    average ramps up with the images seen, as StyleGAN2's does."""
    tiny_options: dict[str, Any] = field(default_factory=dict, hash=False)
    """Options of the model's smallest variant (a few channels, one block), which the every-model
    test builds, trains and resumes; ``{}``: the defaults are already small."""

    def __post_init__(self):
        _check_name("task", self.task)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: what it holds and how to load it at a given resolution."""

    name: str
    """The registry name (lower-case letters, digits, ``.``, ``_``, ``-``): what users type."""
    summary: str
    """One line for ``ganzoo list`` and the docs."""
    kind: str
    """Its data kind (``images``, ``paired``, ``unpaired``, ``inpainting`` or a plugin task's):
    the models whose task has this data kind train on it."""
    load: Ref
    """``load(root, resolution, split, **options)`` returning a :class:`Dataset` (checked)."""
    channels: int
    """Channels of its images (1: grey, 3: RGB)."""
    resolution: int
    """Natural resolution of the source images."""
    default_resolution: int = 64
    """The training size without ``--resolution`` (the nearest one the model supports)."""
    license: str = ""
    """The terms its images come under, shown by ``ganzoo info``."""
    homepage: str = ""
    """Where it is published."""
    embedded: bool = False
    """Ships inside an installed package: no download, no --data-root."""
    splits: tuple[str, ...] = ("train",)
    """The splits ``load`` accepts (``train``, ``test``, ...)."""
    files: tuple[dict, ...] = field(default_factory=tuple)
    """Official files, each a dict with ``url`` and ``sha256`` or ``md5`` (``ganzoo data download``)."""
    download: Ref | None = None
    """``download(root: Path | None, progress)`` fetching every file; None: nothing to fetch."""
    options: Ref | None = None
    """A dataclass of the loader's options (``--data-set KEY=VALUE``), or None."""
    offline: str = ""
    """How to get the files by hand, for `ganzoo info` and the docs."""
    classes: tuple[str, ...] = ()
    """Class names where fixed (batches hold "label"; DataInfo.classes)."""
    attributes: tuple[str, ...] = ()
    """Attribute names where fixed (batches hold "attributes")."""
    labels: str = ""
    """One line on its labels or attributes where the names depend on the files."""

    def __post_init__(self):
        _check_name("dataset kind", self.kind)


@dataclass(frozen=True)
class LossSpec:
    """An adversarial loss: generator and discriminator terms from logits."""

    name: str
    """The registry name (lower-case letters, digits, ``.``, ``_``, ``-``): what users type."""
    summary: str
    """One line for ``ganzoo list`` and the docs."""
    build: Ref
    """``callable(label_smoothing=0.0, label_noise=0.0, r1_gamma=0.0)`` returning a
    :class:`~ganzoo.protocols.Loss` (checked when built; the protocol's docstring has the details)."""
    paper: str = ""
    """Where the loss is described (a URL)."""


@dataclass(frozen=True)
class MetricSpec:
    """An evaluation metric or a feature extractor used by metrics."""

    name: str
    """The registry name (lower-case letters, digits, ``.``, ``_``, ``-``): what users type."""
    summary: str
    """One line for ``ganzoo list`` and the docs."""
    build: Ref
    """Kind ``metric``: ``callable()`` returning a :class:`~ganzoo.protocols.Metric` (which
    declares its direction and whether it needs logits); kind ``feature-extractor``: ->
    ``callable(weights=PATH or None)`` returning a :class:`~ganzoo.protocols.FeatureExtractor`.
    Both are checked when built."""
    kind: str = "metric"
    """``metric`` (``--metric NAME``) or ``feature-extractor`` (``--feature-extractor NAME``)."""

    def __post_init__(self):
        _check_choice("kind", self.kind, ("metric", "feature-extractor"))


@dataclass(frozen=True)
class LoggerSpec:
    """A training logger, chosen with ``ganzoo train --logger NAME``. ``build(run)`` returns an
    object whose methods are lifecycle hook implementations (``@ganzoo.hookimpl def on_log(self,
    step, scalars)``, ...; see ganzoo.protocols.Logger); it is registered for that run only."""

    name: str
    """The registry name (lower-case letters, digits, ``.``, ``_``, ``-``): what users type."""
    summary: str
    """One line for ``ganzoo list`` and the docs."""
    build: Ref
    """``callable(run: ganzoo.Run)`` returning a :class:`~ganzoo.protocols.Logger`."""
    requires: tuple[str, ...] = ()
    """Modules it imports, checked before training starts."""
    install: str = ""
    """The command that installs them, named in the error when one is missing."""
