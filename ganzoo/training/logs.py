"""What a log line reports: the mean of each logged value since the previous line, and the speed."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


class LogAverager:
    """Sums detached scalars on the device; the host reads them only when a line is logged.
    With a ``world`` of several processes the means are over every process's values."""

    def __init__(self, world=None) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.world = world

    def add(self, logs: dict[str, torch.Tensor]) -> None:
        for key, value in logs.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
            self.counts[key] = self.counts.get(key, 0) + 1

    def pop_means(self) -> dict[str, float]:
        keys = list(self.sums)
        stacked = torch.stack([self.sums[k] for k in keys]) if keys else None
        if stacked is not None and self.world is not None:
            stacked = self.world.mean(stacked)
        totals = stacked.tolist() if stacked is not None else []
        means = {k: total / self.counts[k] for k, total in zip(keys, totals)}
        self.sums, self.counts = {}, {}
        return means


class Throughput:
    """Images per second since the previous reading, leaving out the seconds ``excluded()`` counts
    (lifecycle hooks, compiling): they are not training."""

    def __init__(self, batch_size: int, excluded: Callable[[], float], batches: int = 0):
        self.batch_size, self.excluded = batch_size, excluded
        self._time, self._batches, self._excluded = time.perf_counter(), batches, excluded()

    def images_per_second(self, batches: int) -> float:
        """The speed over the ``batches`` drawn so far (a running count) since the last reading."""
        now = time.perf_counter()
        busy = now - self._time - (self.excluded() - self._excluded)
        speed = (batches - self._batches) * self.batch_size / max(busy, 1e-9)
        self._time, self._batches, self._excluded = now, batches, self.excluded()
        return speed
