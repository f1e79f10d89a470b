"""``ganzoo bench train MODEL``: the whole training loop (data, EMA, divergence guard, logging)
against the model step alone, at the same settings.

The loop is a real ``ganzoo train`` run in a temporary folder on the model's default dataset
(samples and checkpoints only at its end); its speed is the median of the img/s it logs,
leaving out the first interval (warm-up). The step alone is ``ganzoo bench MODEL`` on a random
batch of the same shape."""

from __future__ import annotations

import json
import statistics
import tempfile
from dataclasses import asdict, dataclass

from rich.console import Console

from ganzoo.bench import model as model_bench
from ganzoo.plugins import load_plugins
from ganzoo.training.artifacts import read_metrics
from ganzoo.training.devices import resolve_device
from ganzoo.training.loop import Trainer
from ganzoo.training.plan import plan_training
from ganzoo.training.settings import TrainSettings


@dataclass
class LoopBenchmark:
    model: str
    dataset: str
    resolution: int
    batch_size: int
    device: str
    precision: str
    compiled: bool
    data_path: str  # how batches reached the device: device, prefetch or direct
    loop_images_per_second: float
    step_images_per_second: float
    loop_share: float  # loop / step alone


def run(
    name: str,
    dataset: str | None,
    resolution: int,
    batch_size: int,
    steps: int,
    device: str,
    precision: str = "auto",
    compiled: bool = False,
    data_on_device: str = "auto",
) -> LoopBenchmark:
    log_every = max(1, steps // 6)
    with tempfile.TemporaryDirectory(prefix="ganzoo-bench-") as scratch:
        settings = TrainSettings(
            model=name,
            # None is the model's default, which the plan fills in (TrainSettings annotates resolved types)
            dataset=dataset,  # type: ignore[arg-type]
            resolution=resolution,
            batch_size=batch_size,
            steps=steps,
            device=device,
            out=scratch,
            name="loop",
            sample_every=steps,
            checkpoint_every=steps,
            log_every=log_every,
            precision=precision,
            compile=compiled,
            data_on_device=data_on_device,
        )
        plugins = load_plugins()
        trainer = Trainer(plan_training(settings, plugins), resolve_device(device), Console(quiet=True), plugins)
        with trainer.run_dir.create_locked():
            trainer.run()
        config = json.loads(trainer.run_dir.config_path.read_text())
        speeds = [
            row["images_per_second"] for row in read_metrics(trainer.run_dir.metrics_path) if "images_per_second" in row
        ]
    loop = statistics.median(speeds[1:] or speeds)
    step = model_bench.run(
        name,
        resolution,
        batch_size,
        max(3, min(steps, 20)),
        resolve_device(device),
        precision=precision,
        compiled=compiled,
        channels=config["data"]["channels"],
    )
    step_speed = batch_size / step.seconds_per_iteration
    return LoopBenchmark(
        name,
        config["dataset"],
        resolution,
        batch_size,
        step.device,
        step.precision,
        compiled,
        trainer.feed.mode,
        round(loop, 1),
        round(step_speed, 1),
        round(loop / step_speed, 3),
    )


def as_dict(result: LoopBenchmark) -> dict:
    return asdict(result)
