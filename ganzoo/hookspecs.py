"""The hooks a ganzoo plugin can implement. Each receives a callback; see docs/plugins/hooks.md."""

import pluggy

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")


@hookspec
def register_tasks(register):
    """Register tasks and the data kind each trains on: register(TaskSpec(...))."""


@hookspec
def register_models(register):
    """Register GAN architectures: register(ModelSpec(...))."""


@hookspec
def register_datasets(register):
    """Register datasets: register(DatasetSpec(...))."""


@hookspec
def register_losses(register):
    """Register adversarial losses: register(LossSpec(...))."""


@hookspec
def register_metrics(register):
    """Register evaluation metrics and feature extractors: register(MetricSpec(...))."""


@hookspec
def register_commands(app):
    """Add commands to the typer app of the `ganzoo` CLI."""


@hookspec
def register_loggers(register):
    """Register training loggers for `ganzoo train --logger NAME`: register(LoggerSpec(...))."""


# Lifecycle hooks: called by the training loop at these moments, outside the timed step, for
# every plugin (and for the loggers chosen with --logger). ``run`` is a ganzoo.Run. A hook that
# raises is reported once and not called again during that run; training goes on.


@hookspec
def on_train_start(run, step):
    """Training starts (step 0) or resumes (the step it continues from)."""


@hookspec
def on_log(run, step, scalars):
    """A log line is due: the mean of each loss since the last one, learning rates, images/s."""


@hookspec
def on_sample(run, step, path, grid):
    """A sample grid was written to ``path``; ``grid`` is that image, a uint8 (C, H, W) tensor."""


@hookspec
def on_evaluate(run, step, results):
    """An evaluation (--eval-every) finished: metric name -> value."""


@hookspec
def on_checkpoint(run, step, path):
    """A checkpoint was written to ``path`` (a step checkpoint or best.safetensors)."""


@hookspec
def on_train_end(run, step, status):
    """Training stopped: status is finished, interrupted, diverged or failed."""
