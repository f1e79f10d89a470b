"""Batches for the training loop, in the data order's sequence, already on the device.

Three ways, chosen once per run (``--data-on-device``):

- *on device*: the prepared arrays are uploaded once and each batch is one gather there;
- *prefetched*: a background thread gathers the next batch (pinned, on CUDA) while the
  current step runs, and the copy to the device does not block the host;
- *direct*: the batch is read when asked for (datasets that draw random numbers while
  batching, e.g. inpainting masks, must draw them in order on the loop's thread).

The first two apply only to datasets that declare their batches pure gathers
(:class:`ganzoo.protocols.GathersRows`), so the batches, their order and a resume are the same
whichever way is taken.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import torch

from ganzoo.data.convert import to_model_range
from ganzoo.errors import UsageError
from ganzoo.protocols import GathersRows
from ganzoo.training.settings import DATA_ON_DEVICE

#: --data-on-device auto uploads a dataset that takes at most this share of free device memory.
DEVICE_MEMORY_SHARE = 0.25


def choose_mode(choice: str, data: Any, device: torch.device, dataset_name: str) -> str:
    """'device', 'prefetch' or 'direct' for --data-on-device CHOICE."""
    if choice not in DATA_ON_DEVICE:
        raise UsageError(f"--data-on-device must be one of {', '.join(DATA_ON_DEVICE)}; got '{choice}'")
    gathers = isinstance(data, GathersRows)
    if choice == "yes":
        if not gathers:
            raise UsageError(
                f"--data-on-device yes: dataset '{dataset_name}' draws random numbers while it "
                "batches, so its batches are made on the host (use auto or no)"
            )
        return "device"
    if choice == "auto" and gathers and device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if data.nbytes() <= DEVICE_MEMORY_SHARE * free:
            return "device"
    # On the CPU a background thread competes with the step's own threads for the same cores:
    # the DCGAN demo on 2 cores ran 754 img/s with it and 1,023 without (docs/speed.md).
    return "prefetch" if gathers and device.type != "cpu" else "direct"


class BatchFeed:
    def __init__(
        self,
        data: Any,
        order: Any,
        device: torch.device,
        mode: str,
        channels_last: bool = False,
        shard: tuple[int, int] = (0, 1),
        masks: frozenset[str] = frozenset(),
    ):
        self.order, self.device, self.mode, self.channels_last = order, device, mode, channels_last
        self.masks = masks  # the keys the task's BatchSchema declares masks: converted to [0, 1]
        self.rank, self.ranks = shard  # this process's slice of every global batch
        self.data = data.to_device(device) if mode == "device" else data
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ganzoo-prefetch") if mode == "prefetch" else None
        # the batch being prepared, with the order's state and epoch from before it was drawn
        self._pending: tuple[dict[str, int], int, Future] | None = None

    @property
    def batches_per_epoch(self) -> int:
        return self.order.batches_per_epoch

    @property
    def epoch(self) -> int:
        """The epoch of the last batch handed out."""
        return self._pending[1] if self._pending else self.order.epoch

    def next(self) -> dict[str, torch.Tensor]:
        """The next batch, as the model sees it: float, on the device."""
        if self._pool is None:
            return self._to_device(self.data.batch(self._share(self.order.next())))
        pending = self._pending if self._pending is not None else self._prepare(self._pool)
        batch = pending[2].result()
        self._prepare(self._pool)
        return self._to_device(batch)

    def _prepare(self, pool: ThreadPoolExecutor) -> tuple[dict[str, int], int, Future]:
        """Start gathering the next batch on ``pool``; the pending batch, also kept in ``_pending``."""
        state, epoch = self.order.state_dict(), self.order.epoch
        self._pending = (state, epoch, pool.submit(self._gather, self._share(self.order.next())))
        return self._pending

    def _share(self, indices):
        """This process's slice of a global batch (of each domain's, for unpaired data)."""
        if self.ranks == 1:
            return indices
        if isinstance(indices, dict):
            return {key: self._share(value) for key, value in indices.items()}
        size = len(indices) // self.ranks
        return indices[self.rank * size : (self.rank + 1) * size]

    def _gather(self, indices) -> dict[str, torch.Tensor]:
        batch = self.data.batch(indices)
        if self.device.type == "cuda":
            return {key: value.pin_memory() for key, value in batch.items()}
        return to_model_range(batch, self.device, self.masks)  # on the CPU: work worth moving off the loop

    def _to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        batch = to_model_range(batch, self.device, self.masks)
        if self.channels_last:
            batch = {
                key: value.contiguous(memory_format=torch.channels_last) if value.ndim == 4 else value
                for key, value in batch.items()
            }
        return batch

    def state_dict(self) -> dict[str, int]:
        """The order's position after the last batch handed out (not the one being prepared)."""
        return dict(self._pending[0]) if self._pending else self.order.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._drop_pending()
        self.order.load_state_dict(state)

    def _drop_pending(self) -> None:
        if self._pending is not None:
            self._pending[2].result()  # let the worker finish before the order moves under it
            self.order.load_state_dict(self._pending[0])
            self._pending = None

    def close(self) -> None:
        try:
            self._drop_pending()
        except Exception:  # noqa: BLE001 - a failed prefetch already raised its error where it was used
            self._pending = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
