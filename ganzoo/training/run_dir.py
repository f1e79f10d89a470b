"""A run is a folder: config.json, checkpoints/, samples/, metrics.jsonl, log.txt.

One process writes a run at a time: it holds an exclusive lock (``flock``) on the run's
``.lock`` file, which the kernel releases when the process ends however it ends, so a killed
run never leaves a stale lock behind. The pid written into the file only names the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from ganzoo.errors import CheckpointError, GanzooError, UsageError

_STEP_FILE = re.compile(r"step-(\d{8,})\.safetensors")
LOCK_FILE = ".lock"
#: What a killed writer can leave: temporary checkpoints and JSON files (see save_checkpoint
#: and _write_json_atomically). Only these names are ever removed as leftovers.
_CHECKPOINT_WORKSPACE = re.compile(r"\.writing-\d+")  # save_checkpoint's private folders
_RUN_TEMPS = (".config.json.tmp", ".status.json.tmp", "metrics.jsonl.tmp")
#: What creating a run makes before its config.json: a folder holding only these (left by a
#: process killed while creating it, the folders still empty) still counts as empty.
_SKELETON_FILES, _SKELETON_FOLDERS = (LOCK_FILE, ".config.json.tmp"), ("checkpoints", "samples")
LOCK_PATIENCE = 0.5  # seconds a writer waits on a lock held only for a moment (by `ganzoo runs`)


class RunLock:
    """The exclusive write lock of one run, held until :meth:`release` or the process ends."""

    def __init__(self, run: Path):
        self.path, self.owned = run / LOCK_FILE, False
        try:
            self.fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise GanzooError(f"cannot lock the run folder '{run}' for writing: {exc.strerror}") from None
        deadline = time.monotonic() + LOCK_PATIENCE
        while not _try_flock(self.fd, fcntl.LOCK_EX):
            if time.monotonic() >= deadline:
                self.release()
                holder = _read_pid(self.path)
                raise GanzooError(
                    f"run '{run}' is being written by {f'process {holder}' if holder else 'another process'}"
                    "; wait for it to end, or stop it, before writing to it"
                )
            time.sleep(0.05)
        self.owned = True
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self.fd is not None:
            if self.owned:
                os.ftruncate(self.fd, 0)  # at rest the file is empty: a run left alone stays byte-identical
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


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
        """state: running | finished | interrupted | diverged (with the pid of a running one,
        for information: whether it runs is judged by its lock)."""
        record = {
            "state": state,
            "step": step,
            "total_steps": total,
            "message": message,
            "pid": os.getpid() if state == "running" else None,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        _write_json_atomically(self.status_path, record)

    def read_status(self) -> dict[str, Any]:
        """The run's status, judged by its lock: a run whose lock is held is 'running' (with the
        holder's pid); one that says 'running' but whose lock is free was stopped without a
        word (killed) and reads as 'interrupted'."""
        try:
            status = json.loads(self.status_path.read_text())
        except (OSError, ValueError):
            status = {"state": "unknown", "step": 0}
        if not isinstance(status, dict):
            status = {"state": "unknown", "step": 0}
        holder = self.writer()
        if holder is not None:
            status.update(state="running", pid=holder or None)
        elif status.get("state") == "running":
            status.update(state="interrupted", pid=None)
        return status

    def writer(self) -> int | None:
        """The pid of the process writing this run (0 when it has not written its pid yet), or
        None when none does: judged by trying the lock, never by a pid alone."""
        try:
            fd = os.open(self.path / LOCK_FILE, os.O_RDONLY)
        except OSError:
            return None  # never locked (or not readable): nobody writes it
        try:
            if _try_flock(fd, fcntl.LOCK_SH):
                return None  # closing below releases the probe at once
            return _read_pid(self.path / LOCK_FILE) or 0
        finally:
            os.close(fd)

    def lock(self) -> RunLock:
        """Take this run's write lock; raises 'being written by process P' when another holds it."""
        return RunLock(self.path)

    def create_locked(self) -> RunLock:
        """Create the run's folder and take its lock as one step: of two processes creating the
        same run, one gets it and the other an error. Only a new or empty folder becomes a run."""
        self.check_fresh()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GanzooError(f"cannot create the run folder '{self.path}': {exc.strerror}") from None
        lock = self.lock()
        try:
            self.check_fresh()  # another process may have made it a run before we held the lock
            self.create()
        except BaseException:
            lock.release()
            raise
        return lock

    def check_fresh(self) -> None:
        """Refuse (exit 2, touching nothing) a path that holds a run, a file, or anything else
        than what an interrupted creation of a run leaves."""
        if not self.path.exists() and not self.path.is_symlink():
            return
        if not self.path.is_dir():
            raise UsageError(f"'{self.path}' exists and is not a folder: choose another --name")
        if self.config_path.exists():
            raise UsageError(
                f"run folder '{self.path}' already holds a run: choose another --name, "
                f"or continue it with --resume {self.path}"
            )
        try:
            foreign = sorted(p.name for p in self.path.iterdir() if not _is_skeleton(p))
        except OSError as exc:
            raise UsageError(f"cannot read the folder '{self.path}': {exc.strerror}") from None
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise UsageError(
                f"'{self.path}' is a folder that is not empty ({shown}) and holds no run: a run is "
                "created only in a new or empty folder; choose another --name or --out"
            )

    def remove_leftovers(self) -> list[Path]:
        """Delete what a killed writer of this run left (temporary checkpoint and JSON files).
        Call it only holding the run's lock: that proves their writer is gone."""
        workspaces = [p for p in self.checkpoints.glob(".writing-*") if _CHECKPOINT_WORKSPACE.fullmatch(p.name)]
        for folder in workspaces:  # a half-written checkpoint and safetensors' own temporary file
            shutil.rmtree(folder, ignore_errors=True)
        removed = [self.path / name for name in _RUN_TEMPS if (self.path / name).is_file()]
        for path in removed:
            path.unlink(missing_ok=True)
        return workspaces + removed

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
            config = json.loads(self.config_path.read_text())
        except ValueError as exc:
            raise CheckpointError(f"'{self.config_path}' is not valid JSON ({exc})") from None
        if not isinstance(config, dict):
            raise CheckpointError(f"'{self.config_path}' is not a run configuration (it holds no JSON object)")
        return config

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
        """Delete all but the newest ``keep`` step checkpoints."""
        for _, path in self.checkpoint_files()[:-keep]:
            path.unlink(missing_ok=True)

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


def _try_flock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _is_skeleton(path: Path) -> bool:
    """Part of what creating a run makes before its config.json (subfolders still empty)."""
    if path.is_symlink():
        return False
    if path.name in _SKELETON_FILES:
        return path.is_file()
    return path.name in _SKELETON_FOLDERS and path.is_dir() and not any(path.iterdir())


#: What config.json must hold for a folder to be a readable run: key -> type.
CONFIG_SHAPE = {"model": str, "dataset": str, "options": dict, "training": dict}


def config_problem(run_dir: RunDir) -> tuple[dict, str | None]:
    """(config, None) for a readable run; ({}, why not) for a damaged one."""
    try:
        config = json.loads(run_dir.config_path.read_text())
    except OSError as exc:
        return {}, f"config.json cannot be read: {exc.strerror}"
    except ValueError:
        return {}, "config.json is not valid JSON"
    if not isinstance(config, dict):
        return {}, f"config.json holds a {type(config).__name__}, not a run configuration"
    for key, kind in CONFIG_SHAPE.items():
        if not isinstance(config.get(key), kind):
            return {}, f"config.json lacks a valid '{key}'"
    return config, None
