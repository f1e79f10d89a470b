"""Running a model's declared phases: which run at a step, on which batch, into which optimizer.

The training loop and ``ganzoo bench MODEL`` both step models through :class:`PhaseRunner`, so a
benchmark measures exactly what training does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from ganzoo.errors import GanzooError, UsageError
from ganzoo.protocols import Batch, Phase, StepContext
from ganzoo.regularization import double_backward
from ganzoo.training.critic_feedback import CriticFeedback
from ganzoo.training.precision import Precision


def checked_phases(model, optimizers: dict[str, torch.optim.Optimizer], model_name: str) -> tuple[Phase, ...]:
    """The model's phases, after checking they fit its optimizers (a plugin bug otherwise)."""
    phases = tuple(model.phases)
    if not phases or not all(isinstance(p, Phase) for p in phases):
        raise GanzooError(
            f"model '{model_name}' must declare its phases as a non-empty tuple of "
            f"ganzoo.protocols.Phase, got {phases!r}"
        )
    names = [p.name for p in phases]
    if len(set(names)) != len(names):
        raise GanzooError(f"model '{model_name}' declares a phase name twice: {names}")
    unknown = sorted({p.optimizer for p in phases} - set(optimizers))
    if unknown:
        raise GanzooError(
            f"model '{model_name}': phases step optimizer(s) {unknown}, but configure_optimizers() "
            f"returned {sorted(optimizers)}"
        )
    unused = sorted(set(optimizers) - {p.optimizer for p in phases})
    if unused:
        raise GanzooError(f"model '{model_name}': optimizer(s) {unused} are stepped by no phase")
    return phases


def check_critic_steps(phases: tuple[Phase, ...], d_steps: int, model_name: str) -> None:
    if d_steps > 1 and not any(p.critic for p in phases):
        raise UsageError(
            f"--d-steps: model '{model_name}' has no critic phase to repeat "
            f"(its phases: {', '.join(p.name for p in phases)})"
        )


def batches_per_step(phases: tuple[Phase, ...], d_steps: int) -> float:
    """Batches drawn per step on average: converts an --epochs budget into steps."""
    shared = 1.0
    extra = sum((d_steps - 1) / p.every for p in phases if p.critic)
    fresh = sum(1.0 / p.every for p in phases if p.fresh_batch)
    return shared + extra + fresh


class PhaseRunner:
    """Steps a model's phases. Each phase back-propagates only into its optimizer's parameters:
    no wasted weight gradients for the other networks, and their ``.grad`` stays untouched.

    Each phase runs under the run's autocast (``precision``) and, in fp16, through its gradient
    scaler; a ``double_backward`` phase runs in fp32 with the networks uncompiled. With
    ``compiled`` networks the first run of each phase (where torch.compile compiles) is timed
    into ``compile_seconds``, which the loop leaves out of its images per second.

    With ``accumulate`` K each batch is split into K micro-batches, each with its own scratch
    dict (so the phases of a step pair up micro-batch by micro-batch); a phase's gradients are
    the mean over its K micro-batches, and ``reduce_gradients`` (the mean over the processes of
    a distributed run) is called once per phase, before its optimizer steps."""

    def __init__(
        self,
        model,
        optimizers: dict[str, torch.optim.Optimizer],
        phases: tuple[Phase, ...],
        d_steps: int = 1,
        clip_grad: float | None = None,
        observe: Callable[[str, torch.Tensor, int], None] | None = None,
        precision: Precision | None = None,
        compiled: bool = False,
        accumulate: int = 1,
        reduce_gradients: Callable[[list[torch.Tensor]], None] | None = None,
        batch_size: int = 0,
        feedback: CriticFeedback | None = None,
    ):
        self.model, self.optimizers, self.phases = model, optimizers, phases
        self.d_steps, self.clip_grad, self.observe = d_steps, clip_grad, observe
        self.precision = precision or Precision("fp32", torch.device("cpu"))
        self.parameters = {
            name: [p for group in opt.param_groups for p in group["params"]] for name, opt in optimizers.items()
        }
        self.compiled, self.accumulate, self.reduce_gradients = compiled, accumulate, reduce_gradients
        self.compile_seconds = 0.0
        self.batch_size = batch_size  # the global batch, told to the model through StepContext
        self.feedback = feedback  # ADA and LeCam, when the run asks for them
        self._warm: set[str] = set()

    def step(self, step: int, draw_batch: Callable[[], Batch], add_logs: Callable[[dict], None]) -> None:
        """Training step ``step`` (from 0): each phase due at it, in declared order. The phases
        share one batch and one scratch dict; a fresh-batch phase draws its own; each --d-steps
        repeat of a critic phase after the first draws a new batch and starts a new scratch,
        which the later phases of the step then share."""
        contexts = [StepContext(step=step, batch_size=self.batch_size) for _ in range(self.accumulate)]
        if self.feedback is not None:  # ADA: what the model puts D's inputs through
            for ctx in contexts:
                ctx.augment = self.feedback.augment
        shared: list[Batch] | None = None
        for phase in self.phases:
            if not phase.runs_at(step):
                continue
            for repeat in range(self.d_steps if phase.critic else 1):
                if repeat:
                    shared = self._micro_batches(draw_batch())
                    for ctx in contexts:
                        ctx.scratch, ctx.repeat = {}, repeat
                    batches = shared
                elif phase.fresh_batch:
                    batches = self._micro_batches(draw_batch())
                else:
                    batches = shared = shared if shared is not None else self._micro_batches(draw_batch())
                self._run(phase, batches, contexts, add_logs)
            for ctx in contexts:
                ctx.repeat = 0
        if self.feedback is not None:  # ADA adjusts p every few steps
            self.feedback.after_step(step + 1)

    def _micro_batches(self, batch: Batch) -> list[Batch]:
        if self.accumulate == 1:
            return [batch]
        chunks = {key: value.chunk(self.accumulate) for key, value in batch.items()}
        return [{key: parts[index] for key, parts in chunks.items()} for index in range(self.accumulate)]

    def _run(self, phase: Phase, batches: list[Batch], contexts: list[StepContext], add_logs) -> None:
        warming = self.compiled and phase.name not in self._warm
        started = time.perf_counter() if warming else 0.0
        optimizer, parameters = self.optimizers[phase.optimizer], self.parameters[phase.optimizer]
        optimizer.zero_grad(set_to_none=True)
        for batch, ctx in zip(batches, contexts):
            with double_backward() if phase.double_backward else self.precision.autocast():
                result = self.model.phase_loss(phase, batch, ctx)
            loss = result.loss
            if phase.critic and self.feedback is not None:
                term, logs = self.feedback.critic_term(phase, result)
                loss = loss if term is None else loss + term
                add_logs(logs)
            if self.observe is not None:
                self.observe(phase.name, loss, ctx.step + 1)
            self.precision.backward(loss if self.accumulate == 1 else loss / self.accumulate, parameters)
            add_logs(result.logs)
        if self.reduce_gradients is not None:
            self.reduce_gradients(parameters)
        self.precision.step(optimizer, parameters, self.clip_grad)
        if warming:
            synchronize(self.precision.device)
            self.compile_seconds += time.perf_counter() - started
            self._warm.add(phase.name)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (for a clock reading; never inside a step)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
