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
