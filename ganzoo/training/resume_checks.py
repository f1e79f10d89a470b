"""What a resumed run checks before it trains again: that a checkpoint is this run's own (its
model, the settings that define it, its data, its run id), that the dataset did not change
under it, and that the budget leaves steps to train."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from ganzoo.errors import CheckpointError, DataError, UsageError
from ganzoo.protocols import ReadsPreparedCache
from ganzoo.training.plan import TrainPlan, plan_to_dict
from ganzoo.training.settings import RESUMABLE


def run_identity(plan: TrainPlan) -> dict[str, Any]:
    """What defines a run: its model, dataset and every setting --resume may not change (not
    budgets, cadence or device), as JSON values."""
    described = plan_to_dict(plan)
    described["training"] = {k: v for k, v in described["training"].items() if k not in RESUMABLE}
    return json.loads(json.dumps(described, sort_keys=True, default=str))


def identity_hash(identity: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def differences(theirs: Any, ours: Any, path: str = "") -> str:
    """The first few settings that differ between two identities, as 'KEY is A there, B here';
    keys only one side has are not compared."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        found = [differences(theirs[k], ours[k], f"{path}.{k}" if path else k) for k in sorted(set(theirs) & set(ours))]
        return "; ".join([d for d in found if d][:3])
    return "" if theirs == ours else f"{path} is {theirs!r} there, {ours!r} in this run"


def dataset_fingerprint(data: Any) -> dict[str, Any]:
    """The training data's size, and its prepared cache's source fingerprint where it has one."""
    manifest = data.manifest if isinstance(data, ReadsPreparedCache) else None
    return {"examples": len(data), "source": manifest.get("fingerprint") if isinstance(manifest, dict) else None}


def check_identity(path: Path, info: dict[str, Any], identity: dict[str, Any], run_id: str, examples: int) -> None:
    """Refuse a checkpoint written by another run: another model, configuration or dataset.
    (Checkpoints from before identities were stored are checked by model only.)"""

    def foreign(reason: str) -> CheckpointError:
        return CheckpointError(f"checkpoint '{path}' belongs to another run ({reason})")

    model = identity["model"]
    if info.get("model", model) != model:
        raise foreign(f"it holds model '{info.get('model')}', this run trains '{model}'")
    theirs = info.get("identity")
    if theirs is not None and info.get("config_hash") != identity_hash(identity):
        reason = differences(theirs, identity)
        if reason:  # (settings only one side knows, added or removed by an upgrade, are not compared)
            raise foreign(reason)
    recorded = (info.get("dataset") or {}).get("examples")
    if recorded is not None and recorded != examples:
        raise foreign(f"it trained on {recorded} examples, this run on {examples}")
    if info.get("run_id", run_id) != run_id:
        raise foreign(f"it was written by run {info['run_id']}, this is run {run_id}")


def check_dataset(recorded: dict[str, Any] | None, now: dict[str, Any], name: str, console: Console) -> None:
    """A resumed run trains on the data it started with: a dataset that changed size under it is
    refused; other changes to its files (same size) are reported."""
    if not isinstance(recorded, dict):  # a run from before datasets were fingerprinted
        return
    if recorded.get("examples") != now["examples"]:
        raise DataError(
            f"dataset '{name}' changed under this run: it holds {now['examples']} examples now, "
            f"{recorded.get('examples')} when the run started; restore those files to resume it, "
            "or start a new run"
        )
    if recorded.get("source") and now["source"] and recorded["source"] != now["source"]:
        console.print(
            f"warning: the files of dataset '{name}' changed since this run started (the same "
            "number of examples); resuming on them",
            highlight=False,
            soft_wrap=True,
        )


def check_budget(step: int, total_steps: int, overrides: dict[str, Any]) -> None:
    """A resumed run must have steps left: a budget at or below its step is a usage error."""
    given = overrides.get("steps") is not None or overrides.get("epochs") is not None
    if step < total_steps or (step == total_steps and not given):
        return
    if overrides.get("steps") is not None:
        budget = f"--steps {overrides['steps']}"
    elif overrides.get("epochs") is not None:
        budget = f"--epochs {overrides['epochs']} ({total_steps} steps)"
    else:
        budget = f"its budget of {total_steps} steps"
    raise UsageError(f"the run is at step {step}; {budget} is not beyond it: give a larger --steps to continue it")
