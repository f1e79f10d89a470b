"""``ganzoo eval`` and evaluation during training: which samples against which real images."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ganzoo.data.convert import to_model_range, to_uint8
from ganzoo.errors import UsageError
from ganzoo.metrics.eval_settings import EvalSettings
from ganzoo.metrics.evaluate import (
    METRIC_BATCH,
    build_extractor,
    build_metrics,
    compute_metrics,
    dataset_identity,
    default_split,
    encode,
    needs_logits,
    real_features,
    sample_batches,
)
from ganzoo.metrics.pixels import HIGHER_IS_BETTER, pixel_scores
from ganzoo.plugins import PluginSystem, load_plugins
from ganzoo.protocols import FeatureExtractor, inference_kinds
from ganzoo.shared_models import is_shared_model
from ganzoo.training.distributed import World, join
from ganzoo.training.inference import load_run
from ganzoo.training.rng import rng_untouched


class Evaluator:
    """Evaluates one model of a run; the extractor and the real features are prepared once.
    Neither building it nor calling it changes any global random stream (its samples come from
    their own seeded generator), so a run evaluated during training trains bitwise as without.

    In a run of several processes (``world``), each generates and encodes its share of the
    samples (every ``world.size``-th batch of the same seeded sequence); rank 0 gathers the
    features in order, computes the one result and every process receives it. Translation and
    inpainting evaluations run on rank 0.

    ``model`` is the run's model, built: what it is evaluated on (samples, translations or
    fills) follows from the inference it implements; the evaluator is then called with it (or
    with it holding its averaged weights)."""

    def __init__(
        self,
        config: dict,
        settings: EvalSettings,
        device: torch.device,
        model: object,
        plugins: PluginSystem | None = None,
        world: World | None = None,
    ):
        self.world = world or World()
        with rng_untouched():
            self._prepare(config, settings, device, model, plugins)

    def _prepare(
        self, config: dict, settings: EvalSettings, device: torch.device, model: object, plugins: PluginSystem | None
    ) -> None:
        self.settings, self.device, self.plugins = settings, device, plugins or load_plugins()
        self.split = default_split(config, self.plugins) if settings.split is None else settings.split
        self.kind = next(iter(inference_kinds(model)), None)
        if self.kind is None:
            raise UsageError(
                f"evaluation needs a model that samples, translates or inpaints; model "
                f"'{config['model']}' does none of these"
            )
        self.schema = self.plugins.tasks.get(self.plugins.models.get(config["model"]).task).batch
        self.data, self.identity = dataset_identity(config, self.split, self.plugins)
        self.paired = self.data.info.kind == "paired"
        self.metrics = build_metrics(settings.metrics, self.plugins) if settings.metrics else {}
        self.extractor = (
            build_extractor(settings.extractor, self.plugins, settings.inception_weights, device)
            if self.metrics
            else None
        )
        self.real_count = settings.real_count(len(self.data))
        self._real: dict[str, torch.Tensor] = {}
        #: Whether a larger value is better, per value computed so far (pixel scores, then each metric's).
        self.higher_is_better: dict[str, bool] = dict(HIGHER_IS_BETTER)

    def _encoder(self) -> FeatureExtractor:
        """The metrics' feature extractor (built exactly when metrics were chosen)."""
        if self.extractor is None:
            raise UsageError("evaluation needs at least one metric (see `ganzoo list metrics`)")
        return self.extractor

    def ranks_higher(self, metric: str) -> bool:
        """Whether a larger value of the registered metric ``metric`` is better, as it declares."""
        return self.metrics[metric].higher_is_better

    def _scores(self, real_key: str, fake: torch.Tensor, fake_logits: torch.Tensor | None) -> dict[str, float]:
        """The chosen metrics of ``fake`` features against the real images of ``real_key``."""
        return compute_metrics(self.metrics, self.real(real_key), fake, fake_logits, self.higher_is_better)

    def real(self, key: str) -> torch.Tensor:
        if key not in self._real:
            extractor = self._encoder()
            self._real[key] = real_features(self.data, extractor, self.device, self.real_count, self.identity, key)
        return self._real[key]

    @torch.no_grad()
    def __call__(self, model) -> dict[str, float]:
        was_training = model.training
        model.eval()
        try:
            with rng_untouched():
                if self.kind == "sample":
                    results = self._unconditional(model)
                elif not self.world.is_writer:
                    results = None
                elif self.kind == "inpaint":
                    results = self._inpainting(model)
                else:
                    results = self._translation(model)
            return self.world.share(results, patient=True)  # rank 0 may have worked alone
        finally:
            model.train(was_training)

    def _unconditional(self, model) -> dict[str, float] | None:
        world, logits, extractor = self.world, needs_logits(self.metrics), self._encoder()
        real_key = self.schema.images[0]  # what samples imitate: the data's (first) image key
        if world.size == 1:
            fake, fake_logits = encode(
                extractor, sample_batches(model, self.settings.n, self.settings.seed), self.device, logits=logits
            )
            return self._scores(real_key, fake, fake_logits)
        # each rank encodes every world.size-th batch; rank 0 puts them back in one process's order
        batches = sample_batches(
            model, self.settings.n, self.settings.seed, only=lambda index: index % world.size == world.rank
        )
        mine = [encode(extractor, [images], self.device, logits=logits) for images in batches]
        shares = world.gather_objects(mine)
        if not world.is_writer:
            return None
        ordered = [shares[index % world.size][index // world.size] for index in range(sum(map(len, shares)))]
        fake = torch.cat([f for f, _ in ordered])
        # with logits, every share has them
        fake_logits = torch.cat([share for _, share in ordered if share is not None]) if logits else None
        return self._scores(real_key, fake, fake_logits)

    def _translation(self, model) -> dict[str, float]:
        """Paired: L1, PSNR and SSIM of outputs against targets on the held-out split (plus the
        chosen metrics of outputs against targets). Unpaired: the metrics per direction (each
        of the model's ``directions``)."""
        results: dict[str, float] = {}
        for direction in model.directions:
            source, target = ("A", "B") if direction == "a2b" else ("B", "A")
            outputs = self._translations(model, direction, source, target)
            suffix = "" if self.paired else f"_{direction}"
            if self.paired:
                results.update(outputs.pop("paired"))
            if self.metrics:
                scores = self._scores(target, outputs["features"], outputs["logits"])
                self.higher_is_better.update({f"{k}{suffix}": self.higher_is_better[k] for k in scores})
                results.update({f"{k}{suffix}": v for k, v in scores.items()})
        return results

    def _translations(self, model, direction: str, source: str, target: str) -> dict[str, Any]:
        count = min(self.settings.n, len(self.data))
        features: list[torch.Tensor] = []
        logits: list[torch.Tensor] = []  # empty unless a metric needs logits
        sums = {"l1": 0.0, "psnr": 0.0, "ssim": 0.0}
        for start in range(0, count, METRIC_BATCH):
            indices = torch.arange(start, min(count, start + METRIC_BATCH))
            batch = to_model_range(self.data.batch(indices), self.device, masks=self.schema.masks)
            output = model.translate(batch[source], direction).clamp(-1, 1)
            if self.paired:
                for key, value in pixel_scores((output + 1) / 2, (batch[target] + 1) / 2).items():
                    sums[key] += value
            if self.metrics:
                batch_features, batch_logits = encode(
                    self._encoder(), [to_uint8(output)], self.device, needs_logits(self.metrics)
                )
                features.append(batch_features)
                if batch_logits is not None:
                    logits.append(batch_logits)
        out: dict[str, Any] = {
            "features": torch.cat(features) if features else None,
            "logits": torch.cat(logits) if logits else None,
        }
        if self.paired:
            out["paired"] = {key: value / count for key, value in sums.items()}
        return out

    def _inpainting(self, model) -> dict[str, float]:
        """L1 (whole image and hole), PSNR and SSIM of the filled held-out images against the
        originals, and the chosen metrics of the filled images against real ones; then the same
        with an exemplar of another identity or class: the ``exemplar_gain_*`` values say how
        much better the right exemplar does (positive: better, by each value's declared direction)."""
        right = self._fills(model, mismatched=False)
        wrong = self._fills(model, mismatched=True)
        results = dict(right)
        results.update({f"{key}_wrong_exemplar": value for key, value in wrong.items()})
        for key, value in right.items():
            gain = (value - wrong[key]) if self.higher_is_better[key] else (wrong[key] - value)
            results[f"exemplar_gain_{key}"] = gain
        return results

    def _fills(self, model, mismatched: bool) -> dict[str, float]:
        count = min(self.settings.n, len(self.data))
        features: list[torch.Tensor] = []
        logits: list[torch.Tensor] = []  # empty unless a metric needs logits
        sums: dict[str, float] = {}
        for start in range(0, count, METRIC_BATCH):
            indices = torch.arange(start, min(count, start + METRIC_BATCH))
            raw = self.data.batch(indices)
            if mismatched:
                raw["exemplar"] = self.data.mismatched_exemplars(indices)
            batch = to_model_range(raw, self.device, masks=self.schema.masks)
            output = model.inpaint(batch["image"], batch["mask"], batch["exemplar"]).clamp(-1, 1)
            for key, value in pixel_scores((output + 1) / 2, (batch["image"] + 1) / 2, batch["mask"]).items():
                sums[key] = sums.get(key, 0.0) + value
            if self.metrics:
                batch_features, batch_logits = encode(
                    self._encoder(), [to_uint8(output)], self.device, needs_logits(self.metrics)
                )
                features.append(batch_features)
                if batch_logits is not None:
                    logits.append(batch_logits)
        results = {key: value / count for key, value in sums.items()}
        if self.metrics:
            results.update(self._scores("image", torch.cat(features), torch.cat(logits) if logits else None))
        return results


def evaluate_run(
    path: Path | str,
    settings: EvalSettings,
    device: torch.device,
    checkpoint: Path | str | None = None,
    ema: bool = True,
) -> dict:
    """Evaluate a run's checkpoint; the record is appended to the run's metrics.jsonl."""

    world, device_name = join(str(device))  # under torchrun: each process makes its share of the samples
    try:
        device = torch.device(device_name) if world.active else device
        run = load_run(path, device, checkpoint=checkpoint, ema=ema)
        started = time.perf_counter()
        evaluator = Evaluator(run.config, settings, device, run.model, world=world)
        results = evaluator(run.model)
        record = {
            "step": run.step,
            "eval": {k: round(v, 6) for k, v in results.items()},
            "higher_is_better": {k: evaluator.higher_is_better[k] for k in results if k in evaluator.higher_is_better},
            "extractor": settings.extractor if evaluator.metrics else None,
            "n": settings.n,
            "real": evaluator.real_count,
            "split": evaluator.split,
            "checkpoint": run.checkpoint.name,
            "ema": ema,
            "seconds": round(time.perf_counter() - started, 1),
            **({"processes": world.size} if world.active else {}),
        }
        if world.is_writer and not is_shared_model(run.config):  # a shared model's folder is left as it is
            run.run_dir.append_metrics(record)
        return record
    finally:
        world.close()
