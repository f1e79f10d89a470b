"""What a plugin registers: small, import-free descriptions with lazy references.

A reference such as ``"ganzoo_dcgan.recipe:DCGAN"`` is imported only when the entry is used,
so registering (and ``ganzoo list``) stays cheap: no torch, no networks, no downloads.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganzoo.errors import PluginError

INFERENCE = ("sample", "translate", "inpaint")
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


def _check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(f"{what} '{value}' must be lower-case letters, digits, '.', '_' or '-'")


def _check_choice(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got '{value}'")


@dataclass(frozen=True)
class TaskSpec:
    """What a family of models learns, and the data kind it trains on. Built-in tasks:
    unconditional, class-conditional (images), paired-translation (paired),
    unpaired-translation (unpaired), inpainting (inpainting); a plugin may add its own."""

    name: str
    summary: str
    data_kind: str  # the DatasetSpec.kind its datasets have (and DataInfo.kind)

    def __post_init__(self):
        _check_name("task data kind", self.data_kind)


@dataclass(frozen=True)
class ModelSpec:
    """A GAN architecture: its task, options and how to build its recipe."""

    name: str
    summary: str
    task: str  # a registered task (`ganzoo list tasks`), which fixes the data kind it trains on
    build: Ref  # -> a class implementing ganzoo.protocols.GANModel
    options: Ref  # -> a dataclass of the model's options (see ganzoo.options)
    inference: tuple[str, ...] = ("sample",)
    paper: str = ""
    default_dataset: str | None = None
    resolutions: tuple[int, ...] = (16, 32, 64, 128)
    default_steps: int = 2000
    default_batch_size: int = 64
    truncation: bool = False  # its noise is standard normal, so `generate --truncation` applies
    lr_schedule: str = "constant"  # the default of `train --lr-schedule`

    def __post_init__(self):
        _check_name("task", self.task)
        for kind in self.inference:
            _check_choice("inference", kind, INFERENCE)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: what it holds and how to load it at a given resolution."""

    name: str
    summary: str
    kind: str
    load: Ref  # -> callable(root, resolution, split, **kw) returning a ganzoo.protocols.Dataset
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
    build: Ref  # -> callable(**options) returning a ganzoo.protocols.Loss
    paper: str = ""


@dataclass(frozen=True)
class MetricSpec:
    """An evaluation metric or a feature extractor used by metrics."""

    name: str
    summary: str
    build: Ref
    kind: str = "metric"  # or "feature-extractor"

    def __post_init__(self):
        _check_choice("kind", self.kind, ("metric", "feature-extractor"))


@dataclass(frozen=True)
class LoggerSpec:
    """A training logger, chosen with ``ganzoo train --logger NAME``. ``build(run)`` returns an
    object whose methods are lifecycle hook implementations (``@ganzoo.hookimpl def on_log(self,
    step, scalars)``, ...); it is registered for that run only."""

    name: str
    summary: str
    build: Ref  # -> callable(run: ganzoo.Run) returning the logger object
    requires: tuple[str, ...] = ()  # modules it imports, checked before training starts
    install: str = ""  # the command that installs them, named in the error when one is missing
