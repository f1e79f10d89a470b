"""A seeded, restorable data order: the loop can save and resume it exactly."""

from __future__ import annotations

import torch


class ShuffledIndices:
    """Batches of indices from a fresh permutation each epoch, derived from (seed, epoch) only,
    so the position (epoch, batch) is the whole state. The last incomplete batch is dropped:
    BatchNorm statistics of a tiny batch would be noise."""

    def __init__(self, size: int, batch_size: int, seed: int):
        if batch_size > size:
            raise ValueError(f"batch size {batch_size} is larger than the dataset ({size} examples)")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.epoch, self.position = 0, 0
        self._order = self._permutation(0)

    @property
    def batches_per_epoch(self) -> int:
        return self.size // self.batch_size

    def _permutation(self, epoch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.size, generator=generator)

    def next(self) -> torch.Tensor:
        if self.position >= self.batches_per_epoch:
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        start = self.position * self.batch_size
        self.position += 1
        return self._order[start:start + self.batch_size]

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._order = self._permutation(self.epoch)
