"""The hooks a ganzoo plugin implements with ``@ganzoo.hookimpl``; each docstring is that hook's reference.

Every hook is called through pluggy, so ``tryfirst=True``, ``trylast=True`` and ``wrapper=True`` (or the
older ``hookwrapper=True``) order and wrap implementations as pluggy documents; the other implementations
run last-registered first. An implementation may take any subset of a hook's arguments. No hook uses
return values: implementations return ``None``. Code of a plugin that raises is isolated: one warning line
names the plugin, and the other plugins still run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    import torch
    import typer

    from ganzoo.api import Run
    from ganzoo.specs import DatasetSpec, LoggerSpec, LossSpec, MetricSpec, ModelSpec, TaskSpec

hookspec = pluggy.HookspecMarker("ganzoo")
"""Marks the hook specifications below (for ganzoo itself, not for plugins)."""

hookimpl = pluggy.HookimplMarker("ganzoo")
"""Marks a plugin's function (or method) as the implementation of the hook it is named after:
``@hookimpl``, or ``@hookimpl(tryfirst=True)``, ``trylast=True``, ``wrapper=True``, ``hookwrapper=True``,
``specname="on_log"`` (another function name), ``optionalhook=True``, as pluggy documents."""

# -- Registering hooks. Each is called once when the plugins are loaded, for all of them, with a ``register``
# callback that validates an entry and records the calling plugin as its provider. A plugin's entries are
# kept only if all of its hooks succeed: if anything in them raises, none are. A name that a plugin loaded
# earlier (the built-ins load first, then the others by entry-point name) already has is such an error,
# naming both. Registering must be cheap: pass references such as ``"my_plugin.model:MyGAN"``.


@hookspec
def register_tasks(register: Callable[[TaskSpec], None]) -> None:
    """Register tasks, each with the kind of data it trains on: ``register(TaskSpec(...))``.

    A model names its task; ``ganzoo train`` accepts only datasets of that task's data kind."""


@hookspec
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register GAN architectures: ``register(ModelSpec(...))``, one call per model."""


@hookspec
def register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Register datasets: ``register(DatasetSpec(...))``, one call per dataset."""


@hookspec
def register_losses(register: Callable[[LossSpec], None]) -> None:
    """Register adversarial losses (``--loss NAME``): ``register(LossSpec(...))``."""


@hookspec
def register_metrics(register: Callable[[MetricSpec], None]) -> None:
    """Register evaluation metrics and feature extractors: ``register(MetricSpec(...))``."""


@hookspec
def register_loggers(register: Callable[[LoggerSpec], None]) -> None:
    """Register training loggers for ``ganzoo train --logger NAME``: ``register(LoggerSpec(...))``.

    The spec's ``build(run)`` is called when a run that asked for the logger starts; the object it returns
    implements lifecycle hooks (below) for that run only."""


@hookspec
def register_commands(app: typer.Typer) -> None:
    """Add commands to ``app``, the typer app of the ``ganzoo`` CLI, when the CLI starts.

    A command whose name another provider already gave (a built-in such as ``train``, or an earlier
    plugin's) is dropped with a one-line warning; the plugin's other commands are kept."""


# -- Lifecycle hooks. The training loop calls these (on rank 0) for every plugin and for the run's loggers,
# outside the timed step: their time is left out of images/s. ``run`` is the run folder (a ganzoo.Run:
# ``run.path``, ``run.config``...), ``step`` the number of optimisation steps done. An implementation that
# raises is reported once (on the console and in log.txt), not called again during that run, and training
# goes on.


@hookspec
def on_train_start(run: Run, step: int) -> None:
    """Training starts (``step`` 0) or resumes (``step`` is the step it continues from; anything recorded
    after that step is redone)."""


@hookspec
def on_log(run: Run, step: int, scalars: Mapping[str, float]) -> None:
    """A log line is due (``--log-every``): ``scalars`` maps each logged value (``loss_D``, ``loss_G``, the
    model's other logs, ``lr_<optimizer>``, ``images_per_second``) to its mean since the previous line."""


@hookspec
def on_sample(run: Run, step: int, path: Path, grid: torch.Tensor) -> None:
    """A sample grid was written to ``path``; ``grid`` is the same image, a uint8 ``(C, H, W)`` tensor."""


@hookspec
def on_evaluate(run: Run, step: int, results: Mapping[str, float]) -> None:
    """An evaluation (``--eval-every``) finished: ``results`` maps metric names (``fid``, ``kid``,
    ``fid_a2b``...) to values."""


@hookspec
def on_checkpoint(run: Run, step: int, path: Path) -> None:
    """A checkpoint was written to ``path``: a step checkpoint, or ``best.safetensors`` after an evaluation
    that improved."""


@hookspec
def on_train_end(run: Run, step: int, status: str) -> None:
    """Training stopped; ``status`` is ``finished``, ``interrupted`` (a signal, or Ctrl-C twice), ``diverged``
    or ``failed`` (an error). Loggers close their files here."""
