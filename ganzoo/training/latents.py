"""What generators draw from: truncation and spherical interpolation of Gaussian noise, and the
class labels of a class-conditional model's samples."""

from __future__ import annotations

import torch

__all__ = ["class_labels", "slerp", "truncate"]


def truncate(noise: torch.Tensor, threshold: float) -> torch.Tensor:
    """The truncation trick (Brock et al. 2019) for standard normal noise: every component is
    drawn from the normal distribution truncated to [-threshold, threshold], which trades
    variety for fidelity as the threshold falls.

    Redrawing out-of-range components until none is left gives that distribution; mapping each
    component through the truncated normal's inverse CDF gives the same distribution without
    drawing anything, so an image depends only on its own noise (not on the batch around it).
    """
    if not threshold > 0:
        raise ValueError("truncation threshold must be positive")
    dtype = noise.dtype
    z = noise.double()
    low = torch.special.ndtr(torch.tensor(-float(threshold), dtype=torch.float64))
    mass = 1.0 - 2.0 * low
    u = low + torch.special.ndtr(z) * mass
    return torch.special.ndtri(u).clamp(-threshold, threshold).to(dtype)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between latent batches (rows), which keeps Gaussian codes at a
    typical norm where linear interpolation would pass through unlikely, short vectors."""
    a_flat, b_flat = a.flatten(1), b.flatten(1)
    cos = (a_flat * b_flat).sum(1) / (a_flat.norm(dim=1) * b_flat.norm(dim=1)).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    sin = torch.sin(omega)
    wa = (torch.sin((1 - t) * omega) / sin).view(-1, *[1] * (a.dim() - 1))
    wb = (torch.sin(t * omega) / sin).view(-1, *[1] * (a.dim() - 1))
    return wa * a + wb * b


def class_labels(
    n: int, num_classes: int, generator: torch.Generator | None = None, choice: int | None = None
) -> torch.Tensor:
    """n labels of class ``choice``, or n classes drawn uniformly with ``generator``: what a
    class-conditional model's ``condition`` (ganzoo.protocols.SamplesConditionally) returns."""
    if choice is not None:
        return torch.full((n,), int(choice), dtype=torch.int64)
    return torch.randint(num_classes, (n,), generator=generator)
