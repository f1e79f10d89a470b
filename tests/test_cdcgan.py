"""The class-conditional DCGAN learns its classes, and `generate --class` / `interpolate --class`
are wired to them: names, indices, 'all', unknown names, unconditional runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from conftest import assert_no_traceback, run_cli
from ganzoo import create_model
from ganzoo.metrics.digits_net import DigitsExtractor
from ganzoo.training.devices import resolve_device
from ganzoo.training.inference import load_run
from ganzoo.training.samples import draw_codes, sample_images

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

STEPS = 900


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cdcgan")
    result = run_cli("train", "cdcgan", "--steps", STEPS, "--log-every", 100, "--out", out, "--name", "c")
    assert result.returncode == 0, result.stderr
    return out / "c"


def test_networks_take_classes_or_attributes():
    model = create_model("cdcgan", channels=1, resolution=16, classes=tuple("0123456789"), ngf=8, ndf=8)
    z, labels = draw_codes(model, 4, torch.Generator().manual_seed(0), [3])
    assert labels.tolist() == [3] * 4
    assert model.sample(z, labels).shape == (4, 1, 16, 16)
    assert model.critic(model.sample(z, labels), labels).shape == (4,)
    attributes = create_model(
        "cdcgan", channels=3, resolution=32, attributes=("Smiling", "Male", "Young"), ngf=8, ndf=8
    )
    z, rows = draw_codes(attributes, 6, torch.Generator().manual_seed(0), [1])
    assert rows.shape == (6, 3) and rows[:, 1].eq(1).all()
    assert attributes.sample(z, rows).shape == (6, 3, 32, 32)


def test_cdcgan_draws_the_class_it_is_asked_for(conditional_run):
    """For every digit k, the built-in digits classifier labels the samples asked for as k far
    more often than chance (10%)."""
    loaded = load_run(conditional_run, resolve_device("cpu"))
    classifier = DigitsExtractor()
    shares = []
    for k in range(10):
        noise, labels = draw_codes(loaded.model, 100, torch.Generator().manual_seed(k), [k])
        images = sample_images(loaded.model, noise, torch.device("cpu"), labels=labels)
        with torch.no_grad():
            predicted = classifier.logits(images).argmax(1)
        shares.append(float((predicted == k).float().mean()))
    assert min(shares) >= 0.4, shares
    assert sum(shares) / 10 >= 0.7, shares


def test_generate_class_all_has_one_row_per_class(conditional_run, tmp_path):
    result = run_cli("generate", conditional_run, "--class", "all", "--n", 5, "--grid", tmp_path / "all.png")
    assert result.returncode == 0, result.stderr
    assert "one row per class (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)" in result.stdout
    side = 16 + 2
    assert Image.open(tmp_path / "all.png").size == (5 * side + 2, 10 * side + 2)
    threes = run_cli("generate", conditional_run, "--class", "3", "--class", "7", "--n", 4, "--out", tmp_path / "d")
    assert threes.returncode == 0, threes.stderr
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [f"{k}-{i}.png" for k in (3, 7) for i in range(4)]
    # the same seed gives the same images whatever the batch size
    again = run_cli(
        "generate",
        conditional_run,
        "--class",
        "3",
        "--class",
        "7",
        "--n",
        4,
        "--batch-size",
        3,
        "--out",
        tmp_path / "e",
    )
    assert again.returncode == 0, again.stderr
    assert all((tmp_path / "d" / p.name).read_bytes() == p.read_bytes() for p in (tmp_path / "e").iterdir())


def test_unknown_class_is_a_usage_error_with_a_suggestion(conditional_run):
    result = run_cli("generate", conditional_run, "--class", "33")
    assert result.returncode == 2 and "unknown class '33'" in result.stderr
    assert_no_traceback(result)
    walk = run_cli("interpolate", conditional_run, "--class", "eleven")
    assert walk.returncode == 2 and "unknown class 'eleven'" in walk.stderr


def test_interpolate_a_conditional_run(conditional_run, tmp_path):
    result = run_cli(
        "interpolate",
        conditional_run,
        "--class",
        "5",
        "--n",
        3,
        "--points",
        2,
        "--steps",
        3,
        "--out",
        tmp_path / "walk.gif",
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "walk.gif").n_frames == 6


def test_training_grid_has_a_row_per_class(conditional_run):
    grid = Image.open(sorted((conditional_run / "samples").glob("step-*.png"))[-1])
    assert grid.size == (8 * 18 + 2, 10 * 18 + 2)


def test_class_on_an_unconditional_run_is_a_usage_error(tmp_path):
    trained = run_cli(
        "train",
        "dcgan",
        "--steps",
        2,
        "--batch-size",
        8,
        "--set",
        "ngf=8",
        "--set",
        "ndf=8",
        "--out",
        tmp_path,
        "--name",
        "u",
    )
    assert trained.returncode == 0, trained.stderr
    result = run_cli("generate", tmp_path / "u", "--class", "3")
    assert result.returncode == 2 and "is not conditioned on classes" in result.stderr
    assert_no_traceback(result)


def test_cdcgan_on_unlabelled_data_is_a_usage_error(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (20, 20), (i * 60, 0, 0)).save(folder / f"{i}.png")
    result = run_cli(
        "train",
        "cdcgan",
        "--dataset",
        "folder",
        "--data-root",
        folder,
        "--resolution",
        16,
        "--batch-size",
        2,
        "--steps",
        1,
        "--out",
        tmp_path / "runs",
    )
    assert result.returncode == 2 and "needs a dataset with classes or attributes" in result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_grid_rows_cover_many_classes_evenly():
    from ganzoo.training.samples import row_choices

    assert row_choices(10) == list(range(10))
    rows = row_choices(176)
    assert len(rows) == 16 and rows[0] == 0 and rows[-1] == 175 and rows == sorted(set(rows))
