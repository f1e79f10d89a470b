"""`ganzoo plugins [--all] [--json]`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ganzoo.cli.output import console, print_json
from ganzoo.plugins import load_plugins


def plugins_command(
    show_all: Annotated[bool, typer.Option("--all", help="Include the built-in plugins.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show installed plugins, their versions, hooks and any load error."""
    infos = [p for p in load_plugins().plugins.values() if show_all or p.distribution != "ganzoo"]
    if as_json:
        print_json([asdict(p) for p in infos])
        return
    if not infos:
        console.print("no third-party plugins installed (ganzoo plugins --all shows the built-ins)")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("plugin", "distribution", "status", "hooks"):
        table.add_column(column, overflow="fold")
    for p in infos:
        status = {"loaded": "[green]loaded[/]", "disabled": "[yellow]disabled[/]"}.get(
            p.status, f"[red]failed[/]: {escape(p.error or '')}"
        )
        table.add_row(p.name, f"{p.distribution or '-'} {p.version or ''}".strip(), status, ", ".join(p.hooks))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins_command)
