"""Checkpoints of a run: a step checkpoint every --checkpoint-every steps (rank 0's records prune
them to --keep) and best.safetensors, each the state every process holds, gathered from all of
them; on resume, the newest one that reads back whole and is this run's own."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganzoo._version import __version__ as ganzoo_version
from ganzoo.errors import CheckpointError, GanzooError
from ganzoo.hookspecs import hookimpl
from ganzoo.training.checkpoint import load_checkpoint, save_checkpoint
from ganzoo.training.devices import seed_everything
from ganzoo.training.distributed import World, rank_seed
from ganzoo.training.resume_checks import check_identity, dataset_fingerprint, identity_hash, run_identity
from ganzoo.training.rng import capture_rng, restore_rng

if TYPE_CHECKING:
    from ganzoo.training.loop import Trainer


class Checkpoints:
    """Saving gathers the state on every process and announces the file (on_checkpoint); rank 0's
    Checkpoints, a listener of the run, writes it first of every implementation, so the others
    find it. ``refused``: the newer checkpoints a resume skipped, moved aside as the run restarts."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.world = trainer, trainer.world
        self.identity = run_identity(trainer.plan)  # what a checkpoint must match to be this run's
        self.last_step: int | None = None  # of the newest step checkpoint
        self.last_path: Path | None = None
        self.refused: list[Path] = []
        self._pending: dict[Path, tuple[dict[str, Any], dict[str, Any]]] = {}

    def save(self, elapsed: float, path: Path | None = None) -> Path:
        """A step checkpoint, or the checkpoint at ``path`` (best.safetensors); ``elapsed``: the
        training seconds of this invocation."""
        trainer = self.trainer
        trainer.guard.check(trainer.model)  # never a checkpoint of a diverged model
        self._check_processes_agree()
        step = trainer.step
        info = {
            "step": step,
            "epoch": trainer.feed.epoch,
            "model": trainer.plan.model.name,
            "config_hash": identity_hash(self.identity),
            "identity": self.identity,
            "dataset": dataset_fingerprint(trainer.data),
            "run_id": trainer.run_id,
            "ganzoo": ganzoo_version,
        }
        step_file = path is None
        path = path or trainer.run_dir.checkpoint_path(step)
        self._pending[path] = (self.state(elapsed), info)  # every process takes part: random streams are gathered
        try:
            trainer.lifecycle.emit("on_checkpoint", step=step, path=path)
        finally:
            self._pending.pop(path, None)
        if step_file:
            self.last_step, self.last_path = step, path
        return path

    @hookimpl(tryfirst=True)
    def on_checkpoint(self, path: Path) -> None:
        save_checkpoint(path, *self._pending.pop(path))

    @hookimpl(tryfirst=True)
    def on_train_start(self) -> None:
        for path in self.refused:  # out of the way, kept: later resumes and `generate` use the good ones
            os.replace(path, path.with_name(path.name + ".refused"))

    def state(self, elapsed: float) -> dict[str, Any]:
        trainer = self.trainer
        best = trainer.evaluation.best if trainer.evaluation is not None else None
        scaler = trainer.precision.state_dict()
        return {
            "model": trainer.model.state_dict(),
            "ema": trainer.ema.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in trainer.optimizers.items()},
            "schedulers": {name: sch.state_dict() for name, sch in trainer.schedulers.items()},
            "data_order": trainer.feed.state_dict(),
            **gathered_streams(self.world),
            **({"grad_scaler": scaler} if scaler else {}),
            **({"critic_feedback": feedback.state_dict()} if (feedback := trainer.runner.feedback) else {}),
            "step": trainer.step,
            "elapsed": trainer.elapsed_before + elapsed,
            **({"best_eval": best} if best is not None else {}),
        }

    def load(self, state: dict[str, Any]) -> None:
        trainer = self.trainer
        trainer.model.load_state_dict(state["model"])
        if state["ema"]:
            trainer.ema.load_state_dict(state["ema"])
        for name, opt in trainer.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, scheduler in trainer.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
        trainer.feed.load_state_dict(state["data_order"])
        trainer.precision.load_state_dict(state.get("grad_scaler", {}))
        if trainer.runner.feedback is not None:
            trainer.runner.feedback.load_state_dict(state.get("critic_feedback", {}))
        restore_stream(self.world, state, trainer.settings.seed)
        trainer.step = int(state["step"])
        trainer.elapsed_before = float(state["elapsed"])
        if trainer.evaluation is not None:
            trainer.evaluation.best = float(state["best_eval"]) if "best_eval" in state else None

    def restore_newest(self) -> None:
        """Load the newest checkpoint that reads back whole (its digests match) and is this run's own;
        each damaged or foreign newer one is reported in one line and skipped (see ``refused``). A run
        stopped before its first checkpoint starts again from step 0."""
        trainer = self.trainer
        files = trainer.run_dir.checkpoint_files()
        if not files:
            trainer.console.print(
                f"{trainer.run_dir.path} has no checkpoint yet: starting it from step 0", highlight=False
            )
            return
        for step, path in reversed(files):
            try:
                state, info = load_checkpoint(path)
                check_identity(path, info, self.identity, trainer.run_id, len(trainer.data))
                self.load(state)
            except (CheckpointError, KeyError, ValueError, RuntimeError) as exc:
                trainer.console.print(
                    f"warning: skipping checkpoint {path.name}: {exc}", highlight=False, soft_wrap=True
                )
                self.refused.append(path)
                continue
            self.last_step, self.last_path = step, path
            steps = self.world.gather_objects(trainer.step)
            if len(set(steps)) > 1:
                raise CheckpointError(
                    f"the processes of this run resumed from different checkpoints (steps {steps}); "
                    "does every machine see the same run folder?"
                )
            self.world.broadcast_state(trainer.model.state_dict().values())
            return
        raise CheckpointError(
            f"run '{trainer.run_dir.path}' has no usable checkpoint to resume from: each of its "
            f"{len(files)} was refused (see the warnings above)"
        )

    def _check_processes_agree(self) -> None:
        """Every process must hold the same weights: a silent divergence (a process that skipped a
        gradient average, a non-deterministic reduction) stops the run here, at a checkpoint."""
        if self.world.size == 1:
            return
        digest = weights_digest(self.trainer.model)
        digests = self.world.gather_objects(digest)
        differing = [rank for rank, theirs in enumerate(digests) if theirs != digests[0]]
        if differing:
            raise GanzooError(
                f"at step {self.trainer.step} the weights of process(es) {differing} differ from "
                "process 0's; the run stops rather than continue inconsistent"
            )
        self.trainer.lifecycle.note(
            f"step {self.trainer.step}: all {self.world.size} processes hold the same weights ({digest[:12]})"
        )


def gathered_streams(world: World) -> dict[str, Any]:
    """The random streams for a checkpoint: rank 0's as ``rng`` (as in a one-process run), every
    other rank's under ``rank_rng``, so a resume with as many processes restores each."""
    streams = world.gather_objects(capture_rng())
    state: dict[str, Any] = {"rng": streams[0]}
    if len(streams) > 1:
        state["rank_rng"] = {str(rank): stream for rank, stream in enumerate(streams) if rank}
    return state


def restore_stream(world: World, state: dict[str, Any], seed: int) -> None:
    rank = world.rank
    if rank == 0:
        restore_rng(state["rng"])
    elif str(rank) in state.get("rank_rng", {}):
        restore_rng(state["rank_rng"][str(rank)])
    else:  # resumed with more processes than it was saved with: a new stream, from (seed, rank, step)
        seed_everything(rank_seed(seed + int(state["step"]), rank))


def weights_digest(model: torch.nn.Module) -> str:
    """A sha256 of every parameter's and buffer's bytes."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
