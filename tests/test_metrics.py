"""Metrics against independent computations and closed forms; `ganzoo eval` offline; the
Inception weights' offline paths; evaluation during training and the best checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import torch

from conftest import assert_no_traceback, run_cli
from ganzoo.metrics import scores

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def numpy_fid(a: np.ndarray, b: np.ndarray) -> float:
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def with_moments(n: int, mean: np.ndarray, cov: np.ndarray, seed: int) -> np.ndarray:
    """Samples whose empirical mean and covariance are exactly ``mean`` and ``cov``."""
    x = np.random.default_rng(seed).standard_normal((n, len(mean)))
    x -= x.mean(0)
    x = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T  # whitened
    return x @ np.linalg.cholesky(cov).T + mean


def test_fid_equals_an_independent_scipy_computation():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((600, 12)) @ rng.standard_normal((12, 12))
    b = rng.standard_normal((500, 12)) * 1.5 + 0.3
    ours = scores.fid(torch.from_numpy(a), torch.from_numpy(b))
    assert ours == pytest.approx(numpy_fid(a, b), rel=1e-6)
    assert abs(scores.fid(torch.from_numpy(a), torch.from_numpy(a))) < 1e-6


def test_fid_of_gaussians_with_known_moments_is_the_closed_form():
    m1, m2 = np.zeros(4), np.array([1.0, -2.0, 0.5, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25, 2.0]), np.array([9.0, 1.0, 1.0, 2.0])
    a = with_moments(400, m1, np.diag(v1), 1)
    b = with_moments(300, m2, np.diag(v2), 2)
    closed = ((m1 - m2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()  # 5.25 + 4.25 + 0.25 + 0 + 0
    assert scores.fid(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(closed, rel=1e-6)


def test_kid_handles_small_sets_and_separates_distributions():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(120, 16, generator=g)
    same, _ = scores.kid(real, torch.randn(80, 16, generator=g))  # subset size shrinks to 80
    near, _ = scores.kid(real, torch.randn(80, 16, generator=g) + 0.5)
    far, far_std = scores.kid(real, torch.randn(80, 16, generator=g) + 2)
    assert abs(same) < 0.2 < near < far and far_std >= 0  # unbiased: ~0 for one distribution
    assert scores.kid(real, real[:50]) == scores.kid(real, real[:50])  # subsets are seeded: repeatable


def test_inception_score_on_a_fake_classifier_with_known_outputs():
    classes = 10
    confident = torch.full((100, classes), -50.0)
    confident[torch.arange(100), torch.arange(100) % classes] = 50.0  # sure, and evenly spread
    assert scores.inception_score(confident, splits=1)[0] == pytest.approx(classes, rel=1e-4)
    assert scores.inception_score(torch.zeros(100, classes), splits=1)[0] == pytest.approx(1.0, abs=1e-5)
    one_class = torch.zeros(100, classes)
    one_class[:, 3] = 50.0
    assert scores.inception_score(one_class, splits=5)[0] == pytest.approx(1.0, abs=1e-4)


def test_precision_and_recall_on_overlapping_and_disjoint_sets():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(200, 8, generator=g)
    assert scores.precision_recall(real, real.clone()) == (1.0, 1.0)
    precision, recall = scores.precision_recall(real, torch.randn(200, 8, generator=g) + 50)
    assert precision == 0.0 and recall == 0.0


@pytest.fixture(scope="module")
def digits_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    for name, steps in (("trained", 300), ("untrained", 1)):
        result = run_cli("train", "dcgan", "--steps", steps, "--out", out, "--name", name, "--seed", "1")
        assert result.returncode == 0, result.stderr
    return out


def test_eval_with_the_digits_extractor_ranks_trained_above_untrained(digits_runs, tmp_path):
    env = {"GANZOO_DATA": str(tmp_path), "GANZOO_INCEPTION_URL": "http://127.0.0.1:9/none.pth"}
    values = {}
    for name in ("trained", "untrained"):
        result = run_cli(
            "eval",
            digits_runs / name,
            "--feature-extractor",
            "digits",
            "--metric",
            "fid,kid,is,pr",
            "--n",
            "500",
            "--json",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        values[name] = json.loads(result.stdout)["eval"]
    trained, untrained = values["trained"], values["untrained"]
    assert trained["fid"] < untrained["fid"] / 3 and trained["kid"] < untrained["kid"]
    assert trained["is"] > untrained["is"] + 1 and trained["precision"] > untrained["precision"]
    assert not (tmp_path / "extractors").exists()  # the weights ship with ganzoo: nothing trained or cached
    records = [json.loads(l) for l in (digits_runs / "trained" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["eval"]["fid"] == pytest.approx(trained["fid"]) and records[-1]["extractor"] == "digits"


def make_inception_file(path):
    """An Inception-v3 state dict produced through torch-fidelity's own class (random weights:
    the real file cannot be downloaded here), saved where the hub cache keeps it."""
    import torch_fidelity.feature_extractor_inceptionv3 as module

    original_load, original_url = module.FeatureExtractorInceptionV3.load_state_dict, module.load_state_dict_from_url
    module.FeatureExtractorInceptionV3.load_state_dict = lambda self, state, strict=True: None
    module.load_state_dict_from_url = lambda *args, **kwargs: {}
    try:
        torch.manual_seed(0)
        net = module.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    finally:
        module.FeatureExtractorInceptionV3.load_state_dict, module.load_state_dict_from_url = (
            original_load,
            original_url,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)


def test_the_shipped_digits_extractor_labels_the_digits_and_refuses_a_damaged_file(tmp_path, monkeypatch):
    from sklearn.datasets import load_digits

    from ganzoo.errors import GanzooError
    from ganzoo.metrics import digits_net

    digits = load_digits()
    images = torch.from_numpy(digits.images).float().div(16.0).mul(255).round().to(torch.uint8).unsqueeze(1)
    with torch.no_grad():
        labels = digits_net.DigitsExtractor().logits(images).argmax(1)
    assert (labels == torch.from_numpy(digits.target)).float().mean() > 0.97

    damaged = tmp_path / "digits-v1.safetensors"
    damaged.write_bytes(digits_net.WEIGHTS.read_bytes()[:-10])
    monkeypatch.setattr(digits_net, "WEIGHTS", damaged)
    with pytest.raises(GanzooError, match="cannot be read .*SHA-256.*reinstall ganzoo"):
        digits_net.DigitsExtractor()


def test_inception_weights_offline_error_and_hub_cache(digits_runs, tmp_path):
    from ganzoo.metrics.extractors import INCEPTION_FILE

    env = {"TORCH_HOME": str(tmp_path / "torch"), "GANZOO_INCEPTION_URL": "http://127.0.0.1:9/" + INCEPTION_FILE}
    result = run_cli("eval", digits_runs / "trained", "--metric", "fid", "--n", "20", env=env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert INCEPTION_FILE in result.stderr and "127.0.0.1:9" in result.stderr
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in result.stderr
    assert_no_traceback(result)

    make_inception_file(tmp_path / "torch" / "hub" / "checkpoints" / INCEPTION_FILE)
    result = run_cli(
        "eval", digits_runs / "trained", "--metric", "fid,is", "--n", "40", "--real", "40", "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["extractor"] == "inception" and np.isfinite(record["eval"]["fid"]) and record["eval"]["is"] >= 1

    evil = tmp_path / "evil.pth"
    torch.save({"weights": torch.zeros(1), "payload": print}, evil)  # a pickle with a callable inside
    result = run_cli("eval", digits_runs / "trained", "--n", "20", "--inception-weights", evil, env=env)
    assert result.returncode == 1 and "not an Inception state dict" in result.stderr
    assert_no_traceback(result)


def test_eval_every_keeps_a_best_checkpoint_that_generate_uses(tmp_path):
    common = ("--eval-every", "40", "--eval-extractor", "digits", "--eval-n", "200", "--out", tmp_path)
    result = run_cli("train", "dcgan", "--steps", "120", "--name", "e", *common)
    assert result.returncode == 0, result.stderr
    evals = [json.loads(l) for l in (tmp_path / "e" / "metrics.jsonl").read_text().splitlines() if '"eval"' in l]
    assert [e["step"] for e in evals] == [40, 80, 120]
    best = min(evals, key=lambda e: e["eval"]["fid"])
    assert best["best"] and (tmp_path / "e" / "checkpoints" / "best.safetensors").is_file()
    result = run_cli("generate", tmp_path / "e", "--checkpoint", "best", "--n", "4", "--out", tmp_path / "g")
    assert result.returncode == 0 and len(list((tmp_path / "g").glob("*.png"))) == 4, result.stderr
    result = run_cli(
        "train",
        "dcgan",
        "--steps",
        "10",
        "--name",
        "x",
        "--eval-every",
        "5",
        "--eval-metric",
        "digits",
        "--out",
        tmp_path,
    )
    assert result.returncode == 2 and "not a metric" in result.stderr


def test_evaluation_during_training_keeps_resume_exact(tmp_path):
    from ganzoo.training.checkpoint import load_checkpoint

    training = (
        "--checkpoint-every",
        "20",
        "--batch-size",
        "16",
        "--ema-start",
        "10",  # ema start would follow --steps
        "--deterministic",
        "--out",
        tmp_path,
    )
    common = ("--eval-every", "20", "--eval-extractor", "digits", "--eval-n", "100", *training)
    assert run_cli("train", "dcgan", "--steps", "60", "--name", "whole", *common).returncode == 0
    assert run_cli("train", "dcgan", "--steps", "40", "--name", "parts", *common).returncode == 0
    result = run_cli("train", "--resume", tmp_path / "parts", "--steps", "60")
    assert result.returncode == 0, result.stderr
    whole, _ = load_checkpoint(tmp_path / "whole" / "checkpoints" / "step-00000060.safetensors")
    parts, _ = load_checkpoint(tmp_path / "parts" / "checkpoints" / "step-00000060.safetensors")
    assert all(torch.equal(whole["model"][k], parts["model"][k]) for k in whole["model"])
    assert whole["best_eval"] == parts["best_eval"]
    # evaluation is invisible to training: without --eval-every, the same weights, bitwise
    assert run_cli("train", "dcgan", "--steps", "60", "--name", "plain", *training).returncode == 0
    alone, _ = load_checkpoint(tmp_path / "plain" / "checkpoints" / "step-00000060.safetensors")
    assert all(torch.equal(whole["model"][k], alone["model"][k]) for k in whole["model"])
    assert torch.equal(whole["rng"]["torch"], alone["rng"]["torch"])
