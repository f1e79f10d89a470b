"""Are a digits run's samples recognisable digits? A held-out check, independent of ganzoo's
training: an SVM trained on half of scikit-learn's digits (the other half measures its own
accuracy) labels N generated samples, shrunk back to 8x8.

    python benchmarks/digits_quality.py RUN [--n 1000] [--seed 123]

Prints the share of samples labelled with probability >= 0.9, the share of each class, and the
contrast of the shrunk samples: the share of their pixels near white (>= 14/16) and with any ink
(>= 2/16), 16.0% and 47.5% for the real digits. For
a class-conditional run (cdcgan) it also draws N images of each class k (``generate --class
k``'s path) and prints the share of them the classifier labels k.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from ganzoo.protocols import SamplesConditionally
from ganzoo.training.devices import resolve_device
from ganzoo.training.inference import load_run
from ganzoo.training.samples import draw_codes, sample_images


def digits_classifier(seed: int = 0) -> tuple[CalibratedClassifierCV, float]:
    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.data))
    train, held_out = order[: len(order) // 2], order[len(order) // 2 :]
    classifier = CalibratedClassifierCV(SVC(gamma=0.001, C=10), ensemble=False)
    classifier.fit(digits.data[train], digits.target[train])
    return classifier, float(classifier.score(digits.data[held_out], digits.target[held_out]))


def score_images(images: torch.Tensor, classifier: CalibratedClassifierCV) -> dict:
    """uint8 (N, 1, R, R) images -> confidence and class shares."""
    small = F.interpolate(images.float() / 255.0, size=(8, 8), mode="area")
    features = (small * 16.0).flatten(1).numpy()
    probabilities = classifier.predict_proba(features)
    labels = probabilities.argmax(1)
    shares = np.bincount(labels, minlength=10) / len(labels)
    levels = small * 16.0
    return {
        "near_white_pixels": round(float((levels >= 14).float().mean()), 4),
        "ink_pixels": round(float((levels >= 2).float().mean()), 4),
        "confident_share": float((probabilities.max(1) >= 0.9).mean()),
        "mean_max_probability": float(probabilities.max(1).mean()),
        "class_shares": [round(float(s), 3) for s in shares],
        "min_class_share": float(shares.min()),
        "max_class_share": float(shares.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=123)
    args = parser.parse_args()
    classifier, accuracy = digits_classifier()
    loaded = load_run(args.run, resolve_device("cpu"))
    model, cpu = loaded.model, torch.device("cpu")
    noise, labels = draw_codes(model, args.n, torch.Generator().manual_seed(args.seed))
    result = score_images(sample_images(model, noise, cpu, labels=labels), classifier)
    if isinstance(model, SamplesConditionally):
        per_class = []
        for k in range(10):
            noise, labels = draw_codes(model, args.n, torch.Generator().manual_seed(args.seed + k), [k])
            small = F.interpolate(
                sample_images(model, noise, cpu, labels=labels).float() / 255.0, size=(8, 8), mode="area"
            )
            per_class.append(float((classifier.predict((small * 16.0).flatten(1).numpy()) == k).mean()))
        result["asked_class_labelled_as_asked"] = [round(share, 3) for share in per_class]
        result["min_asked_class_share"] = round(min(per_class), 3)
    print(
        json.dumps(
            {"run": args.run, "n": args.n, "classifier_held_out_accuracy": round(accuracy, 4), **result}, indent=2
        )
    )


if __name__ == "__main__":
    main()
