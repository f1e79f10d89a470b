"""Consoles and small output helpers shared by the commands."""

from __future__ import annotations

import json
from typing import Any

import typer

from ganzoo._version import __version__
from ganzoo.console import console, err_console  # noqa: F401 (the commands import them from here)


def version_callback(value: bool) -> None:
    if value:
        console.print(f"ganzoo {__version__}", highlight=False)
        raise typer.Exit()


def print_json(data: Any) -> None:
    # plain print: rich would wrap long lines and break the JSON for other programs
    print(json.dumps(data, indent=2, default=str))


#: The help of a RUN argument that also takes a shared model.
MODEL_REFERENCES = "or a shared model: its folder, hf://OWNER/NAME[@REVISION] (the Hub) or pretrained:NAME."
