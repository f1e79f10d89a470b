"""ganzoo: a plugin-based zoo of generative adversarial networks for PyTorch.

Importing ganzoo is cheap: torch is imported only when a model, loss or dataset is built.
"""

from __future__ import annotations

from typing import Any

from ganzoo._version import __version__
from ganzoo.api import Run, load, load_run, train
from ganzoo.errors import DuplicateNameError, GanzooError, PluginError, UnknownNameError, UsageError
from ganzoo.hookspecs import hookimpl
from ganzoo.options import build_options
from ganzoo.plugins import load_plugins
from ganzoo.protocols import DataInfo, Loss
from ganzoo.specs import DatasetSpec, LoggerSpec, LossSpec, MetricSpec, ModelSpec, TaskSpec, build_conforming, resolve

__all__ = [
    "DatasetSpec",
    "DuplicateNameError",
    "GanzooError",
    "LoggerSpec",
    "LossSpec",
    "MetricSpec",
    "ModelSpec",
    "PluginError",
    "Run",
    "TaskSpec",
    "UnknownNameError",
    "UsageError",
    "__version__",
    "create_loss",
    "create_model",
    "hookimpl",
    "list_datasets",
    "list_models",
    "load_dataset",
    "load_plugins",
    "load",
    "load_run",
    "train",
]


def list_models(pattern: str | None = None) -> list[str]:
    """Names of registered models matching a shell-style pattern, e.g. ``list_models("dc*")``."""
    return [e.name for e in load_plugins().models.list(pattern)]


def list_datasets(pattern: str | None = None) -> list[str]:
    return [e.name for e in load_plugins().datasets.list(pattern)]


def create_model(
    name: str,
    *,
    channels: int = 3,
    resolution: int = 64,
    data_kind: str | None = None,
    classes: tuple[str, ...] = (),
    attributes: tuple[str, ...] = (),
    **options: Any,
):
    """Build a model's recipe (an ``nn.Module``) with the given options, e.g.
    ``create_model("dcgan", channels=1, resolution=32, ngf=32)``; conditional models need the
    class (or attribute) names: ``create_model("cdcgan", classes=tuple("0123456789"))``."""
    plugins = load_plugins()
    spec = plugins.models.get(name)
    opts = build_options(resolve(spec.options), options, owner=f"model '{name}'")
    data = DataInfo(
        kind=data_kind or plugins.data_kind(spec),
        channels=channels,
        resolution=resolution,
        classes=classes,
        attributes=attributes,
    )
    return resolve(spec.build)(opts, data)


def create_loss(name: str, **options: Any) -> Loss:
    """Build a registered adversarial loss, e.g. ``create_loss("hinge", r1_gamma=10.0)``; the
    options are those of the :class:`ganzoo.protocols.Loss` contract."""
    entry = load_plugins().losses.entry(name)
    return build_conforming(entry.spec.build, Loss, f"loss '{name}' of plugin {entry.provider}", **options)


def load_dataset(
    name: str,
    *,
    resolution: int | None = None,
    root: str | None = None,
    split: str = "train",
    fit: str = "crop",
    **options: Any,
):
    """Load a registered dataset at a resolution (the dataset's default if None); ``options``
    are the dataset's own (``ganzoo info DATASET`` lists them)."""
    from ganzoo.data.loading import dataset_options, open_dataset  # lazy: data imports torch; import ganzoo does not

    spec = load_plugins().datasets.get(name)
    return open_dataset(
        spec, root=root, resolution=resolution, split=split, fit=fit, options=dataset_options(spec, values=options)
    )
