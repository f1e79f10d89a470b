"""ADA (adaptive discriminator augmentation) and LeCam regularisation, the engine's features for
every model that reports its discriminator's outputs: the pipeline, p rising on a tiny dataset
that D overfits, the exact resume with both on, and the one-line refusal for a model that does
not report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

from conftest import assert_no_traceback, assert_same_tensors, run_cli
from ganzoo.ada import ada_augment
from ganzoo.protocols import Phase, PhaseLoss
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.critic_feedback import LECAM_DECAY, CriticFeedback, LeCam
from ganzoo.training.distributed import World


def images(n: int, channels: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, channels, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("channels", [1, 3])
def test_the_pipeline_is_the_identity_at_p_0_and_a_differentiable_random_transform_at_p_1(channels):
    x = images(64, channels)
    assert ada_augment(x, 0.0) is x
    torch.manual_seed(0)
    y = ada_augment(x, 1.0)
    torch.manual_seed(0)
    assert torch.equal(ada_augment(x, 1.0), y)  # the global random stream decides: resume replays it
    assert y.shape == x.shape and torch.isfinite(y).all()
    changed = (y - x).abs().flatten(1).mean(1)
    assert (changed > 0.05).float().mean() > 0.9  # at p = 1 nearly every image is transformed
    leaf = x.clone().requires_grad_(True)
    ada_augment(leaf, 1.0).square().sum().backward()
    assert leaf.grad is not None and leaf.grad.abs().sum() > 0  # G learns through the augmentation


def test_at_a_small_p_most_images_pass_unchanged():
    """Each transformation applies with probability p: at p = 0.05, about (1 - 0.05)^12 ~ 54%
    of the images meet none (the rotation's two draws count once) and come out as they went in,
    up to the resampling's rounding."""
    x = images(400, 3, seed=1)
    torch.manual_seed(1)
    y = ada_augment(x, 0.05)
    untouched = ((y - x).abs().flatten(1).amax(1) < 1e-5).float().mean().item()
    assert 0.4 < untouched < 0.7, untouched


def test_lecam_anchors_are_bias_corrected_averages_and_the_term_is_the_reference_one():
    lecam = LeCam(0.3, World(), torch.device("cpu"))
    real, fake = torch.tensor([2.0, 1.0]), torch.tensor([-1.0, 0.0])
    first = lecam.term("D", real, fake)
    # after one update the corrected anchors are the batch means: 1.5 and -0.5
    expected = 0.3 * (torch.relu(real + 0.5).square().mean() + torch.relu(1.5 - fake).square().mean())
    assert torch.allclose(first, expected)
    lecam.term("D", torch.tensor([0.0, 0.0]), torch.tensor([0.0, 0.0]))
    state = lecam.state_dict()["D"]
    weights = torch.tensor([LECAM_DECAY * (1 - LECAM_DECAY), 1 - LECAM_DECAY])
    corrected = (weights[0] * torch.tensor([1.5, -0.5])) / (1 - LECAM_DECAY**2)
    assert torch.allclose(state[:2] / (1 - state[2]), corrected)


def test_a_model_that_reports_no_outputs_is_named():
    feedback = CriticFeedback("quiet", None, LeCam(0.3, World(), torch.device("cpu")))
    term, logs = feedback.critic_term(Phase("D", optimizer="D", critic=True), PhaseLoss(torch.tensor(1.0)))
    assert term is None and logs == {}
    with pytest.raises(Exception, match="model 'quiet' does not report its discriminator's outputs"):
        feedback.after_step(1)


@pytest.fixture(scope="module")
def sixty_four_digits(tmp_path_factory) -> Path:
    """A folder of 64 images: small enough that D overfits it within a hundred steps."""
    folder = tmp_path_factory.mktemp("tiny")
    for index, digit in enumerate(load_digits().images[:64]):
        Image.fromarray((digit * 255 / 16).astype(np.uint8)).resize((16, 16), Image.NEAREST).save(
            folder / f"{index}.png"
        )
    return folder


def logged(run: Path, key: str) -> list[float]:
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [line[key] for line in lines if key in line]


TINY = ["--batch-size", 32, "--resolution", 16, "--set", "ngf=8", "--set", "ndf=8", "--seed", 5]


@pytest.mark.slow
def test_p_rises_when_d_overfits_sixty_four_images(sixty_four_digits, tmp_path):
    result = run_cli(
        "train", "dcgan", "--dataset", "folder", "--data-root", sixty_four_digits, *TINY,
        "--steps", 120, "--augment", "ada", "--ada-kimg", 4, "--log-every", 10, "--out", tmp_path, "--name", "a",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    p = logged(tmp_path / "a", "augment_p")
    assert len(p) == 12 and p[0] < 0.1 and p[-1] > 0.3 and max(p) > p[0] + 0.25, p
    assert "augment_p" in result.stderr  # the log line shows it too


@pytest.mark.slow
def test_resume_with_ada_and_lecam_equals_the_uninterrupted_run(tmp_path):
    """Resumed at step 10, half way through ADA's 4-step interval (its running sums are saved)."""
    both = [*TINY, "--augment", "ada", "--ada-kimg", 2, "--lecam", 0.3, "--ema-start", 4, "--checkpoint-every", 10]
    whole = run_cli("train", "dcgan", *both, "--steps", 22, "--out", tmp_path, "--name", "whole")
    assert whole.returncode == 0, whole.stderr
    part = run_cli("train", "dcgan", *both, "--steps", 10, "--out", tmp_path, "--name", "part")
    assert part.returncode == 0, part.stderr
    resumed = run_cli("train", "--resume", tmp_path / "part", "--steps", 22)
    assert resumed.returncode == 0, resumed.stderr
    a, _ = load_checkpoint(tmp_path / "whole" / "checkpoints" / "step-00000022.safetensors")
    b, _ = load_checkpoint(tmp_path / "part" / "checkpoints" / "step-00000022.safetensors")
    assert a["critic_feedback"]["ada"]["p"] > 0 and set(a["critic_feedback"]["lecam"]) == {"D"}
    assert_same_tensors(a, b)


def test_ada_for_a_model_that_reports_no_outputs_is_one_line(tmp_path):
    result = run_cli(
        "train", "exgan", "--augment", "ada", "--steps", 2, "--batch-size", 4,
        "--set", "ngf=4", "--set", "ndf=4", "--out", tmp_path, "--name", "x",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        "Error: --augment ada: model 'exgan' does not report its discriminator's outputs "
        "(PhaseLoss.real_logits and fake_logits in a critic phase)"
    ], result.stderr


def test_an_unknown_augmentation_is_one_line(tmp_path):
    result = run_cli("train", "dcgan", "--augment", "ada,adb", "--steps", 1, "--out", tmp_path)
    assert result.returncode == 2 and "--augment: unknown augmentation adb" in result.stderr, result.stderr
    assert "ada" in result.stderr.split("use", 1)[1]
