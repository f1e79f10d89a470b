"""A run is a folder: config.json, checkpoints/, samples/, metrics.jsonl, log.txt."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ganzoo.errors import CheckpointError, UsageError

_STEP_FILE = re.compile(r"step-(\d{8,})\.safetensors")


class RunDir:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    def create(self) -> None:
        for folder in (self.path, self.checkpoints, self.samples):
            folder.mkdir(parents=True, exist_ok=True)

    def write_config(self, config: dict[str, Any]) -> None:
        tmp = self.config_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(config, indent=2, sort_keys=False) + "\n")
        os.replace(tmp, self.config_path)

    def read_config(self) -> dict[str, Any]:
        if not self.path.is_dir():
            raise UsageError(f"run folder '{self.path}' does not exist")
        if not self.config_path.is_file():
            raise UsageError(f"'{self.path}' is not a ganzoo run (no config.json)")
        try:
            return json.loads(self.config_path.read_text())
        except ValueError as exc:
            raise CheckpointError(f"'{self.config_path}' is not valid JSON ({exc})") from None

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoints / f"step-{step:08d}.safetensors"

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step-{step:08d}.png"

    def checkpoint_files(self) -> list[tuple[int, Path]]:
        """(step, path) of every step checkpoint, oldest first."""
        if not self.checkpoints.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.checkpoints.iterdir() if (m := _STEP_FILE.fullmatch(p.name))]
        return sorted(found)

    def latest_checkpoint(self) -> Path:
        files = self.checkpoint_files()
        if not files:
            raise CheckpointError(f"run '{self.path}' has no checkpoint yet")
        return files[-1][1]

    def append_metrics(self, record: dict[str, Any]) -> None:
        with open(self.metrics_path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def append_log(self, line: str) -> None:
        with open(self.log_path, "a") as handle:
            handle.write(line.rstrip("\n") + "\n")
