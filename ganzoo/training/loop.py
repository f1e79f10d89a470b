"""The one training loop. Read top to bottom to know how every ganzoo model trains.

The model (a recipe, see ganzoo.protocols.GANModel) answers "the loss of this phase on this
batch"; this loop owns the rest: device, seeding, data order, gradient steps, logging,
samples and checkpoints.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch
from rich.console import Console

import ganzoo
from ganzoo.data import ShuffledIndices, to_model_range
from ganzoo.errors import DataError, GanzooError
from ganzoo.plugins import PluginSystem, load_plugins
from ganzoo.specs import resolve
from ganzoo.training.checkpoint import save_checkpoint
from ganzoo.training.devices import resolve_device, seed_everything
from ganzoo.training.ema import GeneratorEMA
from ganzoo.training.progress import TrainingProgress
from ganzoo.training.run_dir import RunDir
from ganzoo.training.samples import sample_images, save_grid
from ganzoo.training.settings import TrainPlan, TrainSettings, plan_to_dict, plan_training

SAMPLE_GRID_SIZE = 64


class LogAverager:
    """Sums detached scalars on the device; the host reads them only when a line is logged."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, logs: dict[str, torch.Tensor]) -> None:
        for key, value in logs.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
            self.counts[key] = self.counts.get(key, 0) + 1

    def pop_means(self) -> dict[str, float]:
        keys = list(self.sums)
        totals = torch.stack([self.sums[k] for k in keys]).tolist() if keys else []
        means = {k: total / self.counts[k] for k, total in zip(keys, totals)}
        self.sums, self.counts = {}, {}
        return means


def train(settings: TrainSettings, console: Console | None = None,
          plugins: PluginSystem | None = None) -> Path:
    """Run a training from settings; returns the run folder."""
    console = console or Console(stderr=True)
    plugins = plugins or load_plugins()
    plan = plan_training(settings, plugins)
    device = resolve_device(plan.device)
    return Trainer(plan, device, console, plugins).run()


class Trainer:
    def __init__(self, plan: TrainPlan, device: torch.device, console: Console, plugins: PluginSystem):
        self.plan, self.device, self.console, self.plugins = plan, device, console, plugins
        self.run_dir = RunDir(plan.run_dir)

        # --- data ---------------------------------------------------------------------
        seed_everything(plan.seed)
        load = resolve(plan.dataset.spec.load)
        self.data = load(root=plan.data_root, resolution=plan.resolution, split="train")
        if len(self.data) < plan.batch_size:
            raise DataError(f"dataset '{plan.dataset.name}' has {len(self.data)} examples, fewer than "
                            f"--batch-size {plan.batch_size}")
        self.order = ShuffledIndices(len(self.data), plan.batch_size, plan.seed)

        # --- model and optimizers -----------------------------------------------------
        self.model = resolve(plan.model.spec.build)(plan.options, self.data.info).to(device)
        self.optimizers = self.model.configure_optimizers()
        if set(self.optimizers) != set(self.model.phases):
            raise GanzooError(f"model '{plan.model.name}' returned optimizers for {sorted(self.optimizers)} "
                              f"but declares phases {list(self.model.phases)}")
        # Each phase back-propagates only into its own parameters: no wasted weight gradients
        # for the other networks, and their .grad stays untouched.
        self.phase_params = {phase: [p for group in opt.param_groups for p in group["params"]]
                             for phase, opt in self.optimizers.items()}
        self.ema = GeneratorEMA(self.model, self.model.inference_networks, plan.ema_decay, plan.ema_start)
        self.fixed_noise = (self.model.noise(SAMPLE_GRID_SIZE, torch.Generator().manual_seed(plan.seed))
                            if hasattr(self.model, "noise") else None)
        self.step = 0

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> Path:
        plan = self.plan
        self.run_dir.create()
        self.run_dir.write_config(self.config())
        self._log(f"run {self.run_dir.path} on {self.device}: {plan.model.name} on {plan.dataset.name} "
                  f"({len(self.data)} images at {plan.resolution}px), {plan.steps} steps of {plan.batch_size}")
        logs = LogAverager()
        last_time, last_step = time.perf_counter(), self.step
        self.model.train()
        with TrainingProgress(self.console, plan.steps, start=self.step) as progress:
            while self.step < plan.steps:
                batch = to_model_range(self.data.batch(self.order.next()), self.device)
                scratch: dict = {}  # shared by the phases of this step only
                for phase in self.model.phases:
                    optimizer = self.optimizers[phase]
                    optimizer.zero_grad(set_to_none=True)
                    result = self.model.phase_loss(phase, batch, scratch)
                    result.loss.backward(inputs=self.phase_params[phase])
                    optimizer.step()
                    logs.add(result.logs)
                self.step += 1
                self.ema.update(self.model, self.step)
                progress.advance(self.step)

                if self.step % plan.log_every == 0 or self.step == plan.steps:
                    now = time.perf_counter()
                    speed = (self.step - last_step) * plan.batch_size / max(now - last_time, 1e-9)
                    last_time, last_step = now, self.step
                    means = logs.pop_means()
                    self._check_finite(means)
                    line = progress.report(self.step, speed, means)
                    self.run_dir.append_log(line)
                    self.run_dir.append_metrics({"step": self.step, "epoch": self.order.epoch,
                                                 "images_per_second": round(speed, 1), **means})
                if self.step % plan.sample_every == 0 or self.step == plan.steps:
                    self.save_samples()

        path = self.save_checkpoint()
        self._log(f"finished: checkpoint {path}, samples in {self.run_dir.samples}")
        return self.run_dir.path

    # -- pieces --------------------------------------------------------------------------
    def save_samples(self) -> Path | None:
        if self.fixed_noise is None:
            return None
        path = self.run_dir.sample_path(self.step)
        with self.ema.swapped_in(self.model) as model:
            save_grid(sample_images(model, self.fixed_noise, self.device), path)
        return path

    def save_checkpoint(self) -> Path:
        path = self.run_dir.checkpoint_path(self.step)
        state = {
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict() if self.ema.active else {},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "data_order": self.order.state_dict(),
            "step": self.step,
        }
        info = {"step": self.step, "epoch": self.order.epoch, "model": self.plan.model.name,
                "ganzoo": ganzoo.__version__}
        save_checkpoint(path, state, info)
        return path

    def config(self) -> dict:
        plan = self.plan
        return {
            **plan_to_dict(plan),
            "data": asdict(self.data.info),
            "device": str(self.device),
            "versions": {"ganzoo": ganzoo.__version__, "torch": torch.__version__,
                         **{p.name: p.version for p in self.plugins.plugins.values() if p.status == "loaded"}},
            "providers": {"model": str(plan.model.provider), "dataset": str(plan.dataset.provider)},
            "command": sys.argv,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def _check_finite(self, means: dict[str, float]) -> None:
        bad = [k for k, v in means.items() if v != v or v in (float("inf"), float("-inf"))]
        if bad:
            raise GanzooError(f"training diverged at step {self.step}: {', '.join(bad)} is not finite")

    def _log(self, message: str) -> None:
        self.console.print(message, highlight=False, soft_wrap=True)
        self.run_dir.append_log(message)
