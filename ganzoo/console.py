"""The process's shared rich consoles. They live below the CLI so that any layer (the data
layer's progress bars, the training loop's log lines) can write to them without importing
``ganzoo.cli``; ``ganzoo.cli.output`` re-exports them for the commands."""

from __future__ import annotations

import os

from rich.console import Console

#: The width of results written to a pipe or a file (grep, less, a log): wide enough that no
#: table row wraps, where rich would fold every cell at 80 columns, words cut in the middle.
PIPED_WIDTH = 10_000


def _results_console() -> Console:
    console = Console()
    return console if console.is_terminal or "COLUMNS" in os.environ else Console(width=PIPED_WIDTH)


console = _results_console()  # results, tables, JSON
err_console = Console(stderr=True)  # progress, warnings, errors
