"""Are a digits run's samples recognisable digits? A held-out check, independent of ganzoo's
training: an SVM trained on half of scikit-learn's digits (the other half measures its own
accuracy) labels N generated samples, shrunk back to 8x8.

    python benchmarks/digits_quality.py RUN [--n 1000] [--seed 123]

Prints the share of samples labelled with probability >= 0.9 (``confident_share``), the share as
near a real digit as real digits are to each other (``near_data_share``: the SVM labels noise
and grey blobs confidently too), the share that is both (``recognised_share``; the real held-out
digits, drawn at 16 px: 80.9% confident, 94.9% near, 77.0% both), the share of each class, and the
contrast of the shrunk samples: the share of their pixels near white (>= 14/16) and with any ink
(>= 2/16), 16.0% and 47.5% for the real digits. For
a class-conditional run (cdcgan) it also draws N images of each class k (``generate --class
k``'s path) and prints the share of them the classifier labels k.

``within_class_spread``: how varied the samples of one class are, as the mean distance between
two of them (8x8, per class as the classifier labels them, or as asked) over the same mean for
the real digits of that class, averaged over the classes: about 1 for samples as varied as
the data, near 0 for a model that draws one image per class.

Of the samples below 0.9 it prints the mean of their two highest probabilities together and
the class pairs they hesitate between most (a sample between two digits puts nearly all its
probability on those two). ``--blends`` prints, instead of scoring a run, the check's confident
share on pixel blends of two real held-out digits, of the same class and of two classes.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from ganzoo.errors import UsageError
from ganzoo.protocols import SamplesConditionally
from ganzoo.training.devices import resolve_device
from ganzoo.training.inference import load_run
from ganzoo.training.samples import draw_codes, sample_images


def halves(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The digits' indices split in two: the check's training half and its held-out half."""
    order = np.random.default_rng(seed).permutation(len(load_digits().data))
    return order[: len(order) // 2], order[len(order) // 2 :]


def digits_classifier(seed: int = 0) -> tuple[CalibratedClassifierCV, float]:
    digits = load_digits()
    train, held_out = halves(seed)
    classifier = CalibratedClassifierCV(SVC(gamma=0.001, C=10), ensemble=False)
    classifier.fit(digits.data[train], digits.target[train])
    return classifier, float(classifier.score(digits.data[held_out], digits.target[held_out]))


def eight_by_eight(images: torch.Tensor) -> np.ndarray:
    """uint8 (N, 1, R, R) images -> (N, 64) features on the digits' 0..16 scale."""
    small = F.interpolate(images.float() / 255.0, size=(8, 8), mode="area")
    return (small * 16.0).flatten(1).numpy()


def near_the_data(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """Whether each sample lies as near a real digit as real digits do: its distance to the
    nearest digit of the check's training half at most the 95th percentile of that distance for
    the held-out half. A classifier labels anything, noise included, with some confidence; this
    says whether the sample is in the data's neighbourhood at all."""
    digits = torch.as_tensor(load_digits().data, dtype=torch.float64)
    train, held_out = halves(seed)
    reference = digits[train]
    threshold = torch.quantile(torch.cdist(digits[held_out], reference).min(1).values, 0.95)
    samples = torch.as_tensor(features, dtype=torch.float64)
    return (torch.cdist(samples, reference).min(1).values <= threshold).numpy()


def score_images(images: torch.Tensor, classifier: CalibratedClassifierCV) -> dict:
    """uint8 (N, 1, R, R) images -> confidence and class shares."""
    features = eight_by_eight(images)
    probabilities = classifier.predict_proba(features)
    labels = probabilities.argmax(1)
    shares = np.bincount(labels, minlength=10) / len(labels)
    top = probabilities.max(1)
    confident, near = top >= 0.9, near_the_data(features)
    doubtful = np.sort(probabilities, 1)[:, ::-1][~confident]
    pairs = Counter(tuple(sorted(p)) for p in np.argsort(probabilities, 1)[:, -2:][~confident])
    levels = torch.as_tensor(features)
    return {
        "near_white_pixels": round(float((levels >= 14).float().mean()), 4),
        "ink_pixels": round(float((levels >= 2).float().mean()), 4),
        "confident_share": float(confident.mean()),
        "near_data_share": float(near.mean()),
        "recognised_share": float((confident & near).mean()),
        "mean_max_probability": float(top.mean()),
        "class_shares": [round(float(s), 3) for s in shares],
        "min_class_share": float(shares.min()),
        "max_class_share": float(shares.max()),
        "doubtful_top_two_mass": round(float(doubtful[:, :2].sum(1).mean()), 3) if len(doubtful) else None,
        "doubtful_pairs": [f"{a}/{b}: {n}" for (a, b), n in pairs.most_common(4)],
        "within_class_spread": within_class_spread(features, labels),
    }


def pairwise_spread(features: np.ndarray) -> float:
    """The mean Euclidean distance between two different rows (nan with fewer than two)."""
    if len(features) < 2:
        return float("nan")
    return float(F.pdist(torch.as_tensor(features, dtype=torch.float64)).mean())


def within_class_spread(features: np.ndarray, labels: np.ndarray) -> float | None:
    """Mean over the classes present (two samples at least) of the samples' pairwise spread over
    the real digits' (see the module's doc)."""
    digits = load_digits()
    ratios = [
        pairwise_spread(features[labels == k]) / pairwise_spread(digits.data[digits.target == k])
        for k in range(10)
        if (labels == k).sum() >= 2
    ]
    return round(float(np.mean(ratios)), 3) if ratios else None  # None: JSON has no NaN


def blend_scores(classifier: CalibratedClassifierCV, seed: int = 0, n: int = 2000) -> dict:
    """The confident share on ``w * a + (1 - w) * b`` of held-out digits a, b (same class or not)."""
    digits = load_digits()
    held_out = halves(seed)[1]
    rng, result = np.random.default_rng(seed), {}
    for weight in (0.5, 0.7, 0.85):
        same, other = [], []
        for _ in range(n):
            a = rng.choice(held_out)
            b = rng.choice(held_out[digits.target[held_out] == digits.target[a]])
            c = rng.choice(held_out[digits.target[held_out] != digits.target[a]])
            same.append(weight * digits.data[a] + (1 - weight) * digits.data[b])
            other.append(weight * digits.data[a] + (1 - weight) * digits.data[c])
        confident = [float((classifier.predict_proba(np.round(x)).max(1) >= 0.9).mean()) for x in (same, other)]
        result[f"blend {weight:g}/{1 - weight:g}"] = {"same_class": confident[0], "two_classes": confident[1]}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--blends", action="store_true", help="score blends of real digits instead of a run")
    args = parser.parse_args()
    classifier, accuracy = digits_classifier()
    if args.blends or args.run is None:
        print(json.dumps(blend_scores(classifier), indent=2))
        return
    try:
        loaded = load_run(args.run, resolve_device("cpu"))
    except UsageError as error:  # a missing or broken run: one line, as ganzoo's own commands
        raise SystemExit(f"error: {error}") from None
    model, cpu = loaded.model, torch.device("cpu")
    noise, labels = draw_codes(model, args.n, torch.Generator().manual_seed(args.seed))
    result = score_images(sample_images(model, noise, cpu, labels=labels), classifier)
    if isinstance(model, SamplesConditionally):
        per_class, asked_features = [], []
        for k in range(10):
            noise, labels = draw_codes(model, args.n, torch.Generator().manual_seed(args.seed + k), [k])
            features = eight_by_eight(sample_images(model, noise, cpu, labels=labels))
            per_class.append(float((classifier.predict(features) == k).mean()))
            asked_features.append(features)
        result["asked_class_labelled_as_asked"] = [round(share, 3) for share in per_class]
        result["min_asked_class_share"] = round(min(per_class), 3)
        result["asked_class_spread"] = within_class_spread(
            np.concatenate(asked_features), np.repeat(np.arange(10), args.n)
        )
    print(
        json.dumps(
            {"run": args.run, "n": args.n, "classifier_held_out_accuracy": round(accuracy, 4), **result}, indent=2
        )
    )


if __name__ == "__main__":
    main()
