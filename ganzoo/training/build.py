"""What a run trains: its data, in its seeded order and fed to the device in this process's share,
and its model on the device, every process starting from rank 0's weights."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import torch

from ganzoo.augment import parse_train_augments
from ganzoo.data import ShuffledIndices
from ganzoo.data.loading import open_dataset
from ganzoo.errors import DataError, UsageError
from ganzoo.plugins import PluginSystem
from ganzoo.protocols import OrdersItsData
from ganzoo.specs import resolve
from ganzoo.training.critic_feedback import AdaptiveAugment, CriticFeedback, LeCam
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
    build = resolve(plan.model.spec.build)
    check_model_fits(plan.model.name, lambda: build(plan.options, data.info), plan.options, device)
    model = build(plan.options, data.info).to(device)
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


#: Training holds each weight about four times: the weight, its gradient and Adam's two moments.
TRAINING_COPIES = 4


def check_model_fits(name: str, build: Any, options: Any, device: torch.device) -> None:
    """Refuse, with the figures, options whose model cannot be trained in the device's memory
    (a width of 10^8 asks for terabytes): the model is first built on the meta device, which
    allocates nothing. A model that cannot be built there is built for real, unchecked."""
    try:
        with torch.device("meta"):
            probe = build()
        tensors = [*probe.parameters(), *probe.buffers()]
    except Exception:  # noqa: BLE001 - the check is a courtesy; the real build reports real errors
        return
    weights = sum(t.numel() * t.element_size() for t in tensors)
    memory = device_memory(device)
    if memory is None or TRAINING_COPIES * weights <= memory:
        return
    changed = [
        f"{f.name}={getattr(options, f.name)}"
        for f in dataclasses.fields(options)
        if f.default is not dataclasses.MISSING and getattr(options, f.name) != f.default
    ]
    raise UsageError(
        f"model '{name}'{' with ' + ', '.join(changed) if changed else ''} has "
        f"{sum(t.numel() for t in probe.parameters()):,} parameters ({_bytes(weights)}); training needs "
        f"about {TRAINING_COPIES}x that ({_bytes(TRAINING_COPIES * weights)}: weights, gradients, Adam's moments), "
        f"more than the {_bytes(memory)} of memory of {device}: choose smaller sizes (ganzoo info {name})"
    )


def device_memory(device: torch.device) -> int | None:
    """The device's memory in bytes: a GPU's total, or the machine's RAM for the CPU."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[1])
    if device.type == "cpu":
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return None


def _bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000
    return f"{count:,.1f} TB"


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
    """What runs one step's phases: micro-batches, precision, gradient averaging, divergence
    watch, and ADA and LeCam when the settings ask."""
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
        feedback=critic_feedback(settings, world, precision.device),
    )


def critic_feedback(settings: TrainSettings, world: World, device: torch.device) -> CriticFeedback | None:
    """ADA (``--augment ada``) and LeCam (``--lecam``) for this run, or None when neither is on."""
    ada = parse_train_augments(settings.augment)[1]
    if not ada and not settings.lecam:
        return None
    tuner = (
        AdaptiveAugment(
            settings.ada_target, settings.ada_interval, settings.ada_kimg, settings.batch_size, world, device
        )
        if ada
        else None
    )
    return CriticFeedback(settings.model, tuner, LeCam(settings.lecam, world, device) if settings.lecam else None)
