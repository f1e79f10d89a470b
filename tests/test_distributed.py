"""One run over several processes under torchrun, on CPU with gloo on 127.0.0.1: weights agree,
averaging is right, one writer, exact resume after SIGTERM and after a killed process
restarted by torchrun, two "nodes" through a c10d rendezvous, penalties, and the errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import assert_no_traceback, make_distribution, run_cli, with_site
from ganzoo.training.checkpoint import load_checkpoint
from test_engine import wait_for

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


BASE = [
    "--device",
    "cpu",
    "--resolution",
    16,
    "--batch-size",
    16,
    "--set",
    "ngf=8",
    "--set",
    "ndf=8",
    "--log-every",
    4,
    "--sample-every",
    1000,
    "--seed",
    3,
]
TINY = [*BASE, "--set", "label_noise=0.1"]  # label noise draws from every process's random stream
STEPS = 200


def torchrun(
    *args,
    nproc: int = 2,
    launcher: tuple = ("--standalone",),
    env: dict | None = None,
    wait: bool = True,
    timeout: int = 300,
):
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        *launcher,
        "--nproc-per-node",
        str(nproc),
        "-m",
        "ganzoo",
        *map(str, args),
    ]
    full_env = {**os.environ, "COLUMNS": "200", "OMP_NUM_THREADS": "1", "GANZOO_DIST_TIMEOUT": "60", **(env or {})}
    if not wait:
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, start_new_session=True
        )
    return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def weights(run: Path, step: int) -> dict:
    state, _ = load_checkpoint(run / "checkpoints" / f"step-{step:08d}.safetensors")
    return state


def assert_equal_weights(a: dict, b: dict) -> None:
    for part in ("model", "ema"):
        flat_a, flat_b = _flat(a[part]), _flat(b[part])
        assert flat_a.keys() == flat_b.keys()
        for key in flat_a:
            assert torch.equal(flat_a[key], flat_b[key]), f"{part}/{key} differs"


def _flat(tree, prefix=""):
    if isinstance(tree, torch.Tensor):
        return {prefix: tree}
    out = {}
    for key, value in tree.items():
        out.update(_flat(value, f"{prefix}/{key}"))
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted 2-process run."""
    out = tmp_path_factory.mktemp("distributed")
    result = torchrun(
        "train", "dcgan", *TINY, "--steps", STEPS, "--checkpoint-every", 20, "--out", out, "--name", "ref"
    )
    assert result.returncode == 0, result.stderr
    return out / "ref"


def test_two_processes_train_one_run_with_one_writer(reference):
    files = sorted(str(p.relative_to(reference)) for p in reference.rglob("*") if p.is_file())
    assert [f for f in files if f.startswith("checkpoints/")] == [
        f"checkpoints/step-{s:08d}.safetensors" for s in (160, 180, 200)
    ]
    assert len([f for f in files if f.endswith(".json")]) == 2  # config.json, status.json: one set of files
    assert sorted(p.name for p in reference.parent.iterdir()) == ["ref"]
    config = json.loads((reference / "config.json").read_text())
    assert config["world_size"] == 2 and config["training"]["batch_size"] == 16
    log = (reference / "log.txt").read_text()
    assert "2 processes" in log.splitlines()[0] and "8 images each" in log.splitlines()[0]
    assert log.count("all 2 processes hold the same weights") == 10  # one check per checkpoint
    steps = [json.loads(line)["step"] for line in (reference / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(4, STEPS + 1, 4)), "rank 0 alone logs, each step once"
    generated = run_cli("generate", reference, "--n", 4, "--out", reference.parent / "generated")
    assert generated.returncode == 0, generated.stderr


def test_sigterm_then_torchrun_resume_equals_the_uninterrupted_run(reference, tmp_path):
    process = torchrun(
        "train",
        "dcgan",
        *TINY,
        "--steps",
        STEPS,
        "--checkpoint-every",
        20,
        "--out",
        tmp_path,
        "--name",
        "t",
        wait=False,
    )
    wait_for(tmp_path / "t" / "checkpoints" / "step-00000040.safetensors", process)
    os.killpg(process.pid, signal.SIGTERM)  # what a scheduler or Ctrl-C sends: every process of the job
    _, stderr = process.communicate(timeout=120)
    status = json.loads((tmp_path / "t" / "status.json").read_text())
    assert status["state"] == "interrupted", stderr
    stopped_at = status["step"]
    assert 40 <= stopped_at < STEPS
    assert (tmp_path / "t" / "checkpoints" / f"step-{stopped_at:08d}.safetensors").is_file()
    resumed = torchrun("train", "--resume", tmp_path / "t")
    assert resumed.returncode == 0, resumed.stderr
    assert_equal_weights(weights(reference, STEPS), weights(tmp_path / "t", STEPS))


def test_a_killed_process_is_restarted_and_the_run_ends_as_uninterrupted(reference, tmp_path):
    process = torchrun(
        "train",
        "dcgan",
        *TINY,
        "--steps",
        STEPS,
        "--checkpoint-every",
        20,
        "--out",
        tmp_path,
        "--name",
        "k",
        "--resume",
        "auto",
        launcher=("--standalone", "--max-restarts", "1"),
        wait=False,
    )
    wait_for(tmp_path / "k" / "checkpoints" / "step-00000040.safetensors", process)
    workers = subprocess.run(["pgrep", "-f", "-P", str(process.pid), "ganzoo"], capture_output=True, text=True)
    victim = int(workers.stdout.split()[-1])  # one rank, not rank 0 necessarily
    os.kill(victim, signal.SIGKILL)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    log = (tmp_path / "k" / "log.txt").read_text()
    assert "resuming" in log
    assert_equal_weights(weights(reference, STEPS), weights(tmp_path / "k", STEPS))


MEAN_MODEL = '''
from dataclasses import dataclass

import torch
from torch import nn

from ganzoo import ModelSpec, hookimpl
from ganzoo.protocols import DataInfo, Phase, PhaseLoss


@dataclass
class MeanOptions:
    pass


class MeanGAN(nn.Module):
    """No noise, no BatchNorm, no dropout: its losses are means over the batch, so a step on a
    global batch equals the mean of the steps' gradients over its shards."""

    phases = (Phase("D", optimizer="D", critic=True), Phase("G", optimizer="G"))
    inference_networks = ("G",)

    def __init__(self, options, data: DataInfo):
        super().__init__()
        pixels = data.channels * data.resolution ** 2
        self.shape = (data.channels, data.resolution, data.resolution)
        self.G = nn.Sequential(nn.Linear(pixels, 32), nn.Tanh(), nn.Linear(32, pixels), nn.Tanh())
        self.D = nn.Sequential(nn.Linear(pixels, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def configure_optimizers(self):
        return {"D": torch.optim.Adam(self.D.parameters(), lr=1e-3), "G": torch.optim.Adam(self.G.parameters(), lr=1e-3)}

    def noise(self, n, generator=None):
        return torch.randn(n, self.shape[0] * self.shape[1] * self.shape[2], generator=generator)

    def sample(self, noise, labels=None, truncation=None):
        return self.G(noise).view(-1, *self.shape)

    def phase_loss(self, phase, batch, ctx):
        real = batch["image"].flatten(1)
        if "fake" not in ctx.scratch:
            ctx.scratch["fake"] = self.G(real.flip(1))
        fake = ctx.scratch["fake"]
        if phase.name == "D":
            loss = (nn.functional.softplus(self.D(fake.detach())) + nn.functional.softplus(-self.D(real))).mean()
        else:
            loss = nn.functional.softplus(-self.D(fake)).mean() + (fake - real).abs().mean()
        return PhaseLoss(loss, {f"loss_{phase.name}": loss.detach()})


@hookimpl
def register_models(register):
    register(ModelSpec(name="meangan", summary="deterministic test model", task="unconditional",
                       build="mean_gan_plugin:MeanGAN", options="mean_gan_plugin:MeanOptions",
                       default_dataset="digits", resolutions=(16,), default_batch_size=16))
'''


def test_two_processes_equal_one_process_with_the_global_batch(tmp_path):
    site = make_distribution(tmp_path / "site", "mean-gan", "mean_gan_plugin", MEAN_MODEL, entry_name="meangan")
    env = with_site(site)
    common = [
        "--device",
        "cpu",
        "--batch-size",
        16,
        "--steps",
        12,
        "--log-every",
        4,
        "--ema-start",
        0,
        "--out",
        tmp_path,
    ]
    two = torchrun("train", "meangan", *common, "--name", "two", env=env)
    assert two.returncode == 0, two.stderr
    one = run_cli("train", "meangan", *common, "--name", "one", env=env)
    assert one.returncode == 0, one.stderr
    micro = run_cli("train", "meangan", *common, "--accumulate", 4, "--name", "micro", env=env)
    assert micro.returncode == 0, micro.stderr
    a = weights(tmp_path / "one", 12)
    for other in ("two", "micro"):  # 2 processes x 8 images, 1 process x 4 micro-batches of 4: one batch of 16
        b = weights(tmp_path / other, 12)
        for key in a["model"]:
            torch.testing.assert_close(a["model"][key], b["model"][key], rtol=1e-4, atol=1e-5)
    moved = 0.0
    first = [json.loads(line) for line in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    second = [json.loads(line) for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    for x, y in zip(first, second):  # logged values are means over the processes: the global batch's
        assert x["loss_G"] == pytest.approx(y["loss_G"], rel=1e-4)
        moved += abs(x["loss_G"] - first[0]["loss_G"])
    assert moved > 0, "the model must have trained"


def test_penalties_with_double_backward_under_two_processes(tmp_path):
    """WGAN-GP (with R1 on top) needs double backward, which DDP does not do; gradients are
    averaged per phase instead, and every process ends with the same weights."""
    result = torchrun(
        "train",
        "dcgan",
        *BASE,
        "--loss",
        "wgan-gp",
        "--set",
        "r1_gamma=1",
        "--d-steps",
        2,
        "--steps",
        4,
        "--checkpoint-every",
        2,
        "--out",
        tmp_path,
        "--name",
        "gp",
    )
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "gp" / "log.txt").read_text()
    assert log.count("all 2 processes hold the same weights") == 2
    assert "penalty_D" in (tmp_path / "gp" / "metrics.jsonl").read_text()


def test_two_nodes_through_a_c10d_rendezvous(tmp_path):
    port = free_port()
    launcher = (
        "--nnodes",
        "2",
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        f"127.0.0.1:{port}",
        "--rdzv-id",
        "two-nodes",
    )
    nodes = [
        torchrun(
            "train",
            "dcgan",
            *TINY,
            "--steps",
            8,
            "--out",
            tmp_path,
            "--name",
            "nodes",
            nproc=1,
            launcher=launcher,
            wait=False,
        )
        for _ in range(2)
    ]
    results = [node.communicate(timeout=300) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nodes"]
    assert "2 processes" in (tmp_path / "nodes" / "log.txt").read_text().splitlines()[0]
    assert (tmp_path / "nodes" / "checkpoints" / "step-00000008.safetensors").is_file()


def test_an_uneven_batch_and_a_missing_peer_are_clear_errors(tmp_path):
    uneven = torchrun("train", "dcgan", *TINY[:4], "--batch-size", 15, "--steps", 2, "--out", tmp_path, "--name", "u")
    assert uneven.returncode != 0
    assert uneven.stderr.count("--batch-size 15 does not split evenly over 2 processes") == 1  # rank 0's line
    assert not (tmp_path / "u").exists()
    started = time.monotonic()
    lonely = torchrun(
        "train",
        "dcgan",
        *TINY,
        "--steps",
        2,
        "--out",
        tmp_path,
        "--name",
        "lonely",
        nproc=1,
        launcher=(
            "--nnodes",
            "2",
            "--rdzv-backend",
            "c10d",
            "--rdzv-endpoint",
            f"127.0.0.1:{free_port()}",
            "--rdzv-id",
            "lonely",
            "--rdzv-conf",
            "join_timeout=5",
        ),
        timeout=120,
    )
    assert lonely.returncode != 0 and time.monotonic() - started < 100
    assert "RendezvousTimeoutError" in lonely.stderr or "timed out" in lonely.stderr.lower()


def test_resume_auto_starts_a_run_then_continues_it(tmp_path):
    args = ["train", "dcgan", *TINY, "--out", tmp_path, "--name", "auto", "--resume", "auto"]
    first = run_cli(*args, "--steps", 4)
    assert first.returncode == 0, first.stderr
    second = run_cli(*args, "--steps", 8)
    assert second.returncode == 0, second.stderr
    assert "resuming" in second.stderr and json.loads((tmp_path / "auto" / "status.json").read_text())["step"] == 8
    clash = run_cli(
        "train",
        "dcgan",
        *TINY,
        "--out",
        tmp_path,
        "--name",
        "auto",
        "--resume",
        "auto",
        "--set",
        "ngf=16",
        "--steps",
        12,
    )
    assert clash.returncode == 2 and "--set" in clash.stderr
    assert_no_traceback(clash)
    missing_name = run_cli("train", "dcgan", "--resume", "auto", "--out", tmp_path)
    assert missing_name.returncode == 2 and "--name" in missing_name.stderr


def test_evaluation_is_shared_by_the_processes(tmp_path):
    result = torchrun(
        "train",
        "dcgan",
        *TINY,
        "--steps",
        4,
        "--eval-every",
        4,
        "--eval-extractor",
        "digits",
        "--eval-n",
        64,
        "--out",
        tmp_path,
        "--name",
        "e",
    )
    assert result.returncode == 0, result.stderr
    evals = [json.loads(line) for line in (tmp_path / "e" / "metrics.jsonl").read_text().splitlines() if "eval" in line]
    assert len(evals) == 1 and evals[0]["eval"]["fid"] > 0 and evals[0]["n"] == 64
    # the same number one process computes, and `ganzoo eval` under torchrun shares the work too
    alone = run_cli(
        "eval",
        tmp_path / "e",
        "--feature-extractor",
        "digits",
        "--metric",
        "fid",
        "--n",
        64,
        "--device",
        "cpu",
        "--json",
    )
    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout)["eval"]["fid"] == evals[0]["eval"]["fid"]
    shared = torchrun(
        "eval",
        tmp_path / "e",
        "--feature-extractor",
        "digits",
        "--metric",
        "fid",
        "--samples",
        300,
        "--device",
        "cpu",
        "--json",
    )
    assert shared.returncode == 0, shared.stderr
    record = json.loads(shared.stdout)  # printed once, by rank 0
    assert record["processes"] == 2
    alone = run_cli(
        "eval",
        tmp_path / "e",
        "--feature-extractor",
        "digits",
        "--metric",
        "fid",
        "--n",
        300,
        "--device",
        "cpu",
        "--json",
    )
    assert json.loads(alone.stdout)["eval"]["fid"] == pytest.approx(record["eval"]["fid"], rel=1e-5)
