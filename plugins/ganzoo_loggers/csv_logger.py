"""`--logger csv`: RUN/metrics.csv, one row per log line and per evaluation, one column per value
(a spreadsheet's view of metrics.jsonl)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from ganzoo.plugin import hookimpl


class CSVLogger:
    def __init__(self, run) -> None:
        self.path: Path = run.path / "metrics.csv"
        self.columns: list[str] = ["step"]
        self.rows: list[dict[str, Any]] = []

    @hookimpl
    def on_train_start(self, step):
        """A resumed run keeps the rows up to the step it continues from (later ones were undone)."""
        if self.path.is_file():
            with self.path.open(newline="") as file:
                reader = csv.DictReader(file)
                self.columns = list(reader.fieldnames or ["step"])
                self.rows = [row for row in reader if row.get("step", "").isdigit() and int(row["step"]) <= step]
        self._rewrite()

    @hookimpl
    def on_log(self, step, scalars):
        self._add({"step": step, **scalars})

    @hookimpl
    def on_evaluate(self, step, results):
        self._add({"step": step, **{f"eval_{name}": value for name, value in results.items()}})

    def _add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        new = [key for key in row if key not in self.columns]
        if new:  # a value not seen before: a new column, so the file is written anew
            self.columns += new
            self._rewrite()
            return
        with self.path.open("a", newline="") as file:
            csv.DictWriter(file, self.columns, restval="").writerow(row)

    def _rewrite(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        with temporary.open("w", newline="") as file:
            writer = csv.DictWriter(file, self.columns, restval="")
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(temporary, self.path)
