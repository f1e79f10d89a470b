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
    def __init__(self, phases: tuple[str, ...], device: torch.device):
        self.first_bad = {phase: torch.tensor(-1, device=device) for phase in phases}

    def observe(self, phase: str, loss: torch.Tensor, step: int) -> None:
        first = self.first_bad[phase]
        bad_now = ~torch.isfinite(loss.detach()).all() & (first < 0)
        self.first_bad[phase] = torch.where(bad_now, torch.full_like(first, step), first)

    def check(self, model: nn.Module) -> None:
        """Raise :class:`Diverged` naming the earliest bad step and phase, or a non-finite weight."""
        bad = {phase: int(step) for phase, step in self.first_bad.items() if int(step) >= 0}
        if bad:
            phase = min(bad, key=bad.get)
            raise Diverged(f"training diverged at step {bad[phase]}: the loss of phase {phase} is not finite")
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                raise Diverged(f"training diverged: weight '{name}' is not finite")
