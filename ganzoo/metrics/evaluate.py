"""Evaluating a run: generated samples against real images, through a feature extractor.

Samples are generated in batches and only their features are kept. The real side's features
are computed once per (dataset, files, resolution, split, count, extractor) and cached in
``$GANZOO_DATA/stats/``, so evaluating ten runs on one dataset encodes its images once.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ganzoo.data.cache import data_home
from ganzoo.data.convert import to_uint8
from ganzoo.data.loading import open_dataset
from ganzoo.errors import UsageError
from ganzoo.plugins import PluginSystem
from ganzoo.protocols import FeatureExtractor, Metric, ReadsPreparedCache
from ganzoo.specs import build_conforming
from ganzoo.training.samples import draw_codes

METRIC_BATCH = 100


def build_extractor(name: str, plugins: PluginSystem, weights: str | None, device: torch.device) -> FeatureExtractor:
    """The registered feature extractor ``name`` on ``device``, in inference mode."""
    entry = plugins.metrics.entry(name)
    if entry.spec.kind != "feature-extractor":
        raise UsageError(f"'{name}' is a metric, not a feature extractor (see `ganzoo list metrics`)")
    extractor = build_conforming(
        entry.spec.build, FeatureExtractor, f"feature extractor '{name}' of plugin {entry.provider}", weights=weights
    )
    return extractor.to(device).eval()


def build_metrics(names: Iterable[str], plugins: PluginSystem) -> dict[str, Metric]:
    """The registered metrics ``names``, each checked to be a Metric (its direction, its need of logits)."""
    metrics = {}
    for name in names:
        entry = plugins.metrics.entry(name)
        if entry.spec.kind != "metric":
            raise UsageError(f"'{name}' is a feature extractor; pass it as --feature-extractor")
        metrics[name] = build_conforming(entry.spec.build, Metric, f"metric '{name}' of plugin {entry.provider}")
    return metrics


@torch.no_grad()
def encode(
    extractor: FeatureExtractor, batches: Iterable[torch.Tensor], device: torch.device, logits: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Features (and logits) of uint8 batches, gathered on the CPU."""
    features, scores = [], []
    for images in batches:
        images = images.to(device)
        features.append(extractor.features(images).float().cpu())
        if logits:
            scores.append(extractor.logits(images).float().cpu())
    return torch.cat(features), (torch.cat(scores) if logits else None)


def real_features(
    data, extractor: FeatureExtractor, device: torch.device, count: int, identity: dict, key: str
) -> torch.Tensor:
    """Features of the first ``count`` images of a fixed shuffle of ``data``, cached on disk."""

    digest = hashlib.sha256(
        json.dumps(
            {**identity, "key": key, "count": count, "extractor": extractor.key}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:16]
    path = (
        data_home() / "stats" / f"{identity['dataset']}-{identity['split']}-{identity['resolution']}px-"
        f"{extractor.name}-{count}-{digest}.safetensors"
    )
    try:
        return load_file(path)["features"]
    except Exception:  # not computed yet, or damaged: compute it again
        pass
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:count]
    batches = (data.batch(order[i : i + METRIC_BATCH])[key] for i in range(0, count, METRIC_BATCH))
    features, _ = encode(extractor, batches, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    save_file({"features": features.contiguous()}, temporary, metadata={"identity": json.dumps(identity, default=str)})
    temporary.replace(path)
    return features


def sample_batches(model, n: int, seed: int, batch: int = METRIC_BATCH, only=None):
    """uint8 samples of a model that samples from noise, ``batch`` at a time, from a seeded
    generator; a conditional model's conditions are drawn like its training data's. ``only``
    (a batch index -> bool) picks the batches to generate: the codes of the others are still
    drawn, so each batch is the same whichever process makes it."""

    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    for index, start in enumerate(range(0, n, batch)):
        noise, labels = draw_codes(model, min(batch, n - start), generator)
        if only is not None and not only(index):
            continue
        with torch.no_grad():
            yield to_uint8(model.sample(noise.to(device), labels.to(device) if labels is not None else None))


def compute_metrics(
    metrics: dict[str, Metric],
    real: torch.Tensor,
    fake: torch.Tensor,
    fake_logits: torch.Tensor | None,
    directions: dict[str, bool] | None = None,
) -> dict[str, float]:
    """Every metric's values; ``fake_logits`` go only to the metrics that declare they need them.
    ``directions``, when given, learns whether a larger value is better for each value returned."""
    results: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        for metric in metrics.values():
            values = metric(real, fake, fake_logits if metric.needs_logits else None)
            results.update(values)
            if directions is not None:
                directions.update(dict.fromkeys(values, metric.higher_is_better))
    return results


def needs_logits(metrics: dict[str, Metric]) -> bool:
    return any(metric.needs_logits for metric in metrics.values())


def dataset_identity(config: dict, split: str, plugins: PluginSystem) -> tuple[Any, dict]:
    """The run's dataset (split ``split``) opened as it was trained, and what identifies it."""
    training = config["training"]
    spec = plugins.datasets.get(config["dataset"])
    data = open_dataset(
        spec,
        root=config.get("data_root"),
        resolution=training["resolution"],
        split=split,
        fit=training.get("fit", "crop"),
        options=training.get("data_options", {}),
    )
    manifest = data.manifest if isinstance(data, ReadsPreparedCache) else None
    identity = {
        "dataset": spec.name,
        "split": split,
        "resolution": training["resolution"],
        "fit": training.get("fit", "crop"),
        "options": training.get("data_options", {}),
        "root": str(Path(config["data_root"]).resolve()) if config.get("data_root") else None,
        "source": manifest["fingerprint"] if manifest else None,
    }
    return data, identity


def default_split(config: dict, plugins: PluginSystem) -> str:
    splits = plugins.datasets.get(config["dataset"]).splits
    return "test" if "test" in splits else splits[0]
