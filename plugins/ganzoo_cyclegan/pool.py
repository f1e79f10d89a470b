"""The image pool (Shrivastava et al. 2017) CycleGAN's discriminators learn from.

Until the pool holds ``size`` fakes, each new fake is stored and returned. Then, for each new
fake, with probability 1/2 a uniformly chosen stored fake is returned and the new one takes its
place, otherwise the new fake itself is returned. The pool is a registered buffer of the model,
so it is saved in checkpoints and a resumed run continues with the same past fakes."""

from __future__ import annotations

import torch
from torch import nn


class ImagePool(nn.Module):
    # buffers registered below; declared so the checker knows they are tensors, not sub-modules
    images: torch.Tensor
    count: torch.Tensor

    def __init__(self, size: int, shape: tuple[int, int, int]):
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros(size, *shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return fakes
        out = []
        for fake in fakes.detach():
            count = int(self.count)  # a host sync per image; batches are 1 in CycleGAN
            if count < self.size:
                self.images[count] = fake
                self.count += 1
                out.append(fake)
            elif float(torch.rand(())) < 0.5:
                index = int(torch.randint(0, self.size, ()))
                out.append(self.images[index].clone())
                self.images[index] = fake
            else:
                out.append(fake)
        return torch.stack(out)
