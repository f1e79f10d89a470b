"""Inpainting data: images with a hole mask and an exemplar (another image of the same person
or class), built over any dataset whose examples are grouped by identity or class.

Batches hold ``image``, ``mask`` (uint8, 255 = hole) and ``exemplar``. On the training split
exemplars and masks are drawn from torch's global random stream, which checkpoints capture, so
a resumed run sees the same ones; on held-out splits they are fixed (the exemplar is the next
image of the same group, the mask is seeded by the example's index), so every evaluation
scores the same task. Groups with one image are dropped: they have no exemplar."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import torch

from ganzoo.data.masks import make_masks
from ganzoo.errors import DataError

#: Boxes per example, from the indices of a batch and the generator to jitter them with:
#: one list of (x0, y0, x1, y1) rectangles per example (eyes from landmarks, a digit's ink...).
BoxSource = Callable[[torch.Tensor, torch.Generator | None], list]
HELD_OUT_SEED = 20180618  # fixed masks of held-out splits (any constant; the ExGAN paper's CVPR year/date)


class InpaintingView:
    """``source`` (a ganzoo dataset with an ``image`` key) as inpainting examples.

    ``groups`` gives each source example's identity or class; ``masks`` is a mask kind of
    :mod:`ganzoo.data.masks` or a :data:`BoxSource`; ``fixed`` makes exemplars and masks a
    function of the example alone (held-out splits). ``fixed_masks`` (uint8, 255 = hole) and
    ``exemplar_images`` (a dataset row-aligned with ``source``) are the user's own, per example;
    with exemplars given, every example is kept and ``groups`` only rules out wrong exemplars."""

    def __init__(
        self,
        source,
        groups: torch.Tensor,
        name: str,
        masks: str | BoxSource,
        fixed: bool,
        fixed_masks: torch.Tensor | None = None,
        only: torch.Tensor | None = None,
        exemplar_images=None,
    ):
        groups = torch.as_tensor(groups, dtype=torch.int64)
        if len(groups) != len(source):
            raise DataError(f"{name}: {len(groups)} identities/classes for {len(source)} images")
        used = torch.zeros(len(groups), dtype=torch.bool)
        used[torch.arange(len(groups)) if only is None else only] = True  # ``only``: these source examples
        counts = (
            torch.bincount(groups[used] - groups.min(), minlength=int(groups.max() - groups.min()) + 1)
            if len(groups)
            else torch.zeros(0, dtype=torch.int64)
        )
        paired = used & (counts[groups - groups.min()] >= 2) if exemplar_images is None else used
        kept = torch.nonzero(paired).flatten() if len(groups) else groups
        if len(kept) == 0:
            raise DataError(f"{name}: no identity or class has two images, so no image has an exemplar")
        self.source, self.masks, self.fixed, self.name = source, masks, fixed, name
        self.exemplar_images = exemplar_images
        self.indices = kept  # view index -> source index
        self.groups = groups[kept]
        self.fixed_masks = fixed_masks[kept] if fixed_masks is not None else None
        # every group's members, one after another; per example: where its group starts, its size
        # and its own place, so that exemplars are found by arithmetic on tensors
        by_group: dict[int, list[int]] = {}
        for view_index, group in enumerate(self.groups.tolist()):
            by_group.setdefault(group, []).append(view_index)
        self.members = torch.tensor([v for items in by_group.values() for v in items], dtype=torch.int64)
        self.group_start = torch.empty(len(kept), dtype=torch.int64)
        self.group_size = torch.empty(len(kept), dtype=torch.int64)
        self.position = torch.empty(len(kept), dtype=torch.int64)
        first = 0
        for items in by_group.values():
            members = torch.tensor(items)
            self.group_start[members], self.group_size[members] = first, len(items)
            self.position[members] = first + torch.arange(len(items))
            first += len(items)
        self.info = replace(source.info, kind="inpainting", size=len(kept), name=name)

    def __len__(self) -> int:
        return len(self.indices)

    def batch(self, indices: Sequence[int] | torch.Tensor) -> dict[str, torch.Tensor]:
        index = torch.as_tensor(indices, dtype=torch.int64)
        out = dict(self.source.batch(self.indices[index]))  # the image, and its label or attributes if any
        if self.exemplar_images is not None:
            out["exemplar"] = self.exemplar_images.batch(self.indices[index])["image"]
        else:
            out["exemplar"] = self.source.batch(self.indices[self._exemplars(index)])["image"]
        out["mask"] = self._masks(index)
        return out

    def mismatched_exemplars(self, indices: Sequence[int] | torch.Tensor) -> torch.Tensor:
        """An exemplar of another identity or class for each example (a fixed rule: the example
        half the dataset further on, moved on until its group differs), to measure what the right
        exemplar is worth."""
        index = torch.as_tensor(indices, dtype=torch.int64)
        other = (index + len(self) // 2) % len(self)
        for _ in range(len(self)):
            same = self.groups[other] == self.groups[index]
            if not same.any():
                break
            other = torch.where(same, (other + 1) % len(self), other)
        else:
            raise DataError(f"{self.name}: every image shows the same identity or class")
        if self.exemplar_images is not None:
            return self.exemplar_images.batch(self.indices[other])["image"]
        return self.source.batch(self.indices[other])["image"]

    def _exemplars(self, index: torch.Tensor) -> torch.Tensor:
        """Another member of each example's group: the next one (fixed), or a random other."""
        size, start, place = self.group_size[index], self.group_start[index], self.position[index]
        if self.fixed:
            step = torch.ones_like(index)
        else:
            step = 1 + (torch.rand(len(index)) * (size - 1).float()).long().clamp_max(size - 2)
        return self.members[start + (place - start + step) % size]

    def _masks(self, index: torch.Tensor) -> torch.Tensor:
        resolution = self.info.resolution
        if self.fixed_masks is not None:  # the user's own masks (inpaint-folder)
            return self.fixed_masks[index]
        if self.fixed:  # each example's own seed, so a held-out mask never depends on the batch
            masks = torch.cat(
                [
                    self._draw(index[k : k + 1], torch.Generator().manual_seed(HELD_OUT_SEED + int(i)))
                    for k, i in enumerate(index)
                ]
            )
        else:  # a generator seeded from the global stream: checkpointed with it
            masks = self._draw(index, torch.Generator().manual_seed(int(torch.randint(2**62, (1,)))))
        return masks.mul(255).to(torch.uint8).reshape(len(index), 1, resolution, resolution)

    def _draw(self, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if isinstance(self.masks, str):
            return make_masks(self.masks, len(index), self.info.resolution, generator)
        boxes = self.masks(self.indices[index], generator)
        return make_masks("eyes", len(index), self.info.resolution, generator, boxes=boxes)
