"""`ganzoo runs [DIR] [--json]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ganzoo.cli.output import console, print_json
from ganzoo.errors import UsageError
from ganzoo.training.run_dir import RunDir

STATE_STYLE = {"finished": "green", "running": "cyan", "interrupted": "yellow", "diverged": "red"}


def describe_run(run_dir: RunDir) -> dict:
    try:
        config = json.loads(run_dir.config_path.read_text())
    except (OSError, ValueError):
        config = {}
    status = run_dir.read_status()
    checkpoints = run_dir.checkpoint_files()
    best = run_dir.checkpoints / "best.safetensors"
    return {
        "run": str(run_dir.path),
        "name": run_dir.path.name,
        "model": config.get("model", "?"),
        "dataset": config.get("dataset", "?"),
        "step": checkpoints[-1][0] if checkpoints else 0,
        "total_steps": status.get("total_steps") or config.get("training", {}).get("steps"),
        "last_checkpoint": str(checkpoints[-1][1]) if checkpoints else None,
        "best_checkpoint": str(best) if best.is_file() else None,
        "state": status.get("state", "unknown"),
        "message": status.get("message", ""),
    }


def runs_command(
    folder: Annotated[Path, typer.Argument(help="Folder holding runs.")] = Path("runs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the runs in a folder: model, dataset, steps done, checkpoints and state."""
    if not folder.is_dir():
        raise UsageError(f"'{folder}' is not a folder of runs")
    rows = [describe_run(RunDir(p)) for p in sorted(folder.iterdir()) if (p / "config.json").is_file()]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"no runs in {folder}", highlight=False)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("run", "model", "dataset", "steps", "state", "last checkpoint", "best"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = STATE_STYLE.get(row["state"], "")
        steps = f"{row['step']}/{row['total_steps'] or '?'}"
        last = Path(row["last_checkpoint"]).name if row["last_checkpoint"] else "-"
        best = Path(row["best_checkpoint"]).name if row["best_checkpoint"] else "-"
        table.add_row(row["name"], row["model"], row["dataset"], steps, f"[{style}]{row['state']}[/]" if style else row["state"],
                      last, best)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)
