"""Divergence detection without a host-device sync on every step.

Each phase's loss is checked on the device; the first step at which it stopped being finite is
remembered there, and the host reads it only when the loop logs or checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.errors import GanzooError


class Diverged(GanzooError):
    """A loss or a weight became NaN or infinite."""


class DivergenceGuard:
    """With a ``world`` of several processes the check is global: a non-finite loss on any
    process stops every one of them after the same step, with the same message."""

    def __init__(self, phases: tuple[str, ...], device: torch.device, world=None):
        self.first_bad = {phase: torch.tensor(-1, device=device) for phase in phases}
        self.world = world

    def observe(self, phase: str, loss: torch.Tensor, step: int) -> None:
        first = self.first_bad[phase]
        bad_now = ~torch.isfinite(loss.detach()).all() & (first < 0)
        self.first_bad[phase] = torch.where(bad_now, torch.full_like(first, step), first)

    def check(self, model: nn.Module) -> None:
        """Raise :class:`Diverged` naming the earliest bad step and phase, or a non-finite weight."""
        steps = torch.stack(list(self.first_bad.values()))
        if self.world is not None and self.world.size > 1:  # the earliest bad step of any process
            never = torch.iinfo(steps.dtype).max
            steps = -self.world.maximum(-torch.where(steps < 0, torch.full_like(steps, never), steps))
            steps = torch.where(steps == never, torch.full_like(steps, -1), steps)
        bad = {phase: int(step) for phase, step in zip(self.first_bad, steps.tolist()) if step >= 0}
        if bad:
            phase = min(bad, key=bad.__getitem__)
            raise Diverged(f"training diverged at step {bad[phase]}: the loss of phase {phase} is not finite")
        for name, tensor in model.state_dict().items():  # the same on every process (checked at checkpoints)
            if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                raise Diverged(f"training diverged: weight '{name}' is not finite")
