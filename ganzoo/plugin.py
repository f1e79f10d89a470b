"""The public API for plugin authors: ``from ganzoo.plugin import ModelSpec, Phase, hookimpl, layers``.

This module is the whole surface a plugin (a model, dataset, loss, metric, logger or task) may
use. Anything not in ``__all__``, here or in the namespaces below, is internal to ganzoo and may
change without notice; every other module under ``ganzoo/`` is internal. The built-in plugins,
the example plugin and ganzoo-stylegan import only this module (tests/test_public_api.py checks).

- Registration: :data:`hookimpl` marks a plugin's hook implementations; the specs it registers
  are :class:`TaskSpec`, :class:`ModelSpec`, :class:`DatasetSpec`, :class:`LossSpec`,
  :class:`MetricSpec` and :class:`LoggerSpec`; :func:`option` declares a field of an options
  dataclass.
- The contracts of ``ganzoo.protocols``: :class:`GANModel`, :class:`Phase`, :class:`PhaseLoss`,
  :class:`StepContext`, :class:`DataInfo`, ``Batch`` (a mapping of names to tensors) and the
  :class:`BatchSchema` of :class:`BatchKey` a task declares; what datasets, networks, losses,
  metrics, feature extractors and loggers provide; and the optional capabilities a model or
  dataset may have (``isinstance`` checks them).
- Errors a plugin raises: :class:`GanzooError` and its kinds.
- Other plugins' registrations: :func:`create_loss`, :func:`load_dataset`.
- Building blocks, as namespaces: ``layers`` (normalisation, PatchGAN, init, jitter),
  ``latents`` (truncation, slerp), ``augment`` (DiffAugment), ``regularization`` (gradients
  for penalties, lazy regularisation) and ``datakit`` (downloads, decoding, the prepared
  cache and dataset classes, for dataset plugins).

Importing this module is cheap (no torch): the namespaces are imported when first used, so a
plugin's registration stays fast for ``ganzoo list``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from ganzoo import create_loss, load_dataset
from ganzoo.errors import DataError, GanzooError, PluginError, UnknownNameError, UnknownPhaseError, UsageError
from ganzoo.hookspecs import hookimpl
from ganzoo.options import option
from ganzoo.protocols import (
    AveragesOverImages,
    Batch,
    BatchKey,
    BatchSchema,
    DataInfo,
    Dataset,
    DecaysItsLearningRate,
    Discriminator,
    FeatureExtractor,
    GANModel,
    GathersRows,
    Generator,
    Inpaints,
    Logger,
    Loss,
    Metric,
    OrdersItsData,
    Phase,
    PhaseLoss,
    PreviewsExamples,
    ReadsPreparedCache,
    SamplesConditionally,
    SamplesFromNoise,
    StepContext,
    Translates,
    Truncates,
)
from ganzoo.specs import DatasetSpec, LoggerSpec, LossSpec, MetricSpec, ModelSpec, TaskSpec

if TYPE_CHECKING:  # what type checkers see; at run time __getattr__ imports them on first use
    from ganzoo import augment, datakit, layers, regularization
    from ganzoo.training import latents

#: The building-block namespaces and the modules behind them (imported lazily: most import torch).
NAMESPACES = {
    "augment": "ganzoo.augment",
    "datakit": "ganzoo.datakit",
    "latents": "ganzoo.training.latents",
    "layers": "ganzoo.layers",
    "regularization": "ganzoo.regularization",
}

__all__ = [
    # registration
    "DatasetSpec",
    "LoggerSpec",
    "LossSpec",
    "MetricSpec",
    "ModelSpec",
    "TaskSpec",
    "hookimpl",
    "option",
    # contracts
    "Batch",
    "BatchKey",
    "BatchSchema",
    "DataInfo",
    "Dataset",
    "Discriminator",
    "FeatureExtractor",
    "GANModel",
    "Generator",
    "Logger",
    "Loss",
    "Metric",
    "Phase",
    "PhaseLoss",
    "StepContext",
    # optional capabilities
    "AveragesOverImages",
    "DecaysItsLearningRate",
    "GathersRows",
    "Inpaints",
    "OrdersItsData",
    "PreviewsExamples",
    "ReadsPreparedCache",
    "SamplesConditionally",
    "SamplesFromNoise",
    "Translates",
    "Truncates",
    # errors
    "DataError",
    "GanzooError",
    "PluginError",
    "UnknownNameError",
    "UnknownPhaseError",
    "UsageError",
    # other plugins' registrations
    "create_loss",
    "load_dataset",
    # building blocks
    "augment",
    "datakit",
    "latents",
    "layers",
    "regularization",
]


def __getattr__(name: str) -> ModuleType:
    """A building-block namespace, imported on first use (``from ganzoo.plugin import layers``)."""
    if name not in NAMESPACES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(NAMESPACES[name])
    globals()[name] = module  # later lookups skip this function
    return module


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
