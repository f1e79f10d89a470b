"""Phases as declared data: intervals, shared optimizers, fresh batches, --d-steps, and exact
resume in the middle of a lazy-regularisation cadence."""

from __future__ import annotations

import importlib

import pytest
import torch

from conftest import make_distribution, run_cli, with_site
from ganzoo.errors import GanzooError, UsageError
from ganzoo.protocols import Phase
from ganzoo.regularization import lazy_adam_settings, lazy_ratio
from ganzoo.training.phases import PhaseRunner, batches_per_step, check_critic_steps, checked_phases
from test_engine import assert_same_tensors, final_state

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

# A third-party model with a lazy R1 phase every 16 steps on D's optimizer and a fresh-batch
# regulariser every 4 steps on G's: the shape of StyleGAN2's schedule, on a tiny MLP.
LAZY_MODEL = """
from dataclasses import dataclass

import torch
from torch import nn

from ganzoo import ModelSpec, hookimpl
from ganzoo.options import option
from ganzoo.protocols import DataInfo, Phase, PhaseLoss, StepContext
from ganzoo.regularization import lazy_adam_settings


@dataclass
class LazyOptions:
    r1_every: int = option(16, "steps between R1 phases", min=1)
    path_every: int = option(4, "steps between G's regulariser phases", min=1)


class LazyGAN(nn.Module):
    inference_networks = ("G",)

    def __init__(self, options: LazyOptions, data: DataInfo):
        super().__init__()
        self.options = options
        self.phases = (Phase("D", optimizer="D", critic=True), Phase("D_reg", optimizer="D", every=options.r1_every),
                       Phase("G", optimizer="G"),
                       Phase("G_reg", optimizer="G", every=options.path_every, fresh_batch=True))
        pixels = data.channels * data.resolution ** 2
        self.shape = (data.channels, data.resolution, data.resolution)
        self.G = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, pixels), nn.Tanh())
        self.D = nn.Sequential(nn.Linear(pixels, 32), nn.LeakyReLU(0.2), nn.Dropout(0.1), nn.Linear(32, 1))
        self.calls = []  # (step, phase, repeat, the id of the batch) of every phase_loss call

    def configure_optimizers(self):
        lr, betas = lazy_adam_settings(1e-3, (0.5, 0.99), self.options.r1_every)
        return {"D": torch.optim.Adam(self.D.parameters(), lr=lr, betas=betas),
                "G": torch.optim.Adam(self.G.parameters(), lr=1e-3, betas=(0.5, 0.99))}

    def noise(self, n, generator=None):
        return torch.randn(n, 8, generator=generator)

    def sample(self, noise, labels=None, truncation=None):
        return self.G(noise).view(-1, *self.shape)

    def phase_loss(self, phase: Phase, batch, ctx: StepContext) -> PhaseLoss:
        self.calls.append((ctx.step, phase.name, ctx.repeat, id(batch)))
        real = batch["image"].flatten(1)
        if "fake" not in ctx.scratch:
            ctx.scratch["fake"] = self.G(torch.randn(len(real), 8, device=real.device))
        fake = ctx.scratch["fake"]
        if phase.name == "D":
            loss = (nn.functional.softplus(self.D(fake.detach())) + nn.functional.softplus(-self.D(real))).mean()
        elif phase.name == "D_reg":  # R1, weighted by its interval (lazy regularisation)
            real = real.detach().requires_grad_(True)
            grad, = torch.autograd.grad(self.D(real).sum(), real, create_graph=True)
            loss = grad.square().sum(1).mean() * phase.every
        elif phase.name == "G":
            loss = nn.functional.softplus(-self.D(fake)).mean()
        else:  # a cheap stand-in for a path-length penalty, on its own fresh batch
            loss = self.G(torch.randn(len(real), 8, device=real.device)).square().mean() * phase.every
        return PhaseLoss(loss, {f"loss_{phase.name}": loss.detach()})


@hookimpl
def register_models(register):
    register(ModelSpec(name="lazygan", summary="test model with lazy phases", task="unconditional",
                       build="lazy_gan_plugin:LazyGAN", options="lazy_gan_plugin:LazyOptions",
                       default_dataset="digits", resolutions=(16,), default_batch_size=16))
"""


@pytest.fixture
def lazy_site(tmp_path, monkeypatch):
    site = make_distribution(tmp_path / "site", "lazy-gan", "lazy_gan_plugin", LAZY_MODEL, entry_name="lazygan")
    monkeypatch.syspath_prepend(str(site))
    return site


def build(site, **options):
    module = importlib.import_module("lazy_gan_plugin")
    from ganzoo.protocols import DataInfo

    torch.manual_seed(0)
    model = module.LazyGAN(module.LazyOptions(**options), DataInfo(kind="images", channels=1, resolution=4))
    optimizers = model.configure_optimizers()
    return model, optimizers


def test_each_phase_runs_at_exactly_its_steps_and_steps_its_optimizer_once(lazy_site):
    model, optimizers = build(lazy_site)
    draws = []

    def draw():
        batch = {"image": torch.rand(4, 1, 4, 4) * 2 - 1}
        draws.append(batch)  # kept alive, so ids stay unique
        return batch

    runner = PhaseRunner(model, optimizers, checked_phases(model, optimizers, "lazygan"))
    for step in range(40):
        runner.step(step, draw, lambda logs: None)
    ran = {name: [s for s, phase, _, _ in model.calls if phase == name] for name in ("D", "D_reg", "G", "G_reg")}
    assert ran["D"] == ran["G"] == list(range(40))
    assert ran["D_reg"] == [0, 16, 32]
    assert ran["G_reg"] == list(range(0, 40, 4))
    # Adam counts its own steps: one per phase run on it, whichever phase it was.
    d_steps = optimizers["D"].state[next(model.D.parameters())]["step"]
    g_steps = optimizers["G"].state[next(model.G.parameters())]["step"]
    assert int(d_steps) == 40 + 3 and int(g_steps) == 40 + 10
    # the phases of a step share one batch; the fresh-batch phase draws its own
    calls = {phase: batch for s, phase, _, batch in model.calls if s == 0}
    assert calls["D"] == calls["D_reg"] == calls["G"] != calls["G_reg"]
    assert len(draws) == 40 + 10


def test_d_steps_repeat_only_critic_phases_on_new_batches(lazy_site):
    model, optimizers = build(lazy_site)
    runner = PhaseRunner(model, optimizers, checked_phases(model, optimizers, "lazygan"), d_steps=3)
    drawn = []
    runner.step(1, lambda: drawn.append({"image": torch.rand(4, 1, 4, 4) * 2 - 1}) or drawn[-1], lambda logs: None)
    assert [(phase, repeat) for _, phase, repeat, _ in model.calls] == [("D", 0), ("D", 1), ("D", 2), ("G", 0)]
    batches = [batch for *_, batch in model.calls]
    assert len(set(batches[:3])) == 3 and batches[3] == batches[2], "G shares the last repeat's batch"
    assert batches_per_step(model.phases, 3) == pytest.approx(1 + 2 + 1 / 4)


def test_phase_declarations_are_checked(lazy_site):
    model, optimizers = build(lazy_site)
    with pytest.raises(GanzooError, match=r"step optimizer\(s\) \['E'\]"):
        model.phases = (Phase("D", optimizer="E"), Phase("G", optimizer="G"))
        checked_phases(model, optimizers, "lazygan")
    with pytest.raises(GanzooError, match=r"optimizer\(s\) \['D'\] are stepped by no phase"):
        model.phases = (Phase("G", optimizer="G"),)
        checked_phases(model, optimizers, "lazygan")
    with pytest.raises(GanzooError, match="a phase name twice"):
        model.phases = (Phase("D", optimizer="D"), Phase("D", optimizer="G"))
        checked_phases(model, optimizers, "lazygan")
    with pytest.raises(GanzooError, match="tuple of ganzoo.protocols.Phase"):
        model.phases = ("D", "G")
        checked_phases(model, optimizers, "lazygan")
    with pytest.raises(UsageError, match="no critic phase"):
        check_critic_steps((Phase("G", optimizer="G"),), 2, "lazygan")
    with pytest.raises(ValueError, match="every must be a positive integer"):
        Phase("R1", optimizer="D", every=0)


def test_lazy_regularisation_correction():
    assert lazy_ratio(16) == pytest.approx(16 / 17)
    lr, (beta1, beta2) = lazy_adam_settings(0.002, (0.0, 0.99), 16)
    assert lr == pytest.approx(0.002 * 16 / 17)
    assert beta1 == 0.0 and beta2 == pytest.approx(0.99 ** (16 / 17))
    lr, betas = lazy_adam_settings(0.1, (0.5, 0.9), 1)
    assert lr == pytest.approx(0.05) and betas == pytest.approx((0.5**0.5, 0.9**0.5))


# --ema-start is given because its default depends on --steps, and the two runs differ there
ARGS = [
    "--batch-size",
    16,
    "--log-every",
    8,
    "--seed",
    5,
    "--checkpoint-every",
    10,
    "--ema-start",
    5,
    "--deterministic",
]


def test_resume_mid_cadence_equals_the_uninterrupted_run(lazy_site, tmp_path):
    """Stopped at step 37 (between R1 phases at 32 and 48, one step after a G_reg at 36),
    resumed to 64: every tensor equals the run that never stopped."""
    env = with_site(lazy_site)
    whole = run_cli("train", "lazygan", *ARGS, "--steps", 64, "--out", tmp_path, "--name", "whole", env=env)
    assert whole.returncode == 0, whole.stderr
    part = run_cli("train", "lazygan", *ARGS, "--steps", 37, "--out", tmp_path, "--name", "part", env=env)
    assert part.returncode == 0, part.stderr
    assert (tmp_path / "part" / "checkpoints" / "step-00000037.safetensors").is_file()
    resumed = run_cli("train", "--resume", tmp_path / "part", "--steps", 64, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_tensors(final_state(tmp_path / "whole", 64), final_state(tmp_path / "part", 64))
    lines = (tmp_path / "whole" / "metrics.jsonl").read_text()
    assert '"loss_D_reg"' in lines and '"loss_G_reg"' in lines
