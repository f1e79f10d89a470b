"""What a report shows of one run folder, read without trusting it: every file may be missing,
torn or edited by hand. What cannot be read becomes a line in ``problems``; the rest is shown."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.training.run_dir import RunDir, config_problem

_SAMPLE_FILE = re.compile(r"step-(\d+)\.png")
#: Keys of a training record that are its position, not a measurement.
POSITION_KEYS = {"step", "epoch"}


@dataclass
class Evaluation:
    step: int
    scores: dict[str, float]
    source: str  # "training" (--eval-every) or "ganzoo eval"
    best: bool = False  # the one checkpoints/best.safetensors holds
    higher_is_better: dict[str, bool] = field(default_factory=dict)


@dataclass
class RunView:
    """One run folder as the report shows it."""

    path: Path
    config: dict[str, Any]
    status: dict[str, Any]
    scalars: dict[str, list[tuple[int, float]]]  # every logged number over the steps
    evaluations: list[Evaluation]
    samples: list[tuple[int, Path]]  # the sample grids (the run's fixed noise), oldest first
    timelapse: Path | None
    checkpoints: list[tuple[str, int, int]]  # (file name, step, bytes); best.safetensors has its step or -1
    problems: list[str]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        return str(self.status.get("state", "unknown"))

    @property
    def step(self) -> int:
        steps = [self.status.get("step") or 0] + [step for _, step, _ in self.checkpoints]
        return max(s for s in steps if isinstance(s, int))

    def last_scores(self) -> Evaluation | None:
        return self.evaluations[-1] if self.evaluations else None


def read_run(path: Path) -> RunView:
    run = RunDir(path)
    problems: list[str] = []
    config, problem = config_problem(run)
    if problem:
        problems.append(f"{problem}: the settings are not shown")
    status = run.read_status()
    if status.get("state") == "unknown":
        problems.append("status.json is missing or unreadable: the state is unknown")
    elif status.get("state") == "interrupted":
        problems.append(f"the run was interrupted at step {status.get('step', '?')}: resume it to go on")
    elif status.get("state") == "diverged":
        problems.append(f"the run diverged: {status.get('message') or 'see log.txt'}")
    scalars, evaluations = _read_metrics(run.metrics_path, problems)
    samples = sorted(
        (int(m.group(1)), p) for p in _listing(run.samples) if (m := _SAMPLE_FILE.fullmatch(p.name)) and p.is_file()
    )
    if not samples:
        problems.append("no sample grids yet (samples/ is empty or missing)")
    timelapse = path / "timelapse.gif"
    checkpoints = [(p.name, step, p.stat().st_size) for step, p in run.checkpoint_files()]
    best = run.checkpoints / "best.safetensors"
    if best.is_file():
        best_step = max((e.step for e in evaluations if e.best), default=-1)
        checkpoints.append((best.name, best_step, best.stat().st_size))
    return RunView(
        path=path,
        config=config,
        status=status,
        scalars=scalars,
        evaluations=evaluations,
        samples=samples,
        timelapse=timelapse if timelapse.is_file() else None,
        checkpoints=checkpoints,
        problems=problems,
    )


def _listing(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _read_metrics(path: Path, problems: list[str]) -> tuple[dict[str, list[tuple[int, float]]], list[Evaluation]]:
    """The scalars and evaluations of metrics.jsonl; unreadable lines are counted, not fatal."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        problems.append("metrics.jsonl is missing: no curves and no evaluations")
        return {}, []
    except OSError as exc:
        problems.append(f"metrics.jsonl cannot be read ({exc.strerror}): no curves and no evaluations")
        return {}, []
    scalars: dict[str, list[tuple[int, float]]] = {}
    evaluations: list[Evaluation] = []
    unreadable = 0
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            unreadable += 1
            continue
        if not isinstance(record, dict) or not _is_step(record.get("step")):
            unreadable += 1
            continue
        if isinstance(record.get("eval"), dict):
            evaluations.append(_evaluation(record))
            continue
        for key, value in record.items():
            if key not in POSITION_KEYS and _is_number(value):
                scalars.setdefault(key, []).append((record["step"], float(value)))
    if unreadable:
        problems.append(f"metrics.jsonl: {unreadable} line(s) could not be read and are left out")
    kept = max((i for i, e in enumerate(evaluations) if e.best), default=None)
    for i, evaluation in enumerate(evaluations):  # each was a new best when made; the file holds the last
        evaluation.best = i == kept
    return scalars, evaluations


def _evaluation(record: dict) -> Evaluation:
    scores = {k: float(v) for k, v in record["eval"].items() if _is_number(v)}
    better = record.get("higher_is_better")
    return Evaluation(
        step=record["step"],
        scores=scores,
        source="ganzoo eval" if "checkpoint" in record else "training",
        best=record.get("best") is True,
        higher_is_better={k: v for k, v in better.items() if isinstance(v, bool)} if isinstance(better, dict) else {},
    )


def _is_step(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
