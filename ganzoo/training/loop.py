"""The one training loop. Read top to bottom to know how every ganzoo model trains.

The model (a recipe, see ganzoo.protocols.GANModel) answers "the loss of this phase on this
batch"; this loop owns the rest: device, seeding, data order, gradient steps, schedules, EMA,
budgets, divergence, signals, logging, samples and checkpoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
import typing
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from ganzoo._version import __version__ as ganzoo_version
from ganzoo.augment import LEAKING, augment_batch, parse_loader_augments
from ganzoo.data import ShuffledIndices, to_model_range
from ganzoo.data.convert import to_uint8
from ganzoo.data.loading import open_dataset
from ganzoo.errors import CheckpointError, DataError, GanzooError, UsageError
from ganzoo.execution import compile_networks, eager_networks
from ganzoo.metrics.eval_settings import EvalSettings
from ganzoo.metrics.runner import Evaluator
from ganzoo.outputs import shell_command
from ganzoo.plugins import PluginSystem, load_plugins
from ganzoo.protocols import (AveragesOverImages, OrdersItsData, PreviewsExamples, ReadsPreparedCache,
                              SamplesFromNoise, inference_kinds)
from ganzoo.specs import resolve
from ganzoo.training.artifacts import plot_losses, read_metrics, write_timelapse
from ganzoo.training.checkpoint import load_checkpoint, save_checkpoint
from ganzoo.training.distributed import World, join, rank_seed
from ganzoo.training.devices import (configure_backends, fix_cublas_workspace, resolve_device, restore_backends,
                                    seed_everything)
from ganzoo.training.ema import GeneratorEMA
from ganzoo.training.feed import BatchFeed, choose_mode
from ganzoo.training.guard import Diverged, DivergenceGuard
from ganzoo.training.lifecycle import Lifecycle
from ganzoo.training.phases import PhaseRunner, batches_per_step, check_critic_steps, checked_phases
from ganzoo.training.plan import TrainPlan, plan_to_dict, plan_training
from ganzoo.training.precision import Precision, resolve_precision
from ganzoo.training.progress import TrainingProgress
from ganzoo.training.rng import capture_rng, restore_rng
from ganzoo.training.run_dir import ReadOnlyRunDir, RunDir
from ganzoo.training.samples import SampleSheet, grid_image, save_png
from ganzoo.training.settings import DEFAULT_EMA_DECAY, RECORDED, RESUMABLE, TrainSettings, settings_for_resume

#: Makes the ``run`` lifecycle hooks receive from a run folder's path (``ganzoo.Run``).
RunView = Callable[[Path], Any]

PREVIEW_EXAMPLES = 8  # rows of a translation model's sample grid


class LogAverager:
    """Sums detached scalars on the device; the host reads them only when a line is logged.
    With a ``world`` of several processes the means are over every process's values."""

    def __init__(self, world=None) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.world = world

    def add(self, logs: dict[str, torch.Tensor]) -> None:
        for key, value in logs.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
            self.counts[key] = self.counts.get(key, 0) + 1

    def pop_means(self) -> dict[str, float]:
        keys = list(self.sums)
        stacked = torch.stack([self.sums[k] for k in keys]) if keys else None
        if stacked is not None and self.world is not None:
            stacked = self.world.mean(stacked)
        totals = stacked.tolist() if stacked is not None else []
        means = {k: total / self.counts[k] for k, total in zip(keys, totals)}
        self.sums, self.counts = {}, {}
        return means


def train(settings: TrainSettings, console: Console | None = None, plugins: PluginSystem | None = None, *,
          run_view: RunView, resume_if_exists: bool = False, overrides: dict[str, Any] | None = None) -> Path:
    """Start a run from settings; returns the run folder. Under torchrun every process of the
    launch calls this, and together they train one run (rank 0 alone writes it). With
    ``resume_if_exists`` (``--resume auto``) a run already in OUT/NAME is resumed instead, with
    ``overrides`` (its resumable settings), after checking it is the run these settings describe.
    ``run_view`` makes the ``run`` that lifecycle hooks and loggers receive from the run folder:
    ``ganzoo.Run``, passed in by the Python API and the CLI, the layers above this one."""
    console = console or Console(stderr=True)
    plugins = plugins or load_plugins()
    world, device = join(settings.device)
    try:
        if world.active:
            settings = dataclasses.replace(settings, device=device)
        if not world.is_writer:
            console = Console(stderr=True, quiet=True)
        if resume_if_exists:
            run_dir = RunDir(Path(settings.out) / settings.name)
            if world.share(run_dir.config_path.is_file()):  # rank 0 decides: the others may see it appear
                overrides = {**(overrides or {}), **({"device": device} if world.active else {})}
                return _resume(run_dir, run_dir.read_config(), overrides, console, plugins, world, run_view,
                               settings)
            console.print(f"{run_dir.path} holds no run yet: starting it", highlight=False)
        plan = world.together(lambda: plan_training(settings, plugins, world_size=world.size,
                                                    check_fresh=world.is_writer))
        shared = Path(world.share(str(plan.run_dir)))  # a default name holds rank 0's clock time
        plan = dataclasses.replace(plan, run_dir=shared, settings=dataclasses.replace(plan.settings, name=shared.name))
        trainer = Trainer(plan, resolve_device(plan.settings.device), console, plugins, world=world)
        if world.is_writer:
            with trainer.run_dir.create_locked():  # one run, one writer: a second process gets an error
                path = trainer.run(run_view)
        else:
            path = trainer.run(run_view)
        return path
    finally:
        world.close()


def resume(run: Path, overrides: dict[str, Any], console: Console | None = None,
           plugins: PluginSystem | None = None, *, run_view: RunView) -> Path:
    """Continue a run from its newest usable checkpoint of its own, exactly where it stopped.
    Nothing in the run folder changes before the run's lock is held and every check passed.
    ``run_view``: as for :func:`train`."""
    console = console or Console(stderr=True)
    plugins = plugins or load_plugins()
    run = Path(run)
    run_dir = RunDir(run.resolve() if run.name in ("", ".", "..") else run)  # `--resume .`: its real name
    config = run_dir.read_config()
    recorded = config.get("training") if isinstance(config.get("training"), dict) else {}
    world, device = join(overrides.get("device") or recorded.get("device") or "auto")
    try:
        if world.active:
            overrides = {**overrides, "device": device}
        if not world.is_writer:
            console = Console(stderr=True, quiet=True)
        return _resume(run_dir, config, overrides, console, plugins, world, run_view)
    finally:
        world.close()


def _resume(run_dir: RunDir, config: dict[str, Any], overrides: dict[str, Any], console: Console,
            plugins: PluginSystem, world: World, run_view: RunView, expected: TrainSettings | None = None) -> Path:
    settings = settings_for_resume(config, run_dir.path, overrides)

    def checked_plan() -> TrainPlan:
        plan = plan_training(settings, plugins, resuming=True, world_size=world.size)
        if expected is not None:  # --resume auto: the command must describe this run
            # a setting left to its default takes the run's recorded value (--ema-start follows --steps)
            recorded = {key: value for key, value in config["training"].items()
                        if key in RECORDED and getattr(expected, key, None) is None}
            wanted = plan_training(dataclasses.replace(expected, **recorded), plugins, resuming=True,
                                   world_size=world.size)
            reason = differences(run_identity(plan), run_identity(wanted))
            if reason:
                raise UsageError(f"--resume auto: {run_dir.path} holds another run ({reason}); give the flags and "
                                 "--set values it was started with, or another --name")
        return plan

    plan = world.together(checked_plan)
    lock = world.together(lambda: run_dir.lock() if world.is_writer else contextlib.nullcontext())
    with lock:
        trainer = Trainer(plan, resolve_device(plan.settings.device), console, plugins, run_id=config.get("run_id"),
                          world=world)
        trainer.check_dataset(config.get("dataset_fingerprint"))
        refused = trainer.restore_newest_checkpoint()
        if expected is not None and trainer.step >= trainer.total_steps:  # --resume auto of a finished run
            console.print(f"{run_dir.path} already finished at step {trainer.step}: nothing to do", highlight=False)
            return run_dir.path
        trainer.check_budget(overrides)
        if world.is_writer:
            run_dir.remove_leftovers()  # holding the lock proves their writer is gone
            for path in refused:  # out of the way, kept: later resumes and `generate` use the good ones
                os.replace(path, path.with_name(path.name + ".refused"))
            run_dir.truncate_metrics(trainer.step)
        return trainer.run(run_view)


def primary_value(results: dict[str, float], metric: str) -> float:
    """The number that ranks checkpoints: the metric's own value, or the mean over directions
    (``fid_a2b``, ``fid_b2a``) for two-way models."""
    if metric in results:
        return results[metric]
    values = [v for k, v in results.items() if k.startswith(f"{metric}_") and not k.endswith("_std")]
    return sum(values) / len(values)


class Trainer:
    def __init__(self, plan: TrainPlan, device: torch.device, console: Console, plugins: PluginSystem,
                 run_id: str | None = None, world: World | None = None):
        self.plan, self.device, self.console, self.plugins = plan, device, console, plugins
        self.settings = settings = plan.settings  # resolved
        self.world = world = world or World()
        # rank 0 alone writes the run folder; the other processes of a torchrun launch read it
        self.run_dir = RunDir(plan.run_dir) if world.is_writer else ReadOnlyRunDir(plan.run_dir)
        # names this run in its checkpoints, so that one copied in from another run is refused
        self.run_id = run_id or world.share(uuid.uuid4().hex[:16])

        # --- device switches, data and its order -----------------------------------------
        if settings.deterministic:
            fix_cublas_workspace()
        self.precision = Precision(resolve_precision(settings.precision, device), device)
        seed_everything(rank_seed(settings.seed, world.rank))  # each process its own noise; rank 0 the seed's
        with world.writer_first():  # rank 0 prepares a dataset's cache; the others then read it
            self.data = open_dataset(plan.dataset.spec, root=settings.data_root, resolution=settings.resolution,
                                     split="train", fit=settings.fit, options=settings.data_options)
        if isinstance(self.data, OrdersItsData):  # e.g. unpaired domains, each with its own order
            make_order = self.data.make_order
        else:
            make_order = lambda batch_size, seed: ShuffledIndices(len(self.data), batch_size, seed)  # noqa: E731
        try:
            self.order = make_order(settings.batch_size, settings.seed)
        except ValueError as exc:  # fewer examples than the batch size
            raise DataError(f"dataset '{plan.dataset.name}': {exc}; lower --batch-size") from None
        self.augment = parse_loader_augments(settings.augment)
        # convolutions run fastest on NHWC tensors on GPUs (tensor cores); on CPUs it depends on the
        # model (DCGAN +11-15%, Pix2Pix/CycleGAN -6-11%: docs/benchmarks.md), so they keep NCHW
        self.channels_last = device.type == "cuda"
        self.feed = BatchFeed(self.data, self.order, device,
                              choose_mode(settings.data_on_device, self.data, device, plan.dataset.name),
                              channels_last=self.channels_last, shard=(world.rank, world.size),
                              masks=plugins.tasks.get(plan.model.spec.task).batch.masks)

        # --- model, optimizers, phases, schedules, EMA --------------------------------------
        self.model = resolve(plan.model.spec.build)(plan.options, self.data.info).to(device)
        if settings.sync_bn:
            if device.type != "cuda":
                raise UsageError("--sync-bn needs CUDA GPUs (SyncBatchNorm); on CPUs each process normalises over "
                                 "its share of the batch")
            self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        world.broadcast_state(self.model.state_dict().values())  # every process starts from rank 0's weights
        self.optimizers = self.model.configure_optimizers()
        self.phases = checked_phases(self.model, self.optimizers, plan.model.name)
        check_critic_steps(self.phases, settings.d_steps, plan.model.name)
        self.total_steps = settings.steps or math.ceil(
            settings.epochs * self.feed.batches_per_epoch / batches_per_step(self.phases, settings.d_steps))
        self.schedulers = {name: torch.optim.lr_scheduler.LambdaLR(opt, self._lr_factor)
                           for name, opt in self.optimizers.items()}
        self.ema = GeneratorEMA(self.model, self.model.inference_networks, self._ema_decay(), settings.ema_start)
        self.guard = DivergenceGuard(tuple(p.name for p in self.phases), device, world)
        # compiled after the EMA copied the networks: the copies (used for samples) stay eager
        self.compiled = compile_networks(self.model, settings.compile_mode) if settings.compile else []
        self.runner = PhaseRunner(self.model, self.optimizers, self.phases, settings.d_steps, settings.clip_grad,
                                  observe=self.guard.observe, precision=self.precision, compiled=bool(self.compiled),
                                  accumulate=settings.accumulate, reduce_gradients=world.average_gradients,
                                  batch_size=settings.batch_size)
        with world.writer_first():  # held-out caches, extractor weights: made once, by rank 0
            self.evaluator = self._evaluator() if settings.eval_every else None
        self.best: float | None = None  # the best evaluation so far (its checkpoint is best.safetensors)
        # Sample grids: the same noise (and conditions) all through training, or fixed examples.
        self.sheet = (SampleSheet.for_model(self.model, self.data.info, settings.seed)
                      if isinstance(self.model, SamplesFromNoise) else None)
        self.fixed_batch = (self._fixed_examples()  # rank 0 alone draws the grids
                            if self.sheet is None and isinstance(self.model, PreviewsExamples) and world.is_writer
                            else None)
        self.batches_drawn = 0
        self.lifecycle = Lifecycle(plugins, self._log)  # plugins and --logger loggers hear of the run

        # --- counters -------------------------------------------------------------------------
        self.step = 0
        self.elapsed_before = 0.0  # training seconds of earlier invocations of this run
        self.stop_signal: int | None = None
        self.last_checkpoint_step: int | None = None

    def _ema_decay(self) -> float:
        """--ema-decay, or the model's half-life in images at this batch size, or the default."""
        if self.settings.ema_decay is not None:
            return self.settings.ema_decay
        if isinstance(self.model, AveragesOverImages):
            kimg = self.model.ema_half_life_kimg(self.settings.batch_size)
            if kimg > 0:
                return 0.5 ** (self.settings.batch_size / (1000.0 * kimg))
        return DEFAULT_EMA_DECAY

    def _lr_factor(self, step: int) -> float:
        """constant, or linear-decay: constant until decay_start, then linearly to 0 at the end."""
        if self.settings.lr_schedule == "constant":
            return 1.0
        start = self.settings.decay_start if self.settings.decay_start is not None else self.total_steps // 2
        if step < start:
            return 1.0
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - start))

    # -- the loop ------------------------------------------------------------------------
    def run(self, run_view: RunView | None = None) -> Path:
        """Train to the end of the budget; returns the run folder. Lifecycle hooks and loggers hear of
        the run only with a ``run_view`` (a Trainer used without one, as by benchmarks, has no listeners)."""
        self.run_dir.create()
        self.run_dir.write_config(self.config())
        self.run_dir.write_status("running", self.step, self.total_steps)
        self._log(self._banner())
        if self.world.is_writer and run_view is not None:  # plugins and loggers hear of the run once, from rank 0
            self.lifecycle.start(run_view(self.run_dir.path), self.settings.loggers, self.step)
        status = "failed"
        previous_backends = configure_backends(self.device, self.settings.deterministic)  # put back when the run ends
        try:
            status = self._train()
        except Diverged:
            status = "diverged"
            raise
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            self.lifecycle.end(self.step, status)
            restore_backends(previous_backends)
        return self.run_dir.path

    def _train(self) -> str:
        """Train until the budget, a signal or a divergence; returns how it ended."""
        plan, settings = self.plan, self.settings
        leaking = [name for name in self.augment if name in LEAKING]
        if leaking and isinstance(self.model, SamplesFromNoise):
            self._log(f"warning: --augment {','.join(leaking)} changes only the real images, so the samples "
                      f"will learn to look {'/'.join(leaking)}-augmented; augment inside the model instead "
                      f"where it offers that (`ganzoo info {plan.model.name}` lists its options)")
        logs = LogAverager(self.world)
        budget_note = ""
        started = time.monotonic()
        last_time, last_batches, last_hooks = time.perf_counter(), self.batches_drawn, self.excluded_seconds()
        compile_reported = False
        self.model.train()
        previous_handlers = self._install_signal_handlers()
        try:
            with TrainingProgress(self.console, self.total_steps, start=self.step) as progress:
                while self.step < self.total_steps:
                    over_time = plan.time_limit is not None and time.monotonic() - started >= plan.time_limit
                    over_time, stopping = self.world.any_of(over_time, self.stop_signal is not None)
                    if stopping:  # every process stops after the same step
                        self.stop_signal = self.stop_signal or signal.SIGTERM
                        break
                    if over_time:
                        budget_note = f"time budget of {plan.time_limit:.0f}s reached at step {self.step}"
                        break
                    self.train_step(logs)
                    progress.advance(self.step)
                    if self.compiled and not compile_reported:
                        self._log(f"compiled {', '.join(self.compiled)} in {self.runner.compile_seconds:.1f}s "
                                  "(not counted in img/s)")
                        compile_reported = True

                    at_end = self.step == self.total_steps
                    if self.step % settings.log_every == 0 or at_end:
                        now = time.perf_counter()
                        drawn = self.batches_drawn - last_batches
                        busy = now - last_time - (self.excluded_seconds() - last_hooks)  # hooks, compiling
                        speed = drawn * settings.batch_size / max(busy, 1e-9)
                        last_time, last_batches, last_hooks = now, self.batches_drawn, self.excluded_seconds()
                        self.guard.check(self.model)
                        self.log_record(progress, speed, logs.pop_means())
                    if self.step % settings.sample_every == 0 or at_end:
                        self.save_samples()
                    # evaluate first, so a checkpoint of this step holds this step's best value
                    if settings.eval_every and (self.step % settings.eval_every == 0 or at_end):
                        self.evaluate(progress, time.monotonic() - started)
                    if self.step % settings.checkpoint_every == 0 or at_end:
                        self.save_checkpoint(time.monotonic() - started)
        except Diverged as exc:
            self._stop_diverged(exc)
        except KeyboardInterrupt:  # a second Ctrl-C: stop now; the last checkpoint is whole
            self.run_dir.write_status("interrupted", self.last_checkpoint_step or 0, self.total_steps,
                                      "stopped at once by a second Ctrl-C")
            self.console.print(f"stopped at once; resume from the last checkpoint with: "
                               f"{shell_command('ganzoo', 'train', '--resume', self.run_dir.path)}",
                               highlight=False, markup=False, soft_wrap=True)
            raise
        finally:
            self._restore_signal_handlers(previous_handlers)
            self.feed.close()

        if self.last_checkpoint_step != self.step:
            try:
                self.save_checkpoint(time.monotonic() - started)
            except Diverged as exc:
                self._stop_diverged(exc)
        if self.stop_signal is not None:  # the status first: a shutdown grace period may end during the artifacts
            name = signal.Signals(self.stop_signal).name
            self.run_dir.write_status("interrupted", self.step, self.total_steps, f"stopped by {name}")
            self.write_artifacts()
            self._log(f"stopped by {name} at step {self.step}; checkpoint saved. "
                      f"Resume with: {shell_command('ganzoo', 'train', '--resume', self.run_dir.path)}")
            return "interrupted"
        self.run_dir.write_status("finished", self.step, self.total_steps, budget_note)
        self.write_artifacts()
        if self.world.is_writer:
            self._log(f"{budget_note + '; ' if budget_note else ''}finished at step {self.step}: "
                      f"checkpoint {self.run_dir.latest_checkpoint()}, samples in {self.run_dir.samples}")
        return "finished"

    def excluded_seconds(self) -> float:
        """Time that is not training, left out of img/s: lifecycle hooks, and compiling."""
        return self.lifecycle.seconds + self.runner.compile_seconds

    def train_step(self, logs: LogAverager) -> None:
        """One step: every phase due at this step, in declared order (see PhaseRunner)."""
        try:
            self.runner.step(self.step, self.next_batch, logs.add)
            # buffers (BatchNorm statistics, image pools, path-length means) follow rank 0's, as
            # DDP's broadcast_buffers does: every process then holds the state the checkpoint saves
            self.world.broadcast_state(self.model.buffers())
        except RuntimeError as exc:
            if self.settings.deterministic and "deterministic" in str(exc):
                raise GanzooError(f"--deterministic: {str(exc).splitlines()[0]} (model '{self.plan.model.name}' "
                                  f"cannot train deterministically on {self.device}; drop --deterministic)") from None
            raise
        for scheduler in self.schedulers.values():
            scheduler.step()
        self.step += 1
        self.ema.update(self.model, self.step)

    def next_batch(self) -> dict[str, torch.Tensor]:
        self.batches_drawn += 1
        batch = self.feed.next()
        return augment_batch(batch, self.augment) if self.augment else batch

    # -- records and artifacts ----------------------------------------------------------
    def log_record(self, progress: TrainingProgress, speed: float, means: dict[str, float]) -> None:
        rates = {f"lr_{name}": opt.param_groups[0]["lr"] for name, opt in self.optimizers.items()}
        line = progress.report(self.step, speed, means)
        self.run_dir.append_log(line)
        self.run_dir.append_metrics({"step": self.step, "epoch": self.feed.epoch,
                                     "images_per_second": round(speed, 1), **means, **rates})
        self.lifecycle.emit("on_log", step=self.step,
                            scalars={**means, **rates, "images_per_second": round(speed, 1)})

    def _fixed_examples(self, count: int = PREVIEW_EXAMPLES) -> dict[str, torch.Tensor]:
        """The first examples of the held-out split (val, else test, else the training data),
        shown by translation models' sample grids all through training."""
        spec, settings = self.plan.dataset.spec, self.settings
        held_out = next((s for s in ("val", "test") if s in spec.splits), None)
        data = self.data
        if held_out:
            try:
                data = open_dataset(spec, root=settings.data_root, resolution=settings.resolution, split=held_out,
                                    fit=settings.fit, options=settings.data_options)
            except GanzooError:  # a user folder without that split: show training examples
                data = self.data
        return data.batch(torch.arange(min(count, len(data))))

    def save_samples(self) -> Path | None:
        if not self.world.is_writer:  # the generator is the same on every process
            return None
        with eager_networks():  # compiled networks would compile again for eval mode
            return self._save_samples()

    def _save_samples(self) -> Path | None:
        path = self.run_dir.sample_path(self.step)
        if self.sheet is not None:
            with self.ema.swapped_in(self.model) as model:
                grid = grid_image(self.sheet.images(model, self.device), nrow=self.sheet.columns)
        elif self.fixed_batch is not None:  # rows of input | output | target (model-defined columns)
            with self.ema.swapped_in(self.model) as model, torch.no_grad():
                model.eval()
                try:
                    rows = model.preview(to_model_range(self.fixed_batch, self.device, self.feed.masks))
                finally:
                    model.train()
            grid = grid_image(to_uint8(rows.flatten(0, 1)), nrow=rows.shape[1])
        else:
            return None
        save_png(grid, path)
        self.lifecycle.emit("on_sample", step=self.step, path=path, grid=grid)
        return path

    def write_artifacts(self) -> None:
        if not self.world.is_writer:
            return
        samples = sorted(self.run_dir.samples.glob("step-*.png"))
        write_timelapse(samples, self.run_dir.path / "timelapse.gif")
        plot_losses(read_metrics(self.run_dir.metrics_path), self.run_dir.path / "losses.png")

    # -- evaluation ----------------------------------------------------------------------
    def _evaluator(self):
        plan, wanted = self.plan, self.settings
        settings = EvalSettings(metrics=(wanted.eval_metric,), n=wanted.eval_n, extractor=wanted.eval_extractor)
        return Evaluator(plan_to_dict(plan), settings, self.device, self.model, self.plugins,
                         world=self.world)

    def evaluate(self, progress: TrainingProgress, elapsed: float) -> None:
        """Score the EMA generator; a new best is saved as checkpoints/best.safetensors."""
        with self.ema.swapped_in(self.model) as model, eager_networks():
            results = self.evaluator(model)
        metric = self.settings.eval_metric
        value = primary_value(results, metric)
        lower = not self.evaluator.ranks_higher(metric)  # as the metric declares
        improved = self.best is None or (value < self.best if lower else value > self.best)
        if improved:
            self.best = value
        self.run_dir.append_metrics({"step": self.step, "eval": {k: round(v, 6) for k, v in results.items()},
                                     "extractor": self.settings.eval_extractor, "n": self.settings.eval_n,
                                     "best": improved})
        progress.extra = f"{metric} {value:.4g}" + (" (best)" if improved else f" (best {self.best:.4g})")
        self.run_dir.append_log(f"step {self.step}: {progress.extra}")
        self.lifecycle.emit("on_evaluate", step=self.step, results=dict(results))
        if improved:
            self.save_checkpoint(elapsed, self.run_dir.checkpoints / "best.safetensors")

    # -- checkpoints ---------------------------------------------------------------------
    def state_dict(self, elapsed: float) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "schedulers": {name: sch.state_dict() for name, sch in self.schedulers.items()},
            "data_order": self.feed.state_dict(),
            **self._rank_streams(),
            **({"grad_scaler": self.precision.state_dict()} if self.precision.state_dict() else {}),
            "step": self.step,
            "elapsed": self.elapsed_before + elapsed,
            **({"best_eval": self.best} if self.best is not None else {}),
        }

    def save_checkpoint(self, elapsed: float, path: Path | None = None) -> Path:
        """A step checkpoint (pruned to --keep), or the checkpoint at ``path`` (best.safetensors)."""
        self.guard.check(self.model)  # never write a checkpoint of a diverged model
        self._check_processes_agree()
        step_file = path is None
        path = path or self.run_dir.checkpoint_path(self.step)
        identity = self.identity()
        info = {"step": self.step, "epoch": self.feed.epoch, "model": self.plan.model.name,
                "config_hash": identity_hash(identity), "identity": identity,
                "dataset": self.dataset_fingerprint(), "run_id": self.run_id, "ganzoo": ganzoo_version}
        state = self.state_dict(elapsed)  # every process takes part: their random streams are gathered
        if self.world.is_writer:
            save_checkpoint(path, state, info)
        if step_file:
            self.last_checkpoint_step = self.step
            self.run_dir.prune_checkpoints(self.settings.keep)
            self.run_dir.write_status("running", self.step, self.total_steps)
        self.lifecycle.emit("on_checkpoint", step=self.step, path=path)
        return path

    def restore_newest_checkpoint(self) -> list[Path]:
        """Load the newest checkpoint that reads back whole (its digests match) and is this run's
        own; each damaged or foreign newer one is reported in one line and skipped (returned).
        A run stopped before its first checkpoint starts again from step 0."""
        files = self.run_dir.checkpoint_files()
        if not files:
            self.console.print(f"{self.run_dir.path} has no checkpoint yet: starting it from step 0", highlight=False)
            return []
        refused = []
        for step, path in reversed(files):
            try:
                state, info = load_checkpoint(path)
                self.check_identity(path, info)
                self.load_state_dict(state)
            except (CheckpointError, KeyError, ValueError, RuntimeError) as exc:
                self.console.print(f"warning: skipping checkpoint {path.name}: {exc}", highlight=False, soft_wrap=True)
                refused.append(path)
                continue
            self.last_checkpoint_step = self.step
            steps = self.world.gather_objects(self.step)
            if len(set(steps)) > 1:
                raise CheckpointError(f"the processes of this run resumed from different checkpoints (steps {steps}); "
                                      "does every machine see the same run folder?")
            self.world.broadcast_state(self.model.state_dict().values())
            return refused
        raise CheckpointError(f"run '{self.run_dir.path}' has no usable checkpoint to resume from: each of its "
                              f"{len(files)} was refused (see the warnings above)")

    def check_identity(self, path: Path, info: dict[str, Any]) -> None:
        """Refuse a checkpoint written by another run: another model, configuration or dataset.
        (Checkpoints from before identities were stored are checked by model only.)"""
        def foreign(reason: str) -> CheckpointError:
            return CheckpointError(f"checkpoint '{path}' belongs to another run ({reason})")

        model = self.plan.model.name
        if info.get("model", model) != model:
            raise foreign(f"it holds model '{info.get('model')}', this run trains '{model}'")
        theirs, ours = info.get("identity"), self.identity()
        if theirs is not None and info.get("config_hash") != identity_hash(ours):
            reason = differences(theirs, ours)
            if reason:  # (settings only one side knows, added or removed by an upgrade, are not compared)
                raise foreign(reason)
        examples = (info.get("dataset") or {}).get("examples")
        if examples is not None and examples != len(self.data):
            raise foreign(f"it trained on {examples} examples, this run on {len(self.data)}")
        if info.get("run_id", self.run_id) != self.run_id:
            raise foreign(f"it was written by run {info['run_id']}, this is run {self.run_id}")

    def check_dataset(self, recorded: dict[str, Any] | None) -> None:
        """A resumed run trains on the data it started with: a dataset that changed size under
        it is refused; other changes to its files (same size) are reported."""
        if not isinstance(recorded, dict):  # a run from before datasets were fingerprinted
            return
        now, name = self.dataset_fingerprint(), self.plan.dataset.name
        if recorded.get("examples") != now["examples"]:
            raise DataError(f"dataset '{name}' changed under this run: it holds {now['examples']} examples now, "
                            f"{recorded.get('examples')} when the run started; restore those files to resume it, "
                            "or start a new run")
        if recorded.get("source") and now["source"] and recorded["source"] != now["source"]:
            self.console.print(f"warning: the files of dataset '{name}' changed since this run started (the same "
                               "number of examples); resuming on them", highlight=False, soft_wrap=True)

    def check_budget(self, overrides: dict[str, Any]) -> None:
        """A resumed run must have steps left: a budget at or below its step is a usage error."""
        given = overrides.get("steps") is not None or overrides.get("epochs") is not None
        if self.step < self.total_steps or (self.step == self.total_steps and not given):
            return
        if overrides.get("steps") is not None:
            budget = f"--steps {overrides['steps']}"
        elif overrides.get("epochs") is not None:
            budget = f"--epochs {overrides['epochs']} ({self.total_steps} steps)"
        else:
            budget = f"its budget of {self.total_steps} steps"
        raise UsageError(f"the run is at step {self.step}; {budget} is not beyond it: give a larger --steps "
                         "to continue it")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        if state["ema"]:
            self.ema.load_state_dict(state["ema"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
        self.feed.load_state_dict(state["data_order"])
        self.precision.load_state_dict(state.get("grad_scaler", {}))
        self._restore_rank_stream(state)
        self.step = int(state["step"])
        self.elapsed_before = float(state["elapsed"])
        self.best = float(state["best_eval"]) if "best_eval" in state else None

    # -- signals -------------------------------------------------------------------------
    def _install_signal_handlers(self) -> dict[int, Any]:
        """SIGINT/SIGTERM finish the current step, checkpoint and exit cleanly; a second
        Ctrl-C stops at once (checkpoints are atomic, so nothing is corrupted)."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def request_stop(signum, frame):
            if self.stop_signal is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self.stop_signal = signum
            self.console.print(f"\n{signal.Signals(signum).name}: stopping after this step "
                               "(Ctrl-C again to stop at once)", highlight=False)

        return {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    # -- pieces --------------------------------------------------------------------------
    def _stop_diverged(self, exc: Diverged) -> typing.NoReturn:
        files = self.run_dir.checkpoint_files()
        kept = f"the last good checkpoint is {files[-1][1]}" if files else "no checkpoint was written"
        self.run_dir.write_status("diverged", self.step, self.total_steps, str(exc))
        self.write_artifacts()
        self._log(f"{exc}; {kept}")
        raise Diverged(f"{exc}; {kept}") from None

    def _banner(self) -> str:
        plan, settings = self.plan, self.settings
        verb = f"resuming {self.run_dir.path} from step {self.step}" if self.step else f"run {self.run_dir.path}"
        processes = (f", {self.world.size} processes ({settings.batch_size // self.world.size} images each)"
                     if self.world.active else "")
        speed = [self.precision.name] + (["compiled"] if self.compiled else []) + \
            (["deterministic"] if settings.deterministic else []) + \
            (["data on device"] if self.feed.mode == "device" else [])
        return (f"{verb} on {self.device} ({', '.join(speed)}){processes}: {plan.model.name} on {plan.dataset.name} ({len(self.data)} images at "
                f"{settings.resolution}px), {self.total_steps} steps of {settings.batch_size}")

    def identity(self) -> dict[str, Any]:
        """What defines this run: its model, dataset and every setting --resume may not change
        (not budgets, cadence or device), as JSON values."""
        return run_identity(self.plan)

    def dataset_fingerprint(self) -> dict[str, Any]:
        """The training data's size, and its prepared cache's source fingerprint where it has one."""
        manifest = self.data.manifest if isinstance(self.data, ReadsPreparedCache) else None
        return {"examples": len(self.data), "source": manifest.get("fingerprint") if isinstance(manifest, dict) else None}

    def config(self) -> dict:
        """config.json: a new run's full description; a resumed run keeps it, updating the
        budgets it was given and recording the resume."""
        plan = self.plan
        if self.run_dir.config_path.is_file():  # resuming
            config = self.run_dir.read_config()
            config["training"] = plan.training_dict()
            config.setdefault("run_id", self.run_id)  # a run from before run ids gets one
            config.setdefault("resumes", []).append({"step": self.step, "command": sys.argv,
                                                     "world_size": self.world.size,
                                                     "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
            return config
        return {
            "run_id": self.run_id,
            **plan_to_dict(plan),
            "data": asdict(self.data.info),
            "inference": list(inference_kinds(self.model)),
            "device": str(self.device),
            "world_size": self.world.size,
            "versions": {"ganzoo": ganzoo_version, "torch": torch.__version__,
                         **{p.name: p.version for p in self.plugins.plugins.values() if p.status == "loaded"}},
            "providers": {"model": str(plan.model.provider), "dataset": str(plan.dataset.provider)},
            "dataset_fingerprint": self.dataset_fingerprint(),
            "command": sys.argv,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def _log(self, message: str) -> None:
        self.console.print(message, highlight=False, soft_wrap=True, markup=False)
        self.run_dir.append_log(message)

    # -- many processes --------------------------------------------------------------------
    def _rank_streams(self) -> dict[str, Any]:
        """The random streams for a checkpoint: rank 0's as ``rng`` (as in a one-process run),
        every other rank's under ``rank_rng``, so a resume with as many processes restores each."""
        streams = self.world.gather_objects(capture_rng())
        state: dict[str, Any] = {"rng": streams[0]}
        if len(streams) > 1:
            state["rank_rng"] = {str(rank): stream for rank, stream in enumerate(streams) if rank}
        return state

    def _restore_rank_stream(self, state: dict[str, Any]) -> None:
        rank = self.world.rank
        if rank == 0:
            restore_rng(state["rng"])
        elif str(rank) in state.get("rank_rng", {}):
            restore_rng(state["rank_rng"][str(rank)])
        else:  # resumed with more processes than it was saved with: a new stream, from (seed, rank, step)
            seed_everything(rank_seed(self.settings.seed + int(state["step"]), rank))

    def _check_processes_agree(self) -> None:
        """Every process must hold the same weights: a silent divergence (a process that skipped
        a gradient average, a non-deterministic reduction) stops the run here, at a checkpoint."""
        if self.world.size == 1:
            return
        digest = weights_digest(self.model)
        digests = self.world.gather_objects(digest)
        differing = [rank for rank, theirs in enumerate(digests) if theirs != digests[0]]
        if differing:
            raise GanzooError(f"at step {self.step} the weights of process(es) {differing} differ from process 0's; "
                              "the run stops rather than continue inconsistent")
        self._log(f"step {self.step}: all {self.world.size} processes hold the same weights ({digest[:12]})")


def weights_digest(model: torch.nn.Module) -> str:
    """A sha256 of every parameter's and buffer's bytes."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def run_identity(plan: TrainPlan) -> dict[str, Any]:
    """What defines a run (every setting --resume may not change), as JSON values."""
    described = plan_to_dict(plan)
    described["training"] = {k: v for k, v in described["training"].items() if k not in RESUMABLE}
    return json.loads(json.dumps(described, sort_keys=True, default=str))


def identity_hash(identity: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def differences(theirs: Any, ours: Any, path: str = "") -> str:
    """The first few settings that differ between two identities, as 'KEY is A there, B here';
    keys only one side has are not compared."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        found = [differences(theirs[k], ours[k], f"{path}.{k}" if path else k)
                 for k in sorted(set(theirs) & set(ours))]
        return "; ".join([d for d in found if d][:3])
    return "" if theirs == ours else f"{path} is {theirs!r} there, {ours!r} in this run"
