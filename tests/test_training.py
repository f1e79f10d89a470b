"""A short real training on the embedded digits, through the CLI, and what it leaves behind."""

import json

import pytest
import torch
from PIL import Image

from conftest import assert_no_traceback, run_cli
from ganzoo import create_model, load_dataset
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.inference import load_run
from ganzoo.training.samples import sample_images

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

STEPS = 300
ARGS = [
    "--steps",
    STEPS,
    "--batch-size",
    64,
    "--resolution",
    16,
    "--sample-every",
    150,
    "--log-every",
    20,
    "--set",
    "ngf=32",
    "--set",
    "ndf=32",
    "--seed",
    1,
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = run_cli("train", "dcgan", *ARGS, "--out", out, "--name", "tiny")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    return out / "tiny"


def nearest_real_distance(images: torch.Tensor, real: torch.Tensor) -> float:
    """Mean distance from each image to its nearest real image, in [0, 1] pixel units."""
    a, b = images.float().flatten(1) / 255, real.float().flatten(1) / 255
    return torch.cdist(a, b).min(dim=1).values.mean().item()


def test_run_folder_layout(run):
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "dcgan" and config["dataset"] == "digits"
    assert config["options"]["ngf"] == 32 and config["training"]["steps"] == STEPS
    assert config["training"]["seed"] == 1 and config["data"]["resolution"] == 16
    assert config["versions"]["ganzoo"] and config["providers"]["model"].startswith("dcgan")
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-00000150.png", "step-00000300.png"]
    grid = Image.open(run / "samples" / "step-00000300.png")
    assert grid.size == (8 * 18 + 2, 8 * 18 + 2)  # 64 images of 16px, 2px padding
    assert (run / "checkpoints" / f"step-{STEPS:08d}.safetensors").is_file()
    assert "finished" in (run / "log.txt").read_text()


def test_both_losses_move_and_are_logged(run):
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(20, STEPS + 1, 20))
    for key in ("loss_D", "loss_G"):
        values = [r[key] for r in records]
        assert all(v == v for v in values)
        assert max(values) - min(values) > 0.05, f"{key} did not move: {values}"
    assert all(r["images_per_second"] > 0 for r in records)


def test_checkpoint_holds_weights_optimizers_and_ema(run):
    state, info = load_checkpoint(run / "checkpoints" / f"step-{STEPS:08d}.safetensors")
    assert info["step"] == STEPS
    assert set(state["optimizers"]) == {"D", "G"} and "G" in state["ema"]
    assert any(k.startswith("G.") for k in state["model"]) and any(k.startswith("D.") for k in state["model"])


def test_the_generator_learned_the_data(run):
    """Trained samples lie much closer to real digits than an untrained generator's."""
    real = load_dataset("digits", resolution=16).images
    noise = torch.randn(256, 100, generator=torch.Generator().manual_seed(5))
    trained = load_run(run, torch.device("cpu")).model
    torch.manual_seed(1)
    untrained = create_model("dcgan", channels=1, resolution=16, ngf=32, ndf=32)
    d_trained = nearest_real_distance(sample_images(trained, noise, torch.device("cpu")), real)
    d_untrained = nearest_real_distance(sample_images(untrained, noise, torch.device("cpu")), real)
    assert d_trained < 0.7 * d_untrained, (d_trained, d_untrained)


def test_samples_vary_with_the_noise(run):
    model = load_run(run, torch.device("cpu")).model
    images = sample_images(model, model.noise(64, torch.Generator().manual_seed(0)), torch.device("cpu")).float()
    assert images.std(dim=0).mean() > 10, "all samples look the same (mode collapse or a constant output)"


def test_generate_reproduces_images_for_a_seed(run, tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        result = run_cli(
            "generate",
            run,
            "--n",
            10,
            "--seed",
            seed,
            "--out",
            tmp_path / name,
            "--grid",
            tmp_path / f"{name}.png",
            "--batch-size",
            4 if name == "b" else 256,
        )
        assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == [f"{i}.png" for i in range(10)]
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "c.png").read_bytes()
    assert Image.open(tmp_path / "a" / "0.png").size == (16, 16)


def test_generate_default_grid_and_no_ema(run):
    result = run_cli("generate", run, "--n", 4, "--no-ema")
    assert result.returncode == 0 and (run / "generated" / "seed-0.png").is_file()


def test_generate_with_a_corrupt_checkpoint(run, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((run / "checkpoints" / f"step-{STEPS:08d}.safetensors").read_bytes()[:1000])
    result = run_cli("generate", run, "--checkpoint", bad)
    assert result.returncode == 1 and "corrupt or truncated" in result.stderr
    assert_no_traceback(result)


def test_an_existing_run_is_never_overwritten(run):
    result = run_cli("train", "dcgan", "--steps", 1, "--out", run.parent, "--name", run.name)
    assert result.returncode == 2 and "already holds a run" in result.stderr
