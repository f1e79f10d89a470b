"""What a run trains: its data, in its seeded order and fed to the device in this process's share,
and its model on the device, every process starting from rank 0's weights."""

from __future__ import annotations

import math
from typing import Any

import torch

from ganzoo.data import ShuffledIndices
from ganzoo.data.loading import open_dataset
from ganzoo.errors import DataError, UsageError
from ganzoo.plugins import PluginSystem
from ganzoo.protocols import OrdersItsData
from ganzoo.specs import resolve
from ganzoo.training.distributed import World
from ganzoo.training.feed import BatchFeed, choose_mode
from ganzoo.training.guard import DivergenceGuard
from ganzoo.training.phases import PhaseRunner
from ganzoo.training.plan import TrainPlan
from ganzoo.training.precision import Precision
from ganzoo.training.settings import TrainSettings


def open_training_data(
    plan: TrainPlan, device: torch.device, world: World, plugins: PluginSystem, channels_last: bool
) -> tuple[Any, BatchFeed]:
    """The training split and the feed of its batches (``channels_last``: NHWC images)."""
    settings = plan.settings
    with world.writer_first():  # rank 0 prepares a dataset's cache; the others then read it
        data = open_dataset(
            plan.dataset.spec,
            root=settings.data_root,
            resolution=settings.resolution,
            split="train",
            fit=settings.fit,
            options=settings.data_options,
        )
    if isinstance(data, OrdersItsData):  # e.g. unpaired domains, each with its own order
        make_order = data.make_order
    else:
        make_order = lambda batch_size, seed: ShuffledIndices(len(data), batch_size, seed)  # noqa: E731
    try:
        order = make_order(settings.batch_size, settings.seed)
    except ValueError as exc:  # fewer examples than the batch size
        raise DataError(f"dataset '{plan.dataset.name}': {exc}; lower --batch-size") from None
    feed = BatchFeed(
        data,
        order,
        device,
        choose_mode(settings.data_on_device, data, device, plan.dataset.name),
        channels_last=channels_last,
        shard=(world.rank, world.size),
        masks=plugins.tasks.get(plan.model.spec.task).batch.masks,
    )
    return data, feed


def build_model(plan: TrainPlan, data: Any, device: torch.device, world: World, channels_last: bool) -> Any:
    """The model from its options and the data's description, on ``device``, with rank 0's weights."""
    model = resolve(plan.model.spec.build)(plan.options, data.info).to(device)
    if plan.settings.sync_bn:
        if device.type != "cuda":
            raise UsageError(
                "--sync-bn needs CUDA GPUs (SyncBatchNorm); on CPUs each process normalises over its share of the batch"
            )
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    world.broadcast_state(model.state_dict().values())  # every process starts from rank 0's weights
    return model


def budget_steps(settings: TrainSettings, batches_per_epoch: int, batches_per_step: float) -> int:
    """--steps, or the steps of an --epochs budget now that the dataset's size is known."""
    if settings.steps is not None:
        return settings.steps
    assert settings.epochs is not None, "a plan has a budget of steps or of epochs"
    return math.ceil(settings.epochs * batches_per_epoch / batches_per_step)


def phase_runner(
    model: Any,
    optimizers: dict[str, Any],
    phases: Any,
    settings: TrainSettings,
    guard: DivergenceGuard,
    precision: Precision,
    compiled: bool,
    world: World,
) -> PhaseRunner:
    """What runs one step's phases: micro-batches, precision, gradient averaging, divergence watch."""
    return PhaseRunner(
        model,
        optimizers,
        phases,
        settings.d_steps,
        settings.clip_grad,
        observe=guard.observe,
        precision=precision,
        compiled=compiled,
        accumulate=settings.accumulate,
        reduce_gradients=world.average_gradients,
        batch_size=settings.batch_size,
    )
