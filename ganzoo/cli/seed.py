"""``--seed`` of the commands that draw random numbers (generate, interpolate, eval, data
make-masks): checked where it is parsed, as ``train``'s is, so a seed beyond 64 bits is one
line and exit 2, not an overflow inside torch's generator."""

from __future__ import annotations

from typing import Any

import typer

from ganzoo.options import check_number


def seed_option(help: str) -> Any:
    return typer.Option(help=help, callback=_checked)


def _checked(value: int) -> int:
    check_number("--seed", value)
    return value
