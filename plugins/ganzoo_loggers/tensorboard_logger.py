"""`--logger tensorboard`: TensorBoard event files in RUN/tensorboard/ (`tensorboard --logdir
runs` shows every run): losses, learning rates and speed as scalars, each sample grid as an
image, evaluations, and the run's configuration as hyperparameters and text."""

from __future__ import annotations

import json
from typing import Any

from ganzoo.plugin import hookimpl


class TensorBoardLogger:
    def __init__(self, run):
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        self.writer_cls = SummaryWriter
        self.writer = None

    @hookimpl
    def on_train_start(self, run, step):
        # purge_step: a resumed run hides the events written after its checkpoint (step + 1 on),
        # which it redoes; those of the checkpoint's own step stay, as the run does not redo them
        self.writer = self.writer_cls(log_dir=str(run.path / "tensorboard"), purge_step=step + 1 if step else None)
        if step == 0:
            self._write_config(run.config)

    @hookimpl
    def on_log(self, step, scalars):
        for key, value in scalars.items():
            self.writer.add_scalar(_tag(key), value, step)

    @hookimpl
    def on_sample(self, step, grid):
        self.writer.add_image("samples", grid, step, dataformats="CHW")

    @hookimpl
    def on_evaluate(self, step, results):
        for name, value in results.items():
            self.writer.add_scalar(f"eval/{name}", value, step)

    @hookimpl
    def on_train_end(self):
        self.writer.close()

    def _write_config(self, config: dict[str, Any]) -> None:
        from torch.utils.tensorboard.summary import hparams

        values = {
            "model": config["model"],
            "dataset": config["dataset"],
            **{f"options/{k}": v for k, v in config["options"].items()},
            **{f"training/{k}": v for k, v in config["training"].items()},
        }
        for summary in hparams({key: _hparam(value) for key, value in values.items()}, {}):
            self.writer.file_writer.add_summary(summary)
        text = json.dumps(config, indent=2, default=str)
        self.writer.add_text("config", "    " + text.replace("\n", "\n    "), 0)  # indented: shown as code


def _tag(key: str) -> str:
    """Group the scalars: loss/D, loss/G; lr/G; speed/images_per_second; train/D(x) for the rest."""
    for prefix, group in (("loss_", "loss"), ("lr_", "lr")):
        if key.startswith(prefix):
            return f"{group}/{key.removeprefix(prefix)}"
    return "speed/images_per_second" if key == "images_per_second" else f"train/{key}"


def _hparam(value: Any) -> bool | int | float | str:
    """TensorBoard's hyperparameters are numbers, booleans or strings."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)
