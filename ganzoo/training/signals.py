"""Ctrl-C and SIGTERM during training: finish the step, checkpoint, stop cleanly."""

from __future__ import annotations

import signal
import threading
from typing import Any

from rich.console import Console


class StopRequests:
    """While active, SIGINT and SIGTERM ask the loop to stop after the current step (``signal``
    holds the first one); a second Ctrl-C stops at once (KeyboardInterrupt: checkpoints are atomic,
    so the last one stays whole). Only the main thread can take signals; elsewhere this does nothing."""

    def __init__(self, console: Console):
        self.console = console
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._request) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    @property
    def name(self) -> str:
        return signal.Signals(self.signal).name if self.signal is not None else ""

    def _request(self, signum: int, frame: object) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum
        self.console.print(
            f"\n{signal.Signals(signum).name}: stopping after this step (Ctrl-C again to stop at once)", highlight=False
        )
