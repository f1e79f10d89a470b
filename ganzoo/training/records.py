"""The records of a run folder, written by rank 0: config.json, status.json, metrics.jsonl (a
record per log line and per evaluation), the step checkpoints kept (--keep), and at the end the
timelapse of the sample grids and the loss curves. A listener of the run's lifecycle hooks."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganzoo._version import __version__ as ganzoo_version
from ganzoo.hookspecs import hookimpl
from ganzoo.protocols import inference_kinds
from ganzoo.training.artifacts import plot_losses, read_metrics, write_timelapse
from ganzoo.training.plan import plan_to_dict
from ganzoo.training.resume_checks import dataset_fingerprint
from ganzoo.training.run_dir import RunDir
from ganzoo.training.settings import TrainSettings

if TYPE_CHECKING:
    from ganzoo.training.evaluation import Evaluation
    from ganzoo.training.loop import Trainer


@dataclass(frozen=True)
class Ending:
    """How the loop ended the run: what status.json says, and whether the artifacts are made."""

    state: str  # finished | interrupted | diverged
    step: int
    message: str = ""
    artifacts: bool = True


class RunRecords:
    def __init__(
        self,
        run_dir: RunDir,
        settings: TrainSettings,
        total_steps: int,
        epoch: Callable[[], int],
        ranking: Evaluation | None = None,
    ):
        self.run_dir, self.settings, self.total_steps = run_dir, settings, total_steps
        self.epoch = epoch  # the data order's current epoch
        self.ranking = ranking
        self.ending: Ending | None = None  # None: the run failed, and its status says where it was

    def open(self, config: dict[str, Any], step: int) -> None:
        """The folder, config.json and a "running" status. A resumed run (holding its lock) first
        drops what a killed writer left and the records past ``step``, which it trains again."""
        resumed = self.run_dir.config_path.is_file()
        self.run_dir.create()
        if resumed:
            self.run_dir.remove_leftovers()  # holding the lock proves their writer is gone
            self.run_dir.truncate_metrics(step)
        self.run_dir.write_config(config)
        self.run_dir.write_status("running", step, self.total_steps)

    def ends(self, state: str, step: int, message: str = "", artifacts: bool = True) -> None:
        """Say how the run ends; status.json and the artifacts are written as it ends (on_train_end)."""
        self.ending = Ending(state=state, step=step, message=message, artifacts=artifacts)

    @hookimpl
    def on_log(self, step: int, scalars: dict[str, float]) -> None:
        rest = {key: value for key, value in scalars.items() if key != "images_per_second"}
        self.run_dir.append_metrics(
            {"step": step, "epoch": self.epoch(), "images_per_second": scalars["images_per_second"], **rest}
        )

    @hookimpl
    def on_evaluate(self, step: int, results: dict[str, float]) -> None:
        directions = self.ranking.evaluator.higher_is_better if self.ranking is not None else {}
        self.run_dir.append_metrics(
            {
                "step": step,
                "eval": {k: round(v, 6) for k, v in results.items()},
                "higher_is_better": {k: directions[k] for k in results if k in directions},
                "extractor": self.settings.eval_extractor,
                "n": self.settings.eval_n,
                "best": self.ranking is not None and self.ranking.improved,
            }
        )

    @hookimpl
    def on_checkpoint(self, step: int, path: Path) -> None:
        if path == self.run_dir.checkpoint_path(step):  # a step checkpoint (not best.safetensors)
            self.run_dir.prune_checkpoints(self.settings.keep)
            self.run_dir.write_status("running", step, self.total_steps)

    @hookimpl(tryfirst=True)
    def on_train_end(self) -> None:
        """The status first: a shutdown's grace period may end while the artifacts are made."""
        if self.ending is None:
            return
        self.run_dir.write_status(self.ending.state, self.ending.step, self.total_steps, self.ending.message)
        if self.ending.artifacts:
            write_timelapse(sorted(self.run_dir.samples.glob("step-*.png")), self.run_dir.path / "timelapse.gif")
            plot_losses(read_metrics(self.run_dir.metrics_path), self.run_dir.path / "losses.png")


def run_config(trainer: Trainer) -> dict[str, Any]:
    """config.json: a new run's full description; a resumed run keeps it, updating the settings
    it was given and recording the resume."""
    plan, run_dir = trainer.plan, trainer.run_dir
    if run_dir.config_path.is_file():  # resuming
        config = run_dir.read_config()
        config["training"] = plan.training_dict()
        config.setdefault("run_id", trainer.run_id)  # a run from before run ids gets one
        config.setdefault("resumes", []).append(
            {
                "step": trainer.step,
                "command": sys.argv,
                "world_size": trainer.world.size,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        return config
    loaded = {p.name: p.version for p in trainer.plugins.plugins.values() if p.status == "loaded"}
    return {
        "run_id": trainer.run_id,
        **plan_to_dict(plan),
        "data": asdict(trainer.data.info),
        "inference": list(inference_kinds(trainer.model)),
        "device": str(trainer.device),
        "world_size": trainer.world.size,
        "versions": {"ganzoo": ganzoo_version, "torch": torch.__version__, **loaded},
        "providers": {"model": str(plan.model.provider), "dataset": str(plan.dataset.provider)},
        "dataset_fingerprint": dataset_fingerprint(trainer.data),
        "command": sys.argv,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
