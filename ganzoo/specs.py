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
        raise PluginError(f"{owner}: its build must be callable as build({given}), as the {protocol.__name__} "
                          f"contract says ({exc})") from None
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
    summary: str
    data_kind: str  # the DatasetSpec.kind its datasets have (and DataInfo.kind)
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
    summary: str
    task: str  # a registered task (`ganzoo list tasks`), which fixes the data kind it trains on
    build: Ref  # -> a class implementing ganzoo.protocols.GANModel
    options: Ref  # -> a dataclass of the model's options (see ganzoo.options)
    paper: str = ""
    default_dataset: str | None = None
    resolutions: tuple[int, ...] = (16, 32, 64, 128)
    default_steps: int = 2000
    default_batch_size: int = 64
    lr_schedule: str = "constant"  # the default of `train --lr-schedule`
    #: Options of the model's smallest variant (a few channels, one block): what the every-model
    #: test builds, trains and resumes. ``{}``: the defaults are already small.
    tiny_options: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        _check_name("task", self.task)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: what it holds and how to load it at a given resolution."""

    name: str
    summary: str
    kind: str
    load: Ref  # -> callable(root, resolution, split, **kw) returning a ganzoo.protocols.Dataset (checked)
    channels: int
    resolution: int  # natural resolution of the source images
    default_resolution: int = 64
    license: str = ""
    homepage: str = ""
    embedded: bool = False  # ships inside an installed package: no download, no --data-root
    splits: tuple[str, ...] = ("train",)
    files: tuple[dict, ...] = field(default_factory=tuple)  # official files: url, sha256/md5
    download: Ref | None = None  # -> callable(root: Path | None, progress) fetching every file; None: nothing to fetch
    options: Ref | None = None  # -> a dataclass of the loader's options (``--data-set KEY=VALUE``)
    offline: str = ""  # how to get the files by hand, for `ganzoo info` and the docs
    classes: tuple[str, ...] = ()  # class names where fixed (batches hold "label"; DataInfo.classes)
    attributes: tuple[str, ...] = ()  # attribute names where fixed (batches hold "attributes")
    labels: str = ""  # one line on its labels or attributes where the names depend on the files

    def __post_init__(self):
        _check_name("dataset kind", self.kind)


@dataclass(frozen=True)
class LossSpec:
    """An adversarial loss: generator and discriminator terms from logits."""

    name: str
    summary: str
    build: Ref
    """-> ``callable(label_smoothing=0.0, label_noise=0.0, r1_gamma=0.0)`` returning a
    :class:`~ganzoo.protocols.Loss` (checked when built; the protocol's docstring has the details)."""
    paper: str = ""


@dataclass(frozen=True)
class MetricSpec:
    """An evaluation metric or a feature extractor used by metrics."""

    name: str
    summary: str
    build: Ref
    """Kind ``metric``: -> ``callable()`` returning a :class:`~ganzoo.protocols.Metric` (which
    declares its direction and whether it needs logits); kind ``feature-extractor``: ->
    ``callable(weights=PATH or None)`` returning a :class:`~ganzoo.protocols.FeatureExtractor`.
    Both are checked when built."""
    kind: str = "metric"  # or "feature-extractor"

    def __post_init__(self):
        _check_choice("kind", self.kind, ("metric", "feature-extractor"))


@dataclass(frozen=True)
class LoggerSpec:
    """A training logger, chosen with ``ganzoo train --logger NAME``. ``build(run)`` returns an
    object whose methods are lifecycle hook implementations (``@ganzoo.hookimpl def on_log(self,
    step, scalars)``, ...; see ganzoo.protocols.Logger); it is registered for that run only."""

    name: str
    summary: str
    build: Ref
    """-> ``callable(run: ganzoo.Run)`` returning a :class:`~ganzoo.protocols.Logger`."""
    requires: tuple[str, ...] = ()  # modules it imports, checked before training starts
    install: str = ""  # the command that installs them, named in the error when one is missing
