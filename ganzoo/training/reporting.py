"""The console report of a run: what the terminal shows and log.txt keeps. A listener of the run's
lifecycle hooks (registered on rank 0 alone), as pytest's terminal reporter is a plugin on its hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console

from ganzoo.augment import LEAKING
from ganzoo.hookspecs import hookimpl
from ganzoo.protocols import SamplesFromNoise
from ganzoo.training.progress import TrainingProgress
from ganzoo.training.run_dir import RunDir

if TYPE_CHECKING:
    from ganzoo.training.evaluation import Evaluation
    from ganzoo.training.loop import Trainer


class ConsoleReport:
    """The banner, the progress (a live bar on a terminal, else one line per log line), each
    evaluation, and the run's notes (warnings, how it ended); log.txt gets every line."""

    def __init__(
        self,
        console: Console,
        run_dir: RunDir,
        total_steps: int,
        banner: Callable[[], str],
        rates: set[str],
        ranking: Evaluation | None = None,
    ):
        self.console, self.run_dir, self.total_steps = console, run_dir, total_steps
        self.banner = banner
        self.rates = rates  # the learning rates among the logged scalars: in the records, not on the line
        self.ranking = ranking
        self.progress: TrainingProgress | None = None

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False, soft_wrap=True, markup=False)
        self.run_dir.append_log(message)

    @contextmanager
    def showing_progress(self, step: int) -> Iterator[None]:
        """The progress of the steps from ``step`` on, shown while the block trains."""
        with TrainingProgress(self.console, self.total_steps, start=step) as self.progress:
            yield

    def advance(self, step: int) -> None:
        if self.progress is not None:
            self.progress.advance(step)

    @hookimpl(tryfirst=True)
    def on_train_start(self) -> None:
        self.note(self.banner())

    @hookimpl
    def on_log(self, step: int, scalars: dict[str, float]) -> None:
        means = {key: value for key, value in scalars.items() if key not in self.rates and key != "images_per_second"}
        if self.progress is not None:
            self.run_dir.append_log(self.progress.report(step, scalars["images_per_second"], means))

    @hookimpl
    def on_evaluate(self, step: int) -> None:
        if self.ranking is not None and self.progress is not None:
            self.progress.extra = self.ranking.summary()  # shown beside the losses from now on
            self.run_dir.append_log(f"step {step}: {self.progress.extra}")


def banner(trainer: Trainer) -> str:
    """The first line of a run: what trains, where, how fast and how long."""
    plan, settings, world = trainer.plan, trainer.settings, trainer.world
    verb = f"resuming {plan.run_dir} from step {trainer.step}" if trainer.step else f"run {plan.run_dir}"
    processes = f", {world.size} processes ({settings.batch_size // world.size} images each)" if world.active else ""
    speed: list[Any] = [trainer.precision.name]
    speed += (["compiled"] if trainer.compiled else []) + (["deterministic"] if settings.deterministic else [])
    speed += ["data on device"] if trainer.feed.mode == "device" else []
    return (
        f"{verb} on {trainer.device} ({', '.join(speed)}){processes}: {plan.model.name} on {plan.dataset.name} "
        f"({len(trainer.data)} images at {settings.resolution}px), {trainer.total_steps} steps of "
        f"{settings.batch_size}"
    )


def leaking_augments(augment: tuple[str, ...], model: object, model_name: str) -> str:
    """A warning when --augment changes only the real images of a model that samples (it then learns the
    augmentation), else ""."""
    leaking = [name for name in augment if name in LEAKING]
    if not leaking or not isinstance(model, SamplesFromNoise):
        return ""
    return (
        f"warning: --augment {','.join(leaking)} changes only the real images, so the samples will learn to "
        f"look {'/'.join(leaking)}-augmented; augment inside the model instead where it offers that "
        f"(`ganzoo info {model_name}` lists its options)"
    )
