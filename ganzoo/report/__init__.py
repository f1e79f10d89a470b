"""``ganzoo report``: static HTML pages of runs, a page per run and one comparing several.

The report is a folder of its own (index.html, the pages, their images), made whole in a
temporary folder beside it and then put in place, so it is regenerated and never appended to.
It writes into a run folder only at ``RUN/report``, the default for a single run, and replaces
only a folder that an earlier report made (it carries a marker file)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ganzoo.errors import UsageError
from ganzoo.report.collect import RunView, read_run
from ganzoo.report.pages import write_comparison_page, write_run_page

#: The file that marks a folder as a report ganzoo made, and may therefore replace.
MARKER = ".ganzoo-report"

__all__ = ["MARKER", "RunView", "default_out", "read_run", "write_report"]


def default_out(runs: list[Path]) -> Path:
    """RUN/report for one run; ./report for several."""
    return runs[0] / "report" if len(runs) == 1 else Path("report")


def write_report(runs: list[Path], out: Path) -> Path:
    """The report of ``runs`` in ``out``; returns its index.html."""
    paths = [check_run(path) for path in runs]
    if len({p.resolve() for p in paths}) != len(paths):
        raise UsageError("a run is given twice: give each run once")
    check_out(out, paths)
    views = [read_run(path) for path in paths]
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if len(views) == 1:
            write_run_page(views[0], staging)
        else:
            folders = [staging / "runs" / f"{i + 1}-{view.name}" for i, view in enumerate(views)]
            pages = [write_run_page(view, folder, home="../../index.html") for view, folder in zip(views, folders)]
            write_comparison_page(views, pages, staging)
        (staging / MARKER).write_text("made by ganzoo report; the folder is replaced when it runs again\n")
        _replace(out, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / "index.html"


def check_run(path: Path) -> Path:
    if not path.is_dir():
        raise UsageError(f"'{path}' is not a folder")
    if not (path / "config.json").exists() and not (path / "status.json").exists():
        raise UsageError(f"'{path}' is not a ganzoo run (it has neither config.json nor status.json)")
    return path


def check_out(out: Path, runs: list[Path]) -> None:
    """``out`` is new, empty, or an earlier report; never inside a run but at RUN/report."""
    resolved = out.resolve()
    for run in runs:
        inside = resolved == run.resolve() or run.resolve() in resolved.parents
        if inside and resolved != (run / "report").resolve():
            raise UsageError(f"--out '{out}' is inside the run '{run}': a report goes to RUN/report or outside runs")
    if out.is_file():
        raise UsageError(f"--out '{out}' is a file: give a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(f"--out '{out}' holds files that are not a ganzoo report: give a new or empty folder")


def _replace(out: Path, staging: Path) -> None:
    """Put the finished report at ``out``: the old one goes only once the new one is whole."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
