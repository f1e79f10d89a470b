"""The one training loop. Read top to bottom to know how every ganzoo model trains.

The model (a recipe, see ganzoo.protocols.GANModel) answers "the loss of this phase on this
batch"; the Trainer owns the step loop: device, seeding, data order, gradient steps, schedules,
EMA, budgets, divergence and signals. What happens around the steps is done by components that
the loop calls at their cadence (sample grids, evaluation, checkpoints) and by listeners of the
lifecycle hooks (the console report, the run's records, the files of samples and checkpoints),
registered for the run on rank 0 alone: the one place that decides who writes the run folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import torch
from rich.console import Console

from ganzoo.augment import augment_batch, parse_train_augments
from ganzoo.errors import GanzooError, UsageError
from ganzoo.execution import compile_networks
from ganzoo.outputs import shell_command
from ganzoo.plugins import PluginSystem, load_plugins
from ganzoo.training.build import budget_steps, build_model, open_training_data, phase_runner
from ganzoo.training.checkpointing import Checkpoints
from ganzoo.training.devices import (
    configure_backends,
    fix_cublas_workspace,
    resolve_device,
    restore_backends,
    seed_everything,
)
from ganzoo.training.distributed import World, join, rank_seed
from ganzoo.training.ema import GeneratorEMA
from ganzoo.training.evaluation import Evaluation
from ganzoo.training.guard import Diverged, DivergenceGuard
from ganzoo.training.lifecycle import Lifecycle
from ganzoo.training.logs import LogAverager, Throughput
from ganzoo.training.phases import batches_per_step, check_critic_steps, checked_phases
from ganzoo.training.plan import TrainPlan, plan_training
from ganzoo.training.precision import Precision, resolve_precision
from ganzoo.training.records import RunRecords, run_config
from ganzoo.training.reporting import ConsoleReport, banner, leaking_augments
from ganzoo.training.resume_checks import check_budget, check_dataset, dataset_fingerprint, differences, run_identity
from ganzoo.training.run_dir import RunDir
from ganzoo.training.sample_grids import SampleGrids
from ganzoo.training.schedules import LearningRateSchedule, ema_schedule
from ganzoo.training.settings import RECORDED, TrainSettings, settings_for_resume
from ganzoo.training.signals import StopRequests

#: Makes the ``run`` lifecycle hooks receive from a run folder's path (``ganzoo.Run``).
RunView = Callable[[Path], Any]


def train(
    settings: TrainSettings,
    console: Console | None = None,
    plugins: PluginSystem | None = None,
    *,
    run_view: RunView,
    resume_if_exists: bool = False,
    overrides: dict[str, Any] | None = None,
) -> Path:
    """Start a run from settings; returns the run folder. Under torchrun every process of the
    launch calls this, and together they train one run (rank 0 alone writes it). With
    ``resume_if_exists`` (``--resume auto``) a run already in OUT/NAME is resumed instead, with
    ``overrides`` (its resumable settings), after checking it is the run these settings describe.
    ``run_view`` makes the ``run`` that lifecycle hooks and loggers receive from the run folder:
    ``ganzoo.Run``, passed in by the Python API and the CLI, the layers above this one."""
    plugins = plugins or load_plugins()
    world, device = join(settings.device)
    try:
        console = _console(console, world)
        if world.active:
            settings = dataclasses.replace(settings, device=device)
        if resume_if_exists:
            run_dir = RunDir(Path(settings.out) / settings.name)
            if world.share(run_dir.config_path.is_file()):  # rank 0 decides: the others may see it appear
                overrides = {**(overrides or {}), **({"device": device} if world.active else {})}
                return _resume(run_dir, run_dir.read_config(), overrides, console, plugins, world, run_view, settings)
            console.print(f"{run_dir.path} holds no run yet: starting it", highlight=False)
        plan = world.together(
            lambda: plan_training(settings, plugins, world_size=world.size, check_fresh=world.is_writer)
        )
        shared = Path(world.share(str(plan.run_dir)))  # a default name holds rank 0's clock time
        plan = dataclasses.replace(plan, run_dir=shared, settings=dataclasses.replace(plan.settings, name=shared.name))
        trainer = Trainer(plan, resolve_device(plan.settings.device), console, plugins, world=world)
        # one run, one writer: rank 0 creates the folder holding its lock (a second process gets an error)
        with trainer.run_dir.create_locked() if world.is_writer else contextlib.nullcontext():
            return trainer.run(run_view)
    finally:
        world.close()


def resume(
    run: Path,
    overrides: dict[str, Any],
    console: Console | None = None,
    plugins: PluginSystem | None = None,
    *,
    run_view: RunView,
) -> Path:
    """Continue a run from its newest usable checkpoint of its own, exactly where it stopped.
    Nothing in the run folder changes before the run's lock is held and every check passed.
    ``run_view``: as for :func:`train`."""
    plugins = plugins or load_plugins()
    run = Path(run)
    run_dir = RunDir(run.resolve() if run.name in ("", ".", "..") else run)  # `--resume .`: its real name
    config = run_dir.read_config()
    training = config.get("training")
    recorded = training if isinstance(training, dict) else {}
    world, device = join(overrides.get("device") or recorded.get("device") or "auto")
    try:
        if world.active:
            overrides = {**overrides, "device": device}
        return _resume(run_dir, config, overrides, _console(console, world), plugins, world, run_view)
    finally:
        world.close()


def _console(console: Console | None, world: World) -> Console:
    """Where the run reports: the console given (rank 0), or nowhere (the other processes)."""
    return (console or Console(stderr=True)) if world.is_writer else Console(stderr=True, quiet=True)


def _resume(
    run_dir: RunDir,
    config: dict[str, Any],
    overrides: dict[str, Any],
    console: Console,
    plugins: PluginSystem,
    world: World,
    run_view: RunView,
    expected: TrainSettings | None = None,
) -> Path:
    settings = settings_for_resume(config, run_dir.path, overrides)

    def checked_plan() -> TrainPlan:
        plan = plan_training(settings, plugins, resuming=True, world_size=world.size)
        if expected is not None:  # --resume auto: the command must describe this run
            # a setting left to its default takes the run's recorded value (--ema-start follows --steps)
            recorded = {
                key: value
                for key, value in config["training"].items()
                if key in RECORDED and getattr(expected, key, None) is None
            }
            wanted = plan_training(
                dataclasses.replace(expected, **recorded), plugins, resuming=True, world_size=world.size
            )
            reason = differences(run_identity(plan), run_identity(wanted))
            if reason:
                raise UsageError(
                    f"--resume auto: {run_dir.path} holds another run ({reason}); give the flags and "
                    "--set values it was started with, or another --name"
                )
        return plan

    plan = world.together(checked_plan)
    with world.together(lambda: run_dir.lock() if world.is_writer else contextlib.nullcontext()):
        trainer = Trainer(
            plan, resolve_device(plan.settings.device), console, plugins, run_id=config.get("run_id"), world=world
        )
        check_dataset(config.get("dataset_fingerprint"), dataset_fingerprint(trainer.data), plan.dataset.name, console)
        trainer.checkpoints.restore_newest()
        if expected is not None and trainer.step >= trainer.total_steps:  # --resume auto of a finished run
            console.print(f"{run_dir.path} already finished at step {trainer.step}: nothing to do", highlight=False)
            return run_dir.path
        check_budget(trainer.step, trainer.total_steps, overrides)
        return trainer.run(run_view)


class Trainer:
    """The step loop and the state it advances; ``run()`` trains to the end of the budget."""

    def __init__(
        self,
        plan: TrainPlan,
        device: torch.device,
        console: Console,
        plugins: PluginSystem,
        run_id: str | None = None,
        world: World | None = None,
    ):
        self.plan, self.device, self.console, self.plugins = plan, device, console, plugins
        self.settings = settings = plan.settings  # resolved
        self.world = world = world or World()
        self.run_dir = RunDir(plan.run_dir)
        # names this run in its checkpoints, so that one copied in from another run is refused
        self.run_id = run_id or world.share(uuid.uuid4().hex[:16])

        # --- device switches, data, model, optimizers, phases, schedules, EMA ------------------
        if settings.deterministic:
            fix_cublas_workspace()
        self.precision = Precision(resolve_precision(settings.precision, device), device)
        seed_everything(rank_seed(settings.seed, world.rank))  # each process its own noise; rank 0 the seed's
        # convolutions run fastest on NHWC tensors on GPUs (tensor cores); on CPUs it depends on the
        # model (DCGAN +11-15%, Pix2Pix/CycleGAN -6-11%: docs/benchmarks.md), so they keep NCHW
        channels_last = device.type == "cuda"
        self.data, self.feed = open_training_data(plan, device, world, plugins, channels_last)
        self.augment = parse_train_augments(settings.augment)[0]  # the loader's (ADA is the runner's)
        self.model = build_model(plan, self.data, device, world, channels_last)
        self.optimizers = self.model.configure_optimizers()
        self.phases = checked_phases(self.model, self.optimizers, plan.model.name)
        check_critic_steps(self.phases, settings.d_steps, plan.model.name)
        self.total_steps = budget_steps(
            settings, self.feed.batches_per_epoch, batches_per_step(self.phases, settings.d_steps)
        )
        schedule = LearningRateSchedule(settings, self.total_steps, self.model)
        self.schedulers = {
            name: torch.optim.lr_scheduler.LambdaLR(opt, schedule.factor) for name, opt in self.optimizers.items()
        }
        self.ema = GeneratorEMA(
            self.model, self.model.inference_networks, ema_schedule(settings, self.model), settings.ema_start
        )
        self.guard = DivergenceGuard(tuple(p.name for p in self.phases), device, world)
        # compiled after the EMA copied the networks: the copies (used for samples) stay eager
        self.compiled = compile_networks(self.model, settings.compile_mode) if settings.compile else []
        self.runner = phase_runner(
            self.model, self.optimizers, self.phases, settings, self.guard, self.precision, bool(self.compiled), world
        )
        self.report, self.lifecycle, self.evaluation, self.samples, self.records = around_the_steps(self)
        self.checkpoints = Checkpoints(self)

        # --- counters -------------------------------------------------------------------------
        self.step = 0
        self.elapsed_before = 0.0  # training seconds of earlier invocations of this run
        self.batches_drawn = 0

    def run(self, run_view: RunView | None = None) -> Path:
        """Train to the end of the budget; returns the run folder. Plugins and loggers hear of the run
        only with a ``run_view`` (a Trainer used without one, as by benchmarks, has only its own listeners)."""
        if self.world.is_writer:  # rank 0 alone writes the run folder and reports: the run's listeners are its own
            self.records.open(run_config(self), self.step)
            self.lifecycle.start(
                run_view(self.run_dir.path) if run_view is not None else None,
                self.settings.loggers,
                self.step,
                listeners=[self.records, self.report, self.samples, self.checkpoints],
            )
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
        settings, time_limit = self.settings, self.plan.time_limit
        self.lifecycle.note(leaking_augments(self.augment, self.model, self.plan.model.name))
        logs, started, budget_note = LogAverager(self.world), time.monotonic(), ""
        speed = Throughput(settings.batch_size, self.excluded_seconds, self.batches_drawn)
        compile_reported = False
        self.model.train()
        stops = StopRequests(self.console)
        try:
            with stops, self.report.showing_progress(self.step):
                while self.step < self.total_steps:
                    over_time = time_limit is not None and time.monotonic() - started >= time_limit
                    over_time, stopping = self.world.any_of(over_time, stops.signal is not None)
                    if stopping:  # every process stops after the same step
                        stops.signal = stops.signal or signal.SIGTERM
                        break
                    if over_time:
                        budget_note = f"time budget of {time_limit:.0f}s reached at step {self.step}"
                        break
                    self.train_step(logs)
                    self.report.advance(self.step)
                    if self.compiled and not compile_reported:
                        compile_reported = True
                        seconds = self.runner.compile_seconds
                        self.lifecycle.note(
                            f"compiled {', '.join(self.compiled)} in {seconds:.1f}s (not counted in img/s)"
                        )
                    self._after_step(logs, speed, started)
        except Diverged as exc:
            self._stop_diverged(exc)
        except KeyboardInterrupt:  # a second Ctrl-C: stop now; the last checkpoint is whole
            self.records.ends(
                "interrupted", self.checkpoints.last_step or 0, "stopped at once by a second Ctrl-C", artifacts=False
            )
            self.console.print(
                f"stopped at once; resume from the last checkpoint with: "
                f"{shell_command('ganzoo', 'train', '--resume', self.run_dir.path)}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            raise
        finally:
            self.feed.close()
        if self.checkpoints.last_step != self.step:
            try:
                self.checkpoints.save(time.monotonic() - started)
            except Diverged as exc:
                self._stop_diverged(exc)
        if stops.signal is not None:  # (status.json says it as the run ends: records.ends)
            self.records.ends("interrupted", self.step, f"stopped by {stops.name}")
            self.lifecycle.note(
                f"stopped by {stops.name} at step {self.step}; checkpoint saved. "
                f"Resume with: {shell_command('ganzoo', 'train', '--resume', self.run_dir.path)}"
            )
            return "interrupted"
        self.records.ends("finished", self.step, budget_note)
        self.lifecycle.note(
            f"{budget_note + '; ' if budget_note else ''}finished at step {self.step}: "
            f"checkpoint {self.checkpoints.last_path}, samples in {self.run_dir.samples}"
        )
        return "finished"

    def _after_step(self, logs: LogAverager, speed: Throughput, started: float) -> None:
        """What is due after this step: a log line, a sample grid, an evaluation, a checkpoint."""
        settings, step = self.settings, self.step
        at_end = step == self.total_steps
        if step % settings.log_every == 0 or at_end:
            images_per_second = speed.images_per_second(self.batches_drawn)
            self.guard.check(self.model)
            rates = {f"lr_{name}": opt.param_groups[0]["lr"] for name, opt in self.optimizers.items()}
            scalars = {**logs.pop_means(), **rates, "images_per_second": round(images_per_second, 1)}
            self.lifecycle.emit("on_log", step=step, scalars=scalars)
        if step % settings.sample_every == 0 or at_end:
            self.samples.draw(step)
        # evaluate first, so a checkpoint of this step holds this step's best value
        if self.evaluation is not None and self.evaluation.due(step, at_end) and self.evaluation.run(step):
            self.checkpoints.save(time.monotonic() - started, self.run_dir.checkpoints / "best.safetensors")
        if step % settings.checkpoint_every == 0 or at_end:
            self.checkpoints.save(time.monotonic() - started)

    def train_step(self, logs: LogAverager) -> None:
        """One step: every phase due at this step, in declared order (see PhaseRunner)."""
        try:
            self.runner.step(self.step, self.next_batch, logs.add)
            # buffers (BatchNorm statistics, image pools, path-length means) follow rank 0's, as
            # DDP's broadcast_buffers does: every process then holds the state the checkpoint saves
            self.world.broadcast_state(self.model.buffers())
        except RuntimeError as exc:
            if self.settings.deterministic and "deterministic" in str(exc):
                raise GanzooError(
                    f"--deterministic: {str(exc).splitlines()[0]} (model '{self.plan.model.name}' "
                    f"cannot train deterministically on {self.device}; drop --deterministic)"
                ) from None
            raise
        for scheduler in self.schedulers.values():
            scheduler.step()
        self.step += 1
        self.ema.update(self.model, self.step)

    def next_batch(self) -> dict[str, torch.Tensor]:
        self.batches_drawn += 1
        batch = self.feed.next()
        return augment_batch(batch, self.augment) if self.augment else batch

    def excluded_seconds(self) -> float:
        """Time that is not training, left out of img/s: lifecycle hooks, and compiling."""
        return self.lifecycle.seconds + self.runner.compile_seconds

    def _stop_diverged(self, exc: Diverged) -> NoReturn:
        files = self.run_dir.checkpoint_files()
        kept = f"the last good checkpoint is {files[-1][1]}" if files else "no checkpoint was written"
        self.records.ends("diverged", self.step, str(exc))
        self.lifecycle.note(f"{exc}; {kept}")
        raise Diverged(f"{exc}; {kept}") from None


def around_the_steps(trainer: Trainer) -> tuple[ConsoleReport, Lifecycle, Evaluation | None, SampleGrids, RunRecords]:
    """The trainer's components: its console report, the lifecycle that tells the listeners and the
    plugins what happens, the evaluation (--eval-every), the sample grids and the run's records."""
    plan, world, run_dir = trainer.plan, trainer.world, trainer.run_dir
    rates = {f"lr_{name}" for name in trainer.optimizers}
    report = ConsoleReport(trainer.console, run_dir, trainer.total_steps, banner=lambda: banner(trainer), rates=rates)
    lifecycle = Lifecycle(trainer.plugins, report.note)  # plugins and --logger loggers hear of the run
    evaluation = None
    if plan.settings.eval_every:
        evaluation = Evaluation(plan, trainer.model, trainer.ema, trainer.device, trainer.plugins, world, lifecycle)
    report.ranking = evaluation
    samples = SampleGrids(
        plan, trainer.model, trainer.ema, trainer.data, trainer.device, trainer.feed.masks, world, run_dir, lifecycle
    )
    records = RunRecords(
        run_dir, plan.settings, trainer.total_steps, epoch=lambda: trainer.feed.epoch, ranking=evaluation
    )
    return report, lifecycle, evaluation, samples, records
