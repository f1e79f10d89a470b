"""Exponential moving averages of a model's inference networks (the generators).

Averaged weights give smoother, better samples than the last step's (Karras et al. 2018;
Yazici et al. 2019). Buffers such as BatchNorm statistics are copied, not averaged.

Two schedules say how far the average moves at each update: :class:`WarmedDecay` (a decay
reached over the first updates, the loop's default) and :class:`HalfLife` (StyleGAN2's: a
half-life in images, optionally ramped up with the images seen, as its reference does).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


def ema_weight(n_averaged: torch.Tensor, decay: float) -> torch.Tensor:
    """How far the average moves towards the live weights at this update: all the way at the
    first (it copies them), then 1 - min(decay, (1 + n) / (10 + n)) over the n updates so far,
    so a short run averages over a short window and a long one reaches ``decay``. A tensor on
    the device: the host never waits for it."""
    n = n_averaged.to(torch.float32)
    ramped = 1.0 - torch.clamp((1.0 + n) / (10.0 + n), max=decay)
    return torch.where(n_averaged == 0, torch.ones_like(ramped), ramped)


class WarmedDecay:
    """A fixed ``decay``, reached through :func:`ema_weight`'s warm-up over the first updates."""

    def __init__(self, decay: float):
        self.decay = decay

    def weight(self, n_averaged: torch.Tensor, step: int) -> torch.Tensor:
        return ema_weight(n_averaged, self.decay)


class HalfLife:
    """StyleGAN2's average (Karras et al. 2020, their training loop): after ``step`` steps of
    ``images_per_step`` images, the average keeps beta = 0.5 ** (images_per_step / H) of
    itself, where H is ``half_life_images``, or with a ``rampup`` r the smaller of that and
    r x the images seen before this update. So it copies the weights at the first update and
    widens with training. Computed from the host's step counter: nothing waits for the device."""

    def __init__(self, half_life_images: float, images_per_step: int, rampup: float | None = None):
        self.half_life_images, self.images_per_step, self.rampup = half_life_images, images_per_step, rampup

    def beta(self, step: int) -> float:
        window = self.half_life_images
        if self.rampup is not None:
            window = min(window, (step - 1) * self.images_per_step * self.rampup)
        return 0.5 ** (self.images_per_step / max(window, 1e-8))

    def weight(self, n_averaged: torch.Tensor, step: int) -> torch.Tensor:
        moved = torch.full_like(n_averaged, 1.0 - self.beta(step), dtype=torch.float32)
        return torch.where(n_averaged == 0, torch.ones_like(moved), moved)  # a late start copies too


class GeneratorEMA:
    """EMA copies of ``model.<name>`` for each inference network, updated from ``start`` on
    (the first update copies the live weights, so early, untrained weights are never averaged)
    by ``schedule`` (a :class:`WarmedDecay` or :class:`HalfLife`).

    Every update is a handful of fused device operations with no host synchronisation
    (torch's AveragedModel reads its update count on the host at every step). The state dict
    keeps AveragedModel's layout (``n_averaged``, ``module.*``), so older checkpoints load."""

    def __init__(self, model: nn.Module, names: tuple[str, ...], schedule: WarmedDecay | HalfLife, start: int):
        self.names, self.schedule, self.start = names, schedule, start
        self.copies = {name: copy.deepcopy(getattr(model, name)).requires_grad_(False) for name in names}
        self.n_averaged = {
            name: torch.zeros((), dtype=torch.long, device=_device_of(network)) for name, network in self.copies.items()
        }

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        if step < self.start:
            return
        for name, averaged in self.copies.items():
            live = getattr(model, name)
            weight = self.schedule.weight(self.n_averaged[name], step)
            average = list(averaged.parameters())
            # avg += weight * (live - avg): foreach ops that take a device tensor as the scalar
            # (_foreach_lerp_ would read a tensor weight on the host)
            steps = torch._foreach_sub(list(live.parameters()), average)
            torch._foreach_mul_(steps, weight)
            torch._foreach_add_(average, steps)
            buffers = list(averaged.buffers())
            if buffers:  # BatchNorm statistics and the like: copied, not averaged
                torch._foreach_copy_(buffers, list(live.buffers()))
            self.n_averaged[name] += 1

    @property
    def active(self) -> bool:
        return all(int(n) > 0 for n in self.n_averaged.values())

    @contextmanager
    def swapped_in(self, model: nn.Module) -> Iterator[nn.Module]:
        """Within the block, ``model``'s inference networks are the averaged ones (if any yet)."""
        if not self.active:
            yield model
            return
        live = {name: getattr(model, name) for name in self.names}
        try:
            for name, averaged in self.copies.items():
                setattr(model, name, averaged)
            yield model
        finally:
            for name, network in live.items():
                setattr(model, name, network)

    def state_dict(self) -> dict[str, Any]:
        return {
            name: {
                "n_averaged": self.n_averaged[name],
                **{f"module.{key}": value for key, value in averaged.state_dict().items()},
            }
            for name, averaged in self.copies.items()
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, averaged in self.copies.items():
            saved = state[name]
            averaged.load_state_dict(
                {key[len("module.") :]: value for key, value in saved.items() if key.startswith("module.")}
            )
            self.n_averaged[name].copy_(saved["n_averaged"])


def _device_of(network: nn.Module) -> torch.device:
    tensor = next(network.parameters(), None)
    return tensor.device if tensor is not None else torch.device("cpu")
