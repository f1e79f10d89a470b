"""The engine's promises: exact resume after any interruption, clean stops, divergence caught,
budgets and schedules honoured, artifacts valid."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from conftest import assert_no_traceback, assert_same_tensors, make_distribution, run_cli, with_site
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.latents import slerp, truncate

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

# Tiny but complete: label noise and DiffAugment draw from the global RNG, so exact resume
# also proves every random stream is restored.
TINY = [
    "--batch-size",
    32,
    "--resolution",
    16,
    "--set",
    "ngf=8",
    "--set",
    "ndf=8",
    "--set",
    "label_noise=0.1",
    "--set",
    "augment=translation",
    "--log-every",
    5,
    "--seed",
    3,
    "--deterministic",
]


def cli_process(*args) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "ganzoo", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"training ended early: {process.communicate()}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def final_state(run: Path, step: int) -> dict:
    state, _ = load_checkpoint(run / "checkpoints" / f"step-{step:08d}.safetensors")
    return state


STEPS = 60


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    result = run_cli("train", "dcgan", *TINY, "--steps", STEPS, "--checkpoint-every", 20, "--out", out, "--name", "ref")
    assert result.returncode == 0, result.stderr
    return out / "ref"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_interrupted_and_resumed_equals_uninterrupted(reference, tmp_path, sig):
    process = cli_process(
        "train", "dcgan", *TINY, "--steps", STEPS, "--checkpoint-every", 20, "--out", tmp_path, "--name", "b"
    )
    wait_for(tmp_path / "b" / "checkpoints" / "step-00000040.safetensors", process)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    status = json.loads((tmp_path / "b" / "status.json").read_text())
    if sig == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:  # a clean stop: the current step finishes, a checkpoint is written, exit 0
        assert process.returncode == 0, stderr
        assert status["state"] == "interrupted" and f"ganzoo train --resume {tmp_path / 'b'}" in stderr
        assert_no_traceback(subprocess.CompletedProcess([], 0, "", stderr))
    resumed = run_cli("train", "--resume", tmp_path / "b")
    assert resumed.returncode == 0, resumed.stderr
    assert_same_tensors(final_state(reference, STEPS), final_state(tmp_path / "b", STEPS))
    assert json.loads((tmp_path / "b" / "status.json").read_text())["state"] == "finished"
    steps_logged = [json.loads(line)["step"] for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert steps_logged == sorted(set(steps_logged)), "a resumed run must not log a step twice"


def test_killed_at_random_instants_always_resumes(reference, tmp_path):
    """SIGKILL at 20 random moments, with a checkpoint written every step so that many kills
    land inside a checkpoint write: each time the run resumes, and it ends as the reference."""
    rng = random.Random(0)
    run = tmp_path / "k"
    args = [
        "train",
        "dcgan",
        *TINY,
        "--steps",
        STEPS,
        "--checkpoint-every",
        1,
        "--keep",
        2,
        "--out",
        tmp_path,
        "--name",
        "k",
    ]
    for _ in range(20):
        command = args if not (run / "config.json").exists() else ["train", "--resume", run]
        process = cli_process(*command)
        time.sleep(rng.uniform(0.3, 4.0))
        process.kill()
        process.communicate()
        if process.returncode == 0:
            break
    for path in run.glob("checkpoints/step-*.safetensors"):
        load_checkpoint(path)  # every checkpoint left behind is whole
    if (run / "config.json").exists():
        result = run_cli("train", "--resume", run)
    else:
        result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert_same_tensors(final_state(reference, STEPS), final_state(run, STEPS))


NAN_LOSS = '''
import os
import torch
from ganzoo import LossSpec, hookimpl
from ganzoo_losses.adversarial import NonSaturatingLoss


class NaNAfter(NonSaturatingLoss):
    """The non-saturating loss, until its generator term returns NaN at call NAN_AT."""
    calls = 0

    def generator_loss(self, fake_logits):
        NaNAfter.calls += 1
        loss = super().generator_loss(fake_logits)
        return loss * float("nan") if NaNAfter.calls >= int(os.environ["NAN_AT"]) else loss


@hookimpl
def register_losses(register):
    register(LossSpec("nan-after", "test only: NaN from call NAN_AT on", "ganzoo_nanloss:NaNAfter"))
'''


def test_divergence_stops_cleanly_with_the_last_good_checkpoint(tmp_path):
    site = make_distribution(tmp_path / "site", "ganzoo-nanloss", "ganzoo_nanloss", NAN_LOSS)
    result = run_cli(
        "train",
        "dcgan",
        *TINY,
        "--steps",
        50,
        "--checkpoint-every",
        10,
        "--loss",
        "nan-after",
        "--out",
        tmp_path,
        "--name",
        "nan",
        env=with_site(site, {"NAN_AT": "23"}),
    )
    assert result.returncode == 1
    assert_no_traceback(result)
    assert "diverged at step 23: the loss of phase G is not finite" in result.stderr
    assert "step-00000020.safetensors" in result.stderr
    run = tmp_path / "nan"
    assert sorted(p.name for p in (run / "checkpoints").iterdir())[-1] == "step-00000020.safetensors"
    state = final_state(run, 20)
    assert all(torch.isfinite(t).all() for t in state["model"].values() if t.is_floating_point())
    assert json.loads((run / "status.json").read_text())["state"] == "diverged"
    listing = json.loads(run_cli("runs", tmp_path, "--json").stdout)
    assert [(r["name"], r["state"]) for r in listing] == [("nan", "diverged")]


def test_artifacts_and_runs_listing(reference, tmp_path):
    run = reference
    samples = sorted((run / "samples").glob("step-*.png"))
    gif = Image.open(run / "timelapse.gif")
    assert gif.n_frames == len(samples) == 10
    assert gif.size == Image.open(samples[-1]).size == (8 * 18 + 2, 8 * 18 + 2)
    assert Image.open(run / "losses.png").format == "PNG"
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all({"step", "loss_D", "loss_G", "lr_D", "lr_G", "images_per_second"} <= set(r) for r in records)
    assert "finished" in (run / "log.txt").read_text()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step-00000020.safetensors",
        "step-00000040.safetensors",
        "step-00000060.safetensors",
    ]
    listing = run_cli("runs", run.parent)
    assert listing.returncode == 0 and "ref" in listing.stdout and "finished" in listing.stdout
    assert "60/60" in listing.stdout

    # a run whose process died without a word reads as interrupted, not running
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "state": "running", "pid": 2**22 + 12345}))
    try:
        rows = json.loads(run_cli("runs", run.parent, "--json").stdout)
        assert rows[0]["state"] == "interrupted"
    finally:
        (run / "status.json").write_text(json.dumps(status))


def test_keep_prunes_old_checkpoints(tmp_path):
    result = run_cli(
        "train",
        "dcgan",
        *TINY,
        "--steps",
        12,
        "--checkpoint-every",
        2,
        "--keep",
        2,
        "--out",
        tmp_path,
        "--name",
        "keep",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "keep" / "checkpoints").iterdir()) == [
        "step-00000010.safetensors",
        "step-00000012.safetensors",
    ]


def test_linear_decay_schedule_and_epoch_budget(tmp_path):
    # digits: 1797 images // 32 = 56 batches per epoch -> 2 epochs = 112 steps
    result = run_cli(
        "train",
        "dcgan",
        *TINY,
        "--epochs",
        2,
        "--lr-schedule",
        "linear-decay",
        "--decay-start",
        56,
        "--log-every",
        8,
        "--out",
        tmp_path,
        "--name",
        "sched",
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "sched" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 112
    for record in records:  # the lr logged after step s is the one the next step uses
        expected = 2e-4 * (1.0 if record["step"] < 56 else (112 - record["step"]) / 56)
        assert record["lr_G"] == pytest.approx(expected, abs=1e-12) and record["lr_D"] == record["lr_G"]


def test_time_budget_stops_and_resume_continues(tmp_path):
    result = run_cli("train", "dcgan", *TINY, "--steps", 100000, "--time", "3s", "--out", tmp_path, "--name", "t")
    assert result.returncode == 0, result.stderr
    status = json.loads((tmp_path / "t" / "status.json").read_text())
    assert status["state"] == "finished" and "time budget" in status["message"] and 0 < status["step"] < 100000
    again = run_cli("train", "--resume", tmp_path / "t", "--time", "2s")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "t" / "status.json").read_text())["step"] > status["step"]


def test_d_steps_draw_extra_batches(tmp_path):
    result = run_cli(
        "train", "dcgan", *TINY, "--steps", 28, "--d-steps", 2, "--clip-grad", 1.0, "--out", tmp_path, "--name", "d2"
    )
    assert result.returncode == 0, result.stderr
    state = final_state(tmp_path / "d2", 28)
    # 28 steps x 2 batches = all 56 batches of the first epoch (the next epoch starts on the next draw)
    assert state["data_order"] == {"epoch": 0, "position": 56}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", 4], "--seed cannot change it"),
        (["--set", "ngf=9"], "--set cannot change it"),
        (["dcgan"], "either MODEL or --resume"),
    ],
)
def test_resume_refuses_changes_to_the_run(reference, args, message):
    result = run_cli("train", "--resume", reference, *args)
    assert result.returncode == 2 and message in result.stderr
    assert_no_traceback(result)


def test_resume_of_a_missing_run_and_train_without_model(tmp_path):
    missing = run_cli("train", "--resume", tmp_path / "nothing")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    bare = run_cli("train")
    assert bare.returncode == 2 and "missing MODEL" in bare.stderr


def test_interpolate_writes_gif_and_strip(reference, tmp_path):
    result = run_cli("interpolate", reference, "--out", tmp_path / "walk.gif", "--steps", 5, "--points", 3, "--n", 4)
    assert result.returncode == 0, result.stderr
    gif = Image.open(tmp_path / "walk.gif")
    assert gif.n_frames == 15 and gif.size == (4 * 18 + 2, 18 + 2)
    assert Image.open(tmp_path / "walk-strip.png").size == (5 * 18 + 2, 4 * 18 + 2)


def test_generate_truncation(reference, tmp_path):
    result = run_cli("generate", reference, "--n", 8, "--truncation", 0.5, "--grid", tmp_path / "t.png")
    assert result.returncode == 0, result.stderr
    bad = run_cli("generate", reference, "--truncation", -1)
    assert bad.returncode == 2 and "--truncation must be positive" in bad.stderr


def test_truncate_and_slerp():
    z = torch.randn(4000, 16, generator=torch.Generator().manual_seed(0))
    truncated = truncate(z, 0.7)
    assert truncated.abs().max() <= 0.7
    # the normal distribution truncated to [-0.7, 0.7] has standard deviation 0.3909
    assert abs(truncated.std().item() - 0.3909) < 0.01
    assert torch.equal(truncate(z[:5], 0.7), truncated[:5]), "each code depends on its own noise only"
    ordered = truncated.gather(0, z.argsort(dim=0))
    assert (ordered.diff(dim=0) >= 0).all(), "larger noise stays larger (a monotone map)"
    a, b = torch.randn(4, 16), torch.randn(4, 16)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    unit_a, unit_b = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    assert torch.allclose(slerp(unit_a, unit_b, 0.5).norm(dim=1), torch.ones(4), atol=1e-5)


def test_a_second_ctrl_c_stops_at_once_without_damage(tmp_path):
    process = cli_process(
        "train", "dcgan", *TINY, "--steps", 5000, "--checkpoint-every", 10, "--out", tmp_path, "--name", "twice"
    )
    wait_for(tmp_path / "twice" / "checkpoints" / "step-00000020.safetensors", process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode in (0, 130), stderr
    assert "Traceback" not in stderr
    for path in (tmp_path / "twice" / "checkpoints").glob("step-*.safetensors"):
        load_checkpoint(path)
    rows = json.loads(run_cli("runs", tmp_path, "--json").stdout)
    assert rows[0]["state"] == "interrupted"
