"""Datasets as arrays of uint8 ``(N, C, H, W)`` images: in memory or memory-mapped from the
prepared cache. A batch is one fancy index per array, so loading never decodes anything."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ganzoo.data.cache import RowFile
from ganzoo.data.order import IndependentOrders
from ganzoo.protocols import DataInfo

ArrayLike = torch.Tensor | np.ndarray | RowFile


def as_rows(array: ArrayLike) -> torch.Tensor | RowFile:
    """Tensors and prepared files as they are; numpy arrays as tensors sharing their memory."""
    return torch.from_numpy(array) if isinstance(array, np.ndarray) else array


def as_tensor(array: torch.Tensor | RowFile) -> torch.Tensor:
    """The whole array as a tensor (a prepared file is memory-mapped, not read)."""
    return torch.from_numpy(array.mapped()) if isinstance(array, RowFile) else array


def _take(array: torch.Tensor | RowFile, indices) -> torch.Tensor:
    if isinstance(array, RowFile):
        return torch.from_numpy(array.take(torch.as_tensor(indices).numpy()))
    return array[torch.as_tensor(indices).to(array.device, non_blocking=True)]


def _nbytes(array: torch.Tensor | RowFile | None) -> int:
    if array is None:
        return 0
    return int(np.prod(array.shape)) * (1 if isinstance(array, RowFile) else array.element_size())


def _on(device: torch.device, array: torch.Tensor | RowFile | None) -> torch.Tensor | None:
    """``array`` whole on ``device`` (a prepared file is read once)."""
    return None if array is None else as_tensor(array).to(device)


class ImageArrays:
    """Examples made of one row of each array (``{"image": ...}`` or ``{"A": ..., "B": ...}``).

    With ``labels`` (one class index per example; ``info.classes`` names them) every batch
    also holds ``label`` (int64 ``(N,)``); with ``attributes`` (0/1 ``(N, K)``; ``info.attributes``
    names the columns) it holds ``attributes`` (float32 ``(N, K)``). ``identities`` (who each
    example shows) stay out of batches: they are for dataset code pairing examples.
    """

    def __init__(
        self,
        arrays: Mapping[str, ArrayLike],
        info: DataInfo,
        labels: ArrayLike | None = None,
        attributes: ArrayLike | None = None,
        identities: ArrayLike | None = None,
    ):
        sizes = {int(a.shape[0]) for a in arrays.values()}
        if len(sizes) != 1:
            raise ValueError(f"arrays of one dataset must have one length, got {sorted(sizes)}")
        for name, array in arrays.items():
            if array.dtype not in (torch.uint8, np.uint8) or len(array.shape) != 4:
                raise ValueError(f"expected uint8 (N, C, H, W) '{name}', got {array.dtype} {tuple(array.shape)}")
        self.arrays = {name: as_rows(array) for name, array in arrays.items()}
        self.info = info
        count = sizes.pop()
        if (labels is None) != (not info.classes) or (attributes is None) != (not info.attributes):
            raise ValueError("a dataset has labels (attributes) exactly when its DataInfo names classes (attributes)")
        self.labels = _per_example("labels", labels, (count,), torch.int64)
        self.attributes = _per_example("attributes", attributes, (count, info.num_attributes))
        self.identities = _per_example("identities", identities, (count,), torch.int64)
        if self.labels is not None and count and (self.labels.min() < 0 or self.labels.max() >= info.num_classes):
            raise ValueError(f"labels must index the {info.num_classes} classes of DataInfo")

    def __len__(self) -> int:
        return int(next(iter(self.arrays.values())).shape[0])

    def nbytes(self) -> int:
        return sum(map(_nbytes, (*self.arrays.values(), self.labels, self.attributes)))

    def to_device(self, device: torch.device) -> ImageArrays:
        """A copy whose arrays live on ``device``, so a batch is one gather there (GathersRows)."""
        moved = copy.copy(self)
        moved.arrays = {name: as_tensor(array).to(device) for name, array in self.arrays.items()}
        moved.labels, moved.attributes = _on(device, self.labels), _on(device, self.attributes)
        return moved

    def batch(self, indices: Sequence[int] | torch.Tensor) -> dict[str, torch.Tensor]:
        out = {name: _take(array, indices) for name, array in self.arrays.items()}
        index = torch.as_tensor(indices)
        per_example = self.labels if self.labels is not None else self.attributes
        if per_example is not None:
            index = index.to(per_example.device, non_blocking=True)
        if self.labels is not None:
            out["label"] = self.labels[index]
        if self.attributes is not None:
            out["attributes"] = self.attributes[index].float()
        return out


def _per_example(
    what: str, values: ArrayLike | None, shape: tuple[int, ...], dtype: torch.dtype | None = None
) -> torch.Tensor | None:
    """Values given per example as a CPU tensor of ``shape``, or None."""
    if values is None:
        return None
    tensor = torch.as_tensor(values, dtype=dtype)
    if tuple(tensor.shape) != shape:
        raise ValueError(f"expected {what} of shape {shape}, got {tuple(tensor.shape)}")
    return tensor


class TensorImages(ImageArrays):
    """A dataset of single images: ``{"image": (N, C, H, W) uint8}``."""

    def __init__(
        self,
        images: ArrayLike,
        info: DataInfo,
        labels: ArrayLike | None = None,
        attributes: ArrayLike | None = None,
        identities: ArrayLike | None = None,
    ):
        super().__init__({"image": images}, info, labels=labels, attributes=attributes, identities=identities)

    @property
    def images(self) -> torch.Tensor:
        """All images as one tensor (memory-mapped when prepared: pages load as they are read)."""
        return as_tensor(self.arrays["image"])


class UnpairedImages:
    """Two unaligned domains; each batch draws A and B independently, each from its own seeded
    shuffle (so an epoch of the larger domain sees every image of it once)."""

    def __init__(self, a: ArrayLike, b: ArrayLike, info: DataInfo):
        self.domains = {"A": as_rows(a), "B": as_rows(b)}
        self.info = info

    def __len__(self) -> int:
        return max(int(a.shape[0]) for a in self.domains.values())

    def nbytes(self) -> int:
        return sum(map(_nbytes, self.domains.values()))

    def to_device(self, device: torch.device) -> UnpairedImages:
        moved = copy.copy(self)
        moved.domains = {name: as_tensor(array).to(device) for name, array in self.domains.items()}
        return moved

    def make_order(self, batch_size: int, seed: int) -> IndependentOrders:
        return IndependentOrders({name: int(a.shape[0]) for name, a in self.domains.items()}, batch_size, seed)

    def batch(self, indices) -> dict[str, torch.Tensor]:
        """``indices``: a {domain: indices} mapping from the order, or plain indices (taken
        modulo each domain's size, for fixed sample grids)."""
        if not isinstance(indices, Mapping):
            flat = torch.as_tensor(indices).cpu()
            indices = {name: flat % int(a.shape[0]) for name, a in self.domains.items()}
        return {name: _take(a, indices[name]) for name, a in self.domains.items()}
