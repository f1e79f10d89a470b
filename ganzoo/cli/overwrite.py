"""The ``--overwrite`` flag of every command that writes files (the rules: ``ganzoo.outputs``)."""

from __future__ import annotations

from typing import Annotated

import typer

Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite", help="Replace files that already exist where the outputs go (inputs are never replaced)."
    ),
]
