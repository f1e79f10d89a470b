"""`ganzoo runs [DIR] [--json]`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ganzoo.cli.output import console, print_json
from ganzoo.errors import UsageError
from ganzoo.training.run_dir import RunDir, config_problem

STATE_STYLE = {"finished": "green", "running": "cyan", "interrupted": "yellow", "diverged": "red", "damaged": "red"}


def describe_run(run_dir: RunDir) -> dict:
    """One row of the listing; a malformed run becomes a 'damaged (reason)' row, never an error."""
    row = {
        "run": str(run_dir.path),
        "name": run_dir.path.name,
        "model": "?",
        "dataset": "?",
        "step": 0,
        "total_steps": None,
        "last_checkpoint": None,
        "best_checkpoint": None,
        "state": "damaged",
        "pid": None,
        "message": "",
    }
    config, problem = config_problem(run_dir)
    try:
        status = run_dir.read_status()
        checkpoints = run_dir.checkpoint_files()
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        return {**row, "message": f"its folder cannot be read ({type(exc).__name__}: {exc})"}
    best = run_dir.checkpoints / "best.safetensors"
    row.update(
        step=checkpoints[-1][0] if checkpoints else 0,
        last_checkpoint=str(checkpoints[-1][1]) if checkpoints else None,
        best_checkpoint=str(best) if best.is_file() else None,
    )
    if problem:
        return {**row, "message": problem}
    total = status.get("total_steps") if isinstance(status, dict) else None
    row.update(
        model=config["model"],
        dataset=config["dataset"],
        total_steps=total or config["training"].get("steps"),
        state=status.get("state", "unknown"),
        pid=status.get("pid") if status.get("state") == "running" else None,  # the lock's holder
        message=status.get("message", ""),
    )
    return row


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
        state = f"{row['state']} (pid {row['pid']})" if row["pid"] else row["state"]
        if row["state"] == "damaged":
            state = f"damaged ({row['message']})"
        steps = f"{row['step']}/{row['total_steps'] or '?'}"
        last = Path(row["last_checkpoint"]).name if row["last_checkpoint"] else "-"
        best = Path(row["best_checkpoint"]).name if row["best_checkpoint"] else "-"
        table.add_row(
            row["name"], row["model"], row["dataset"], steps, f"[{style}]{state}[/]" if style else state, last, best
        )
    console.print(table)
    first = shlex.quote(str(folder / rows[0]["name"]))
    console.print(
        f"look at a run: ganzoo report {first} (name several runs to compare them)", highlight=False, markup=False
    )


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)
