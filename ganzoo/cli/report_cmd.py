"""`ganzoo report RUN [RUN ...] [--out DIR] [--open]`."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from ganzoo.cli.output import console


def report_command(
    runs: Annotated[list[Path], typer.Argument(help="One run folder, or several to compare.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Folder of the report (default: RUN/report for one run, ./report for several)."),
    ] = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open the report in the web browser.")] = False,
) -> None:
    """Write HTML pages of runs: samples over the steps, curves, evaluations, checkpoints; with
    several runs, a comparison (settings, ranked evaluations, shared plots, last samples).

    Static files that open from disk with no server and no network; regenerated on every call."""
    from ganzoo.report import default_out, write_report  # lazy: building the CLI must not import torch

    index = write_report(runs, out or default_out(runs))
    console.print(f"report: {index}", highlight=False, markup=False)
    if open_page:
        webbrowser.open(index.resolve().as_uri())


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
