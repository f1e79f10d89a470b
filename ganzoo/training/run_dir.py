"""A run is a folder: config.json, checkpoints/, samples/, metrics.jsonl, log.txt."""

from __future__ import annotations

import json
import os
import re
import time
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

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    def write_status(self, state: str, step: int, total: int | None, message: str = "") -> None:
        """state: running | finished | interrupted | diverged (with the pid of a running one)."""
        record = {"state": state, "step": step, "total_steps": total, "message": message,
                  "pid": os.getpid() if state == "running" else None,
                  "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        _write_json_atomically(self.status_path, record)

    def read_status(self) -> dict[str, Any]:
        """The run's status; a 'running' run whose process is gone reads as 'interrupted'."""
        try:
            status = json.loads(self.status_path.read_text())
        except (OSError, ValueError):
            return {"state": "unknown", "step": 0}
        if status.get("state") == "running" and not _process_alive(status.get("pid")):
            status["state"] = "interrupted"
        return status

    def create(self) -> None:
        for folder in (self.path, self.checkpoints, self.samples):
            folder.mkdir(parents=True, exist_ok=True)

    def write_config(self, config: dict[str, Any]) -> None:
        _write_json_atomically(self.config_path, config)

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

    def prune_checkpoints(self, keep: int) -> None:
        """Delete all but the newest ``keep`` step checkpoints (and stray temporary files)."""
        for _, path in self.checkpoint_files()[:-keep]:
            path.unlink(missing_ok=True)
        for stray in self.checkpoints.glob(".*.tmp-*"):
            if not _process_alive(_pid_of_tmp(stray)):
                stray.unlink(missing_ok=True)

    def truncate_metrics(self, after_step: int) -> None:
        """Drop training records past ``after_step``: a resumed run logs those steps again."""
        if not self.metrics_path.is_file():
            return
        kept = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # the torn last line of a killed run
            if record.get("step", 0) <= after_step:
                kept.append(line)
        tmp = self.metrics_path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        os.replace(tmp, self.metrics_path)

    def append_metrics(self, record: dict[str, Any]) -> None:
        with open(self.metrics_path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def append_log(self, line: str) -> None:
        with open(self.log_path, "a") as handle:
            handle.write(line.rstrip("\n") + "\n")


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_of_tmp(path: Path) -> int | None:
    match = re.search(r"\.tmp-(\d+)$", path.name)
    return int(match.group(1)) if match else None
