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
        return self._order[start : start + self.batch_size]

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._order = self._permutation(self.epoch)


class IndependentOrders:
    """One ShuffledIndices per domain of an unpaired dataset; the largest domain sets the epoch.
    Each domain's seed differs, so the pairing of A and B images changes every epoch."""

    def __init__(self, sizes: dict[str, int], batch_size: int, seed: int):
        self.orders = {
            name: ShuffledIndices(size, batch_size, seed * 7 + offset)
            for offset, (name, size) in enumerate(sizes.items())
        }
        self.lead = max(self.orders, key=lambda name: self.orders[name].size)

    @property
    def epoch(self) -> int:
        return self.orders[self.lead].epoch

    @property
    def batches_per_epoch(self) -> int:
        return self.orders[self.lead].batches_per_epoch

    def next(self) -> dict[str, torch.Tensor]:
        return {name: order.next() for name, order in self.orders.items()}

    def state_dict(self) -> dict[str, int]:
        return {
            f"{name}.{key}": value for name, order in self.orders.items() for key, value in order.state_dict().items()
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        for name, order in self.orders.items():
            order.load_state_dict({key: state[f"{name}.{key}"] for key in ("epoch", "position")})
