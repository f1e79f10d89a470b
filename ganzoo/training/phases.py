"""Running a model's declared phases: which run at a step, on which batch, into which optimizer.

The training loop and ``ganzoo bench MODEL`` both step models through :class:`PhaseRunner`, so a
benchmark measures exactly what training does.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ganzoo.errors import GanzooError, UsageError
from ganzoo.protocols import Batch, Phase, StepContext


def checked_phases(model, optimizers: dict[str, torch.optim.Optimizer], model_name: str) -> tuple[Phase, ...]:
    """The model's phases, after checking they fit its optimizers (a plugin bug otherwise)."""
    phases = tuple(model.phases)
    if not phases or not all(isinstance(p, Phase) for p in phases):
        raise GanzooError(f"model '{model_name}' must declare its phases as a non-empty tuple of "
                          f"ganzoo.protocols.Phase, got {phases!r}")
    names = [p.name for p in phases]
    if len(set(names)) != len(names):
        raise GanzooError(f"model '{model_name}' declares a phase name twice: {names}")
    unknown = sorted({p.optimizer for p in phases} - set(optimizers))
    if unknown:
        raise GanzooError(f"model '{model_name}': phases step optimizer(s) {unknown}, but configure_optimizers() "
                          f"returned {sorted(optimizers)}")
    unused = sorted(set(optimizers) - {p.optimizer for p in phases})
    if unused:
        raise GanzooError(f"model '{model_name}': optimizer(s) {unused} are stepped by no phase")
    return phases


def check_critic_steps(phases: tuple[Phase, ...], d_steps: int, model_name: str) -> None:
    if d_steps > 1 and not any(p.critic for p in phases):
        raise UsageError(f"--d-steps: model '{model_name}' has no critic phase to repeat "
                         f"(its phases: {', '.join(p.name for p in phases)})")


def batches_per_step(phases: tuple[Phase, ...], d_steps: int) -> float:
    """Batches drawn per step on average: converts an --epochs budget into steps."""
    shared = 1.0
    extra = sum((d_steps - 1) / p.every for p in phases if p.critic)
    fresh = sum(1.0 / p.every for p in phases if p.fresh_batch)
    return shared + extra + fresh


class PhaseRunner:
    """Steps a model's phases. Each phase back-propagates only into its optimizer's parameters:
    no wasted weight gradients for the other networks, and their ``.grad`` stays untouched."""

    def __init__(self, model, optimizers: dict[str, torch.optim.Optimizer], phases: tuple[Phase, ...],
                 d_steps: int = 1, clip_grad: float | None = None,
                 observe: Callable[[str, torch.Tensor, int], None] | None = None):
        self.model, self.optimizers, self.phases = model, optimizers, phases
        self.d_steps, self.clip_grad, self.observe = d_steps, clip_grad, observe
        self.parameters = {name: [p for group in opt.param_groups for p in group["params"]]
                           for name, opt in optimizers.items()}

    def step(self, step: int, draw_batch: Callable[[], Batch], add_logs: Callable[[dict], None]) -> None:
        """Training step ``step`` (from 0): each phase due at it, in declared order. The phases
        share one batch and one scratch dict; a fresh-batch phase draws its own; each --d-steps
        repeat of a critic phase after the first draws a new batch and starts a new scratch,
        which the later phases of the step then share."""
        ctx = StepContext(step=step)
        shared: Batch | None = None
        for phase in self.phases:
            if not phase.runs_at(step):
                continue
            for repeat in range(self.d_steps if phase.critic else 1):
                if repeat:
                    shared, ctx.scratch, ctx.repeat = draw_batch(), {}, repeat
                    batch = shared
                elif phase.fresh_batch:
                    batch = draw_batch()
                else:
                    batch = shared = shared if shared is not None else draw_batch()
                self._run(phase, batch, ctx, add_logs)
            ctx.repeat = 0

    def _run(self, phase: Phase, batch: Batch, ctx: StepContext, add_logs) -> None:
        optimizer, parameters = self.optimizers[phase.optimizer], self.parameters[phase.optimizer]
        optimizer.zero_grad(set_to_none=True)
        result = self.model.phase_loss(phase, batch, ctx)
        if self.observe is not None:
            self.observe(phase.name, result.loss, ctx.step + 1)
        result.loss.backward(inputs=parameters)
        if self.clip_grad is not None:
            torch.nn.utils.clip_grad_norm_(parameters, self.clip_grad)
        optimizer.step()
        add_logs(result.logs)
