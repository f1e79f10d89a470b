"""`ganzoo data download NAME [--root PATH]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ganzoo.cli.output import console, err_console

data_app = typer.Typer(help="Fetch and manage datasets.", no_args_is_help=True)


@data_app.command("download")
def download_command(
    name: Annotated[str, typer.Argument(help="Dataset name (see `ganzoo list datasets`).")],
    root: Annotated[Optional[Path], typer.Option(help="Folder to put the files in (default: the cache, $GANZOO_DATA).")] = None,
) -> None:
    """Download a dataset's official files, verify their checksums, resume partial downloads."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from ganzoo.plugins import load_plugins
    from ganzoo.specs import resolve

    spec = load_plugins().datasets.get(name)
    if spec.embedded:
        console.print(f"'{name}' is embedded in an installed package: nothing to download", highlight=False)
        return
    if spec.download is None:
        console.print(f"'{name}' has no official files to download: point --data-root at your files", highlight=False)
        return
    with Progress("[bold]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task(name, total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        paths = resolve(spec.download)(root, progress=report)
    for path in paths:
        console.print(f"ok  {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
