"""--eval-every: the averaged generator scored during training (every process scores its share),
and ranked by the metric's own direction; the trainer keeps a new best as checkpoints/best.safetensors."""

from __future__ import annotations

import torch

from ganzoo.execution import eager_networks
from ganzoo.metrics.eval_settings import EvalSettings
from ganzoo.metrics.runner import Evaluator
from ganzoo.plugins import PluginSystem
from ganzoo.training.distributed import World
from ganzoo.training.ema import GeneratorEMA
from ganzoo.training.lifecycle import Lifecycle
from ganzoo.training.plan import TrainPlan, plan_to_dict


class Evaluation:
    """Its ``best`` value goes into every checkpoint, so a resumed run ranks against it."""

    def __init__(
        self,
        plan: TrainPlan,
        model: torch.nn.Module,
        ema: GeneratorEMA,
        device: torch.device,
        plugins: PluginSystem,
        world: World,
        lifecycle: Lifecycle,
    ):
        settings = plan.settings
        self.model, self.ema, self.lifecycle = model, ema, lifecycle
        self.metric = settings.eval_metric
        self.every = settings.eval_every or 1
        wanted = EvalSettings(metrics=(settings.eval_metric,), n=settings.eval_n, extractor=settings.eval_extractor)
        with world.writer_first():  # held-out caches, extractor weights: made once, by rank 0
            self.evaluator = Evaluator(plan_to_dict(plan), wanted, device, model, plugins, world=world)
        self.best: float | None = None  # the best value so far (its checkpoint is best.safetensors)
        self.value: float | None = None  # the latest
        self.improved = False  # whether the latest is a new best

    def due(self, step: int, at_end: bool) -> bool:
        return step % self.every == 0 or at_end

    def run(self, step: int) -> bool:
        """Score the averaged generator and announce it (on_evaluate); whether it is a new best."""
        with self.ema.swapped_in(self.model) as model, eager_networks():
            results = self.evaluator(model)
        self.value = primary_value(results, self.metric)
        higher = self.evaluator.ranks_higher(self.metric)  # as the metric declares
        self.improved = self.best is None or (self.value > self.best if higher else self.value < self.best)
        if self.improved:
            self.best = self.value
        self.lifecycle.emit("on_evaluate", step=step, results=dict(results))
        return self.improved

    def summary(self) -> str:
        """'fid 12.3 (best)', or 'fid 14.1 (best 12.3)'."""
        return f"{self.metric} {self.value:.4g}" + (" (best)" if self.improved else f" (best {self.best:.4g})")


def primary_value(results: dict[str, float], metric: str) -> float:
    """The number that ranks checkpoints: the metric's own value, or the mean over directions
    (``fid_a2b``, ``fid_b2a``) for two-way models."""
    if metric in results:
        return results[metric]
    values = [v for k, v in results.items() if k.startswith(f"{metric}_") and not k.endswith("_std")]
    return sum(values) / len(values)
