"""benchmarks/digits_quality.py, the check every digits demo's docs figures come from: it must
tell real digits, copies and noise apart."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
digits_quality = pytest.importorskip("digits_quality")


def as_images(features: np.ndarray) -> torch.Tensor:
    """8x8 digits on the 0..16 scale -> uint8 (N, 1, 16, 16) images, as a 16-px run draws them."""
    images = torch.as_tensor(features, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0 * 255.0
    return torch.nn.functional.interpolate(images, scale_factor=2, mode="nearest").round().to(torch.uint8)


def test_the_real_digits_spread_as_themselves_and_copies_not_at_all():
    digits = load_digits()
    assert digits_quality.within_class_spread(digits.data, digits.target) == pytest.approx(1.0, abs=1e-3)
    one_per_class = np.stack([digits.data[digits.target == k][0] for k in range(10)])
    copies = np.repeat(one_per_class, 20, axis=0)
    assert digits_quality.within_class_spread(copies, np.repeat(np.arange(10), 20)) == 0.0


def test_held_out_digits_are_recognised_and_noise_and_blobs_are_not():
    classifier, accuracy = digits_quality.digits_classifier()
    assert accuracy > 0.97
    digits = load_digits()
    real = digits_quality.score_images(as_images(digits.data[digits_quality.halves()[1]]), classifier)
    assert real["near_data_share"] == pytest.approx(0.95, abs=0.01)  # the threshold is their 95th percentile
    assert real["recognised_share"] > 0.7 and real["min_class_share"] > 0.08
    assert 0.9 < real["within_class_spread"] < 1.1
    noise = torch.randint(0, 256, (500, 1, 16, 16), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    grey = torch.full((50, 1, 16, 16), 128, dtype=torch.uint8)
    for fake in (noise, grey):  # the SVM labels both confidently (noise 63%, grey 100%): nearness rules them out
        score = digits_quality.score_images(fake, classifier)
        assert score["near_data_share"] == 0.0 and score["recognised_share"] == 0.0, score


def test_a_missing_run_is_one_line(tmp_path):
    import subprocess

    script = ROOT / "benchmarks" / "digits_quality.py"
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "nope")], capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [f"error: run folder '{tmp_path / 'nope'}' does not exist"]
