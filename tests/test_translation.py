"""Pix2Pix and CycleGAN: shapes at every resolution, learning, the image pool, exact resume,
and `ganzoo translate`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import assert_no_traceback, run_cli
from ganzoo import create_model
from ganzoo.layers import PatchDiscriminator
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.phases import PhaseRunner, checked_phases
from ganzoo_cyclegan.networks import ResNetGenerator
from ganzoo_cyclegan.pool import ImagePool
from ganzoo_pix2pix.networks import UNetGenerator, unet_depth

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

RESOLUTIONS = (16, 32, 64, 128, 256)


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_generators_and_discriminators_keep_shapes(resolution):
    x = torch.randn(1, 3, resolution, resolution)
    with torch.no_grad():
        unet = UNetGenerator(3, 1, resolution, ngf=8).eval()
        assert unet(x).shape == (1, 1, resolution, resolution) and unet_depth(resolution) == int(np.log2(resolution))
        for blocks in (6, 9):
            assert ResNetGenerator(3, 3, ngf=8, n_blocks=blocks)(x).shape == x.shape
        critics = {n: PatchDiscriminator(6, 8, n, resolution=resolution).train() for n in (0, 1, 3, 5)}
        patches = {n: critic(torch.cat([x, x], 1)).shape for n, critic in critics.items()}  # train mode: batch stats
    assert patches[0] == (1, 1, resolution, resolution)  # PixelGAN: one logit per pixel
    if resolution >= 32:
        assert critics[3].n_layers == 3 and patches[3] == (1, 1, resolution // 8 - 2, resolution // 8 - 2)  # 70x70
    if resolution >= 128:
        assert critics[5].n_layers == 5 and patches[5][1] == 1  # the 286x286 variant
    assert all(shape[-1] >= 1 for shape in patches.values())


def test_unet_has_the_papers_dropout_and_depth():
    counts = {
        r: sum(isinstance(m, torch.nn.Dropout) for m in UNetGenerator(3, 3, r, ngf=4).modules()) for r in (32, 128, 256)
    }
    assert counts == {32: 1, 128: 2, 256: 3}


def test_pix2pix_overfits_eight_pairs():
    torch.manual_seed(0)
    model = create_model("pix2pix", channels=3, resolution=32, jitter=False, ngf=32, ndf=32)
    optimizers = model.configure_optimizers()
    g = torch.Generator().manual_seed(1)
    a = torch.rand(8, 3, 32, 32, generator=g) * 2 - 1
    b = torch.flip(a, dims=(2,)).roll(3, dims=3) * -0.8  # a fixed, learnable mapping
    batch = {"A": a, "B": b}

    def l1() -> float:
        with torch.no_grad():
            model.eval()
            value = float((model.translate(a) - b).abs().mean())
            model.train()
        return value

    before = l1()
    runner = PhaseRunner(model, optimizers, checked_phases(model, optimizers, "test"))
    for step in range(300):
        runner.step(step, lambda: batch, lambda logs: None)
    assert l1() <= before / 2, (before, l1())


def test_image_pool_returns_past_fakes_half_the_time():
    torch.manual_seed(0)
    pool = ImagePool(5, (1, 1, 1))
    first = torch.arange(5.0).view(5, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: each new fake comes back
    returned_past = 0
    for i in range(2000):
        fake = torch.full((1, 1, 1, 1), 100.0 + i)
        returned_past += int(pool.query(fake)[0, 0, 0, 0] != fake[0, 0, 0, 0])
    assert 0.46 < returned_past / 2000 < 0.54
    assert int(pool.count) == 5 and bool((pool.images >= 0).all())


def test_cyclegan_cycle_loss_falls_on_the_demo_domains(tmp_path):
    result = run_cli(
        "train",
        "cyclegan",
        "--steps",
        "400",
        "--resolution",
        "16",
        "--log-every",
        "20",
        "--lr-schedule",
        "constant",
        "--set",
        "ngf=16",
        "--set",
        "ndf=16",
        "--out",
        tmp_path,
        "--name",
        "c",
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(l) for l in (tmp_path / "c" / "metrics.jsonl").read_text().splitlines()]
    cycle = [r["loss_cycle"] for r in records if "loss_cycle" in r]
    assert len(cycle) == 20 and np.mean(cycle[-3:]) < 0.85 * np.mean(cycle[:3]), cycle  # measured: 1.02 -> 0.76
    grid = Image.open(tmp_path / "c" / "samples" / "step-00000400.png")
    assert grid.width == 6 * 16 + 7 * 2  # real A | fake B | rec A | real B | fake A | rec B


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
def test_resumed_equals_uninterrupted(tmp_path, model):
    common = (
        "--resolution",
        "16",
        "--set",
        "ngf=8",
        "--set",
        "ndf=8",
        "--checkpoint-every",
        "4",
        "--ema-start",
        "2",
        "--lr-schedule",
        "constant",
        "--deterministic",
        "--out",
        tmp_path,
    )  # ema-start and lr-schedule would follow --steps
    assert run_cli("train", model, "--steps", "8", "--name", "whole", *common).returncode == 0
    assert run_cli("train", model, "--steps", "4", "--name", "parts", *common).returncode == 0
    result = run_cli("train", "--resume", tmp_path / "parts", "--steps", "8")
    assert result.returncode == 0, result.stderr
    whole, _ = load_checkpoint(tmp_path / "whole" / "checkpoints" / "step-00000008.safetensors")
    parts, _ = load_checkpoint(tmp_path / "parts" / "checkpoints" / "step-00000008.safetensors")
    for key in whole["model"]:  # includes CycleGAN's image pools
        assert torch.equal(whole["model"][key], parts["model"][key]), key


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("translation-runs")
    for model in ("pix2pix", "cyclegan"):
        result = run_cli(
            "train",
            model,
            "--steps",
            "2",
            "--resolution",
            "16",
            "--set",
            "ngf=8",
            "--set",
            "ndf=8",
            "--out",
            out,
            "--name",
            model,
        )
        assert result.returncode == 0, result.stderr
    return out


def test_translate_keeps_sizes_names_and_modes(runs, tmp_path):
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    Image.fromarray(np.full((30, 50, 3), 200, np.uint8)).save(inputs / "wide.jpg")
    Image.fromarray(np.full((40, 20), 90, np.uint8), "L").save(inputs / "sub" / "grey.png")
    Image.fromarray(np.zeros((17, 17, 4), np.uint8), "RGBA").save(inputs / "alpha.png")
    (inputs / "broken.png").write_bytes(b"no")
    result = run_cli(
        "translate", runs / "pix2pix", "--input", inputs, "--out", tmp_path / "out", "--compare", tmp_path / "strip.png"
    )
    assert result.returncode == 0, result.stderr
    assert "skipped 1 of 4" in result.stderr and "translated 3 image(s) a2b" in result.stdout
    for name, size in (("wide.jpg", (50, 30)), ("sub/grey.png", (20, 40)), ("alpha.png", (17, 17))):
        output = Image.open(tmp_path / "out" / name)
        assert output.size == size and output.mode == "RGB"
    assert Image.open(tmp_path / "strip.png").size == (3 * 16, 2 * 16)


def test_translate_directions_and_errors(runs, tmp_path):
    photo = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(photo)
    outputs = {}
    for direction in ("a2b", "b2a"):
        result = run_cli(
            "translate", runs / "cyclegan", "--input", photo, "--out", tmp_path / direction, "--direction", direction
        )
        assert result.returncode == 0, result.stderr
        outputs[direction] = np.asarray(Image.open(tmp_path / direction / "p.png"))
    assert not np.array_equal(outputs["a2b"], outputs["b2a"])  # two different generators
    dcgan = tmp_path / "dcgan-run"
    assert run_cli("train", "dcgan", "--steps", "1", "--out", tmp_path, "--name", "dcgan-run").returncode == 0
    for args, message in (
        (("translate", dcgan, "--input", photo, "--out", tmp_path / "x"), "cannot translate"),
        (
            ("translate", runs / "pix2pix", "--input", photo, "--out", tmp_path / "x", "--direction", "b2a"),
            "translates a2b",
        ),
        (
            ("translate", runs / "pix2pix", "--input", tmp_path / "missing.png", "--out", tmp_path / "x"),
            "does not exist",
        ),
        (("translate", runs / "pix2pix", "--input", photo, "--out", tmp_path / "x", "--direction", "up"), "a2b or b2a"),
    ):
        result = run_cli(*args)
        assert result.returncode in (1, 2) and message in result.stderr and result.stderr.count("\n") == 1, (
            result.stderr
        )
        assert_no_traceback(result)


def test_list_shows_the_translation_tasks():
    result = run_cli("list", "models", "--json")
    tasks = {m["name"]: m["task"] for m in json.loads(result.stdout)}
    assert tasks["pix2pix"] == "paired-translation" and tasks["cyclegan"] == "unpaired-translation"


def test_bench_model_reports_seconds_per_iteration():
    result = run_cli("bench", "pix2pix", "--resolution", "32", "--steps", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["seconds_per_iteration"] > 0 and report["parameters_millions"] > 1


def test_eval_reports_paired_scores_and_per_direction_metrics(runs):
    result = run_cli("eval", runs / "pix2pix", "--metric", "", "--n", "20", "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)["eval"]
    assert set(scores) == {"l1", "psnr", "ssim"} and 0 < scores["l1"] < 1 and scores["psnr"] > 0
    result = run_cli(
        "eval", runs / "cyclegan", "--metric", "fid", "--feature-extractor", "digits", "--n", "20", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)["eval"]) == {"fid_a2b", "fid_b2a"}
