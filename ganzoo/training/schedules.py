"""The learning-rate schedule and the generator average's decay, from the settings and the model."""

from __future__ import annotations

from ganzoo.protocols import AveragesOverImages, DecaysItsLearningRate
from ganzoo.training.ema import HalfLife, WarmedDecay
from ganzoo.training.settings import DEFAULT_EMA_DECAY, TrainSettings


class LearningRateSchedule:
    """constant, or linear-decay: constant until --decay-start (default: half the steps), then
    linearly to 0 at the last step; times the model's own factor where it decays its rate in
    images (DecaysItsLearningRate). ``factor`` is what each optimizer's LambdaLR multiplies by."""

    def __init__(self, settings: TrainSettings, total_steps: int, model: object = None):
        self.constant = settings.lr_schedule == "constant"
        self.total = total_steps
        self.start = settings.decay_start if settings.decay_start is not None else total_steps // 2
        self.batch_size = settings.batch_size
        self.model = model if isinstance(model, DecaysItsLearningRate) else None

    def factor(self, step: int) -> float:
        own = self.model.lr_factor(step * self.batch_size) if self.model is not None else 1.0
        if self.constant or step < self.start:
            return own
        return own * max(0.0, (self.total - step) / max(1, self.total - self.start))


def ema_schedule(settings: TrainSettings, model: object) -> WarmedDecay | HalfLife:
    """--ema-decay (warmed up), or the model's half-life in images at this batch size with its
    ramp-up (as its reference implementation averages), or the default decay (warmed up)."""
    if settings.ema_decay is not None:
        return WarmedDecay(settings.ema_decay)
    if isinstance(model, AveragesOverImages):
        kimg = model.ema_half_life_kimg(settings.batch_size)
        if kimg > 0:
            return HalfLife(1000.0 * kimg, settings.batch_size, model.ema_rampup())
    return WarmedDecay(DEFAULT_EMA_DECAY)
