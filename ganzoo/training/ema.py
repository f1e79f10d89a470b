"""Exponential moving averages of a model's inference networks (the generators).

Averaged weights give smoother, better samples than the last step's (Karras et al. 2018;
Yazici et al. 2019). Buffers such as BatchNorm statistics are copied, not averaged.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def ramped_ema(decay: float):
    """An AveragedModel update whose decay ramps up as min(decay, (1 + n) / (10 + n)) over the
    n updates so far: a short run averages over a short window instead of staying near its
    first weights, and a long one reaches ``decay``. Computed on the device: no host sync."""

    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
        weight = 1.0 - torch.clamp((1.0 + n_averaged) / (10.0 + n_averaged), max=decay)
        for avg, cur in zip(averaged, current):
            avg.lerp_(cur, weight.to(avg.dtype))

    return update


class GeneratorEMA:
    """EMA copies of ``model.<name>`` for each inference network, updated from ``start`` on
    (the first update copies the live weights, so early, untrained weights are never averaged)."""

    def __init__(self, model: nn.Module, names: tuple[str, ...], decay: float, start: int):
        self.names, self.decay, self.start = names, decay, start
        self.averaged = {
            name: AveragedModel(getattr(model, name), multi_avg_fn=ramped_ema(decay), use_buffers=False)
            for name in names
        }
        for averaged in self.averaged.values():
            averaged.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        if step >= self.start:
            for name, averaged in self.averaged.items():
                averaged.update_parameters(getattr(model, name))

    @property
    def active(self) -> bool:
        return all(int(a.n_averaged) > 0 for a in self.averaged.values())

    @contextmanager
    def swapped_in(self, model: nn.Module) -> Iterator[nn.Module]:
        """Within the block, ``model``'s inference networks are the averaged ones (if any yet)."""
        if not self.active:
            yield model
            return
        live = {name: getattr(model, name) for name in self.names}
        try:
            for name, averaged in self.averaged.items():
                setattr(model, name, averaged.module)
            yield model
        finally:
            for name, network in live.items():
                setattr(model, name, network)

    def state_dict(self) -> dict[str, Any]:
        return {name: averaged.state_dict() for name, averaged in self.averaged.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, averaged in self.averaged.items():
            averaged.load_state_dict(state[name])
