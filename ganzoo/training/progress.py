"""Progress on the terminal (a rich bar) or, when not a terminal, plain log lines."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def format_logs(logs: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.3g}" for k, v in logs.items())


class TrainingProgress:
    def __init__(self, console: Console, total: int, start: int = 0, description: str = "training"):
        self.console = console
        self.total = total
        self.interactive = console.is_terminal or console.is_jupyter  # a live bar in a notebook too
        self._bar = None
        if self.interactive:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[logs]}"),
                console=console,
                transient=False,
            )
            self._task = self._bar.add_task(description, total=total, completed=start, speed="", logs="")
        self._last = time.perf_counter()
        self.extra = ""  # the latest evaluation, shown beside the losses

    def __enter__(self) -> TrainingProgress:
        if self._bar:
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar:
            self._bar.stop()

    def advance(self, step: int) -> None:
        if self._bar:
            self._bar.update(self._task, completed=step)

    def report(self, step: int, images_per_second: float, logs: dict[str, float]) -> str:
        """Show the latest numbers; returns the plain line (also used for log.txt)."""
        shown = format_logs(logs) + (f"  {self.extra}" if self.extra else "")
        line = f"step {step}/{self.total}  {images_per_second:.0f} img/s  {shown}"
        if self._bar:
            self._bar.update(self._task, completed=step, speed=f"{images_per_second:.0f} img/s", logs=shown)
        else:
            self.console.print(line, highlight=False, soft_wrap=True)
        return line

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False, soft_wrap=True)
