"""Metric values from extracted features, computed by torchmetrics (FID, KID, IS) and
torch-fidelity (precision/recall). The metrics are fed features rather than images through an
identity "extractor", so the real side can be cached and each image is encoded only once."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganzoo.errors import UsageError


class _Given(nn.Module):
    """Hands torchmetrics the features (or logits) it is given."""

    def __init__(self, width: int):
        super().__init__()
        self.num_features = width

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def _batches(features: torch.Tensor, size: int = 4096):
    return features.split(size)


#: The features handed to a metric are already every process's (a distributed run gathers them
#: on rank 0): torchmetrics must not try to gather them again from processes that are not there.
LOCAL: dict[str, Any] = {"sync_on_compute": False}  # Any: spread into metrics typed per keyword


def fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to the two feature sets (Heusel et al. 2017)."""
    # lazy: torchmetrics takes seconds to import; only this metric needs it
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]), reset_real_features=False, **LOCAL)
    for chunk in _batches(real):
        metric.update(chunk, real=True)
    for chunk in _batches(fake):
        metric.update(chunk, real=False)
    return float(metric.compute())


def kid(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, subset_size: int = 1000) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): mean and std over random subsets; the
    subset size shrinks to the smaller set when there are fewer samples."""
    # lazy: torchmetrics takes seconds to import; only this metric needs it
    from torchmetrics.image.kid import KernelInceptionDistance

    size = min(subset_size, len(real), len(fake))
    with torch.random.fork_rng(devices=[]):  # subsets are drawn from the global RNG: keep it untouched
        torch.manual_seed(0)
        metric = KernelInceptionDistance(feature=_Given(real.shape[1]), subsets=subsets, subset_size=size, **LOCAL)
        metric.update(real, real=True)
        metric.update(fake, real=False)
        mean, std = metric.compute()
    return float(mean), float(std)


def inception_score(logits: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """exp(E[KL(p(y|x) || p(y))]) over ``splits`` (Salimans et al. 2016): mean and std."""
    # lazy: torchmetrics takes seconds to import; only this metric needs it
    from torchmetrics.image.inception import InceptionScore

    splits = max(1, min(splits, len(logits) // 2))
    with torch.random.fork_rng(devices=[]):  # IS shuffles with the global RNG
        torch.manual_seed(0)
        metric = InceptionScore(feature=_Given(logits.shape[1]), splits=splits, **LOCAL)
        metric.update(logits)
        mean, std = metric.compute()
    return float(mean), float(std)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, neighbourhood: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019): the share of fakes inside the
    real manifold, and of reals inside the fake one (k-NN balls, k = ``neighbourhood``)."""
    # lazy: torch-fidelity takes a second to import; only this metric needs it
    from torch_fidelity.metric_prc import calculate_precision_recall_part

    smallest = min(len(real), len(fake))
    if smallest <= neighbourhood:
        raise UsageError(
            f"precision/recall compares each image with its {neighbourhood} nearest neighbours, so it "
            f"needs more than {neighbourhood} real and generated images (got {len(real)} real, "
            f"{len(fake)} generated): raise --n / --real"
        )
    return calculate_precision_recall_part(fake.float(), real.float(), neighbourhood, batch_size=4096)


# --- the registered metrics (ganzoo.protocols.Metric): features in, named values out ---------


class FID:
    """Frechet Inception Distance: lower is better."""

    higher_is_better = False
    needs_logits = False

    def __call__(self, real, fake, fake_logits=None) -> dict[str, float]:
        return {"fid": fid(real, fake)}


class KID:
    """Kernel Inception Distance, with its spread over subsets: lower is better."""

    higher_is_better = False
    needs_logits = False

    def __call__(self, real, fake, fake_logits=None) -> dict[str, float]:
        mean, std = kid(real, fake)
        return {"kid": mean, "kid_std": std}


class InceptionScore:
    """Inception Score of the generated images' class scores (logits): higher is better."""

    higher_is_better = True
    needs_logits = True

    def __call__(self, real, fake, fake_logits=None) -> dict[str, float]:
        mean, std = inception_score(fake_logits)
        return {"is": mean, "is_std": std}


class PrecisionRecall:
    """Improved precision (fidelity) and recall (coverage): higher is better for both."""

    higher_is_better = True
    needs_logits = False

    def __call__(self, real, fake, fake_logits=None) -> dict[str, float]:
        precision, recall = precision_recall(real, fake)
        return {"precision": precision, "recall": recall}
