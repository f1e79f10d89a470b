"""`ganzoo list [models|datasets|losses|metrics|tasks|loggers|pretrained] [PATTERN] [--json]`."""

from __future__ import annotations

import fnmatch
import json
from typing import Annotated

import typer
from rich.table import Table

from ganzoo.cli.output import console, print_json
from ganzoo.plugins import load_plugins
from ganzoo.specs import DatasetSpec, MetricSpec, ModelSpec, TaskSpec

KINDS = ("models", "datasets", "losses", "metrics", "tasks", "loggers", "pretrained")


def _detail(spec) -> str:
    if isinstance(spec, ModelSpec):
        return spec.task
    if isinstance(spec, DatasetSpec):
        return spec.kind
    if isinstance(spec, TaskSpec):
        return f"{spec.data_kind} data: {', '.join(key.name for key in spec.batch.keys)}"
    if isinstance(spec, MetricSpec):
        return spec.kind
    return ""  # losses and loggers have no type


def rows(what: str | None, pattern: str | None) -> list[dict]:
    plugins = load_plugins()
    kinds = [what] if what else list(KINDS)
    found = []
    for kind in kinds:
        if kind == "pretrained":  # named pretrained:NAME; with the kind given, NAME alone matches too
            found += pretrained_rows(pattern, short_names=what == "pretrained")
            continue
        for entry in plugins.registries[kind].list(pattern):
            found.append(
                {
                    "kind": plugins.registries[kind].kind,
                    "name": entry.name,
                    "task" if kind == "models" else "type": _detail(entry.spec),
                    "summary": entry.spec.summary,
                    "plugin": entry.provider.plugin,
                    "distribution": entry.provider.distribution,
                    "version": entry.provider.version,
                }
            )
    return found


def pretrained_rows(pattern: str | None, short_names: bool = False) -> list[dict]:
    """The models shipped with ganzoo (``pretrained:NAME`` where a run goes)."""
    from ganzoo.shared_models import PRETRAINED, pretrained_names  # lazy: building the CLI must not import torch

    found = []
    for name in pretrained_names():
        names = (f"pretrained:{name}", name) if short_names else (f"pretrained:{name}",)
        if pattern and not any(fnmatch.fnmatchcase(shown, pattern) for shown in names):
            continue
        config = json.loads((PRETRAINED / name / "config.json").read_text())
        latest = json.loads((PRETRAINED / name / "metrics.json").read_text()).get("latest") or {}
        scores = ", ".join(f"{k} {v:.3g}" for k, v in sorted(latest.get("eval", {}).items()))
        found.append(
            {
                "kind": "pretrained",
                "name": f"pretrained:{name}",
                "type": config["model"],
                "summary": f"{config['dataset']} {config['resolution']}px, {config['step']:,} steps"
                + (f"; {scores} ({latest.get('extractor')} features)" if scores else ""),
                "plugin": config["plugin"]["name"],
                "distribution": config["plugin"]["package"],
                "version": config["plugin"]["version"],
            }
        )
    return found


def list_command(
    what: Annotated[
        str | None,
        typer.Argument(
            help="models, datasets, losses, metrics, tasks, loggers or pretrained (default: all); or a PATTERN",
            show_default=False,
        ),
    ] = None,
    pattern: Annotated[
        str | None, typer.Argument(help="shell-style wildcard on names, e.g. 'dc*'", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List models, datasets, losses, metrics, tasks, loggers and pretrained models, and which plugin provides each."""
    if what is not None and what not in KINDS:
        if pattern is not None:
            raise typer.BadParameter(f"'{what}' is not one of {', '.join(KINDS)}", param_hint="WHAT")
        what, pattern = None, what
    found = rows(what, pattern)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print(f"nothing matches '{pattern}'" if pattern else "nothing registered", highlight=False)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("kind", "name", "task / type", "summary", "provided by"):
        table.add_column(column, overflow="fold")
    for row in found:
        provider = row["plugin"] + (f" ({row['distribution']} {row['version']})" if row["distribution"] else "")
        table.add_row(row["kind"], row["name"], row.get("task") or row.get("type", ""), row["summary"], provider)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("list")(list_command)
