"""The table of ``ganzoo train``'s settings in docs/cli.md, generated from their declarations.

``python -m ganzoo.training.settings_table`` rewrites it in place; tests/test_settings.py fails
while the page differs from what the declarations give."""

from __future__ import annotations

import sys
from pathlib import Path

from ganzoo.training.declared import markdown_table
from ganzoo.training.settings import TrainSettings, declared_settings

BEGIN = "<!-- settings table: generated from ganzoo/training/settings.py by `python -m ganzoo.training.settings_table` -->"
END = "<!-- end of the generated settings table -->"
PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def generated() -> str:
    """The table, then the settings ``--resume`` may change."""
    resumable = [f"`{d.flag}`" for d in declared_settings() if d.rules.resumable]
    return (f"{markdown_table(TrainSettings)}\n`--resume RUN` may change only these settings (budgets, cadence, "
            f"loggers, the device and speed): {', '.join(resumable)}.\n")


def with_table(page: str) -> str:
    """``page`` with the text between BEGIN and END replaced by :func:`generated`."""
    head, begin, rest = page.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the page has no '{BEGIN}' ... '{END}' section")
    return f"{head}{BEGIN}\n\n{generated()}\n{END}{tail}"


def main() -> None:
    page = PAGE.read_text(encoding="utf-8")
    updated = with_table(page)
    if updated != page:
        PAGE.write_text(updated, encoding="utf-8")
        print(f"updated {PAGE}", file=sys.stderr)


if __name__ == "__main__":
    main()
