"""The process's shared rich consoles. They live below the CLI so that any layer (the data
layer's progress bars, the training loop's log lines) can write to them without importing
``ganzoo.cli``; ``ganzoo.cli.output`` re-exports them for the commands."""

from __future__ import annotations

from rich.console import Console

console = Console()  # results, tables, JSON
err_console = Console(stderr=True)  # progress, warnings, errors
