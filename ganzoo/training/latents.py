"""Latent-space helpers: truncation and spherical interpolation of Gaussian noise."""

from __future__ import annotations

import torch


def truncate(noise: torch.Tensor, threshold: float, generator: torch.Generator) -> torch.Tensor:
    """The truncation trick (Brock et al. 2019): redraw every component whose magnitude exceeds
    ``threshold`` until none does. Trades variety for fidelity as the threshold falls."""
    if threshold <= 0:
        raise ValueError("truncation threshold must be positive")
    noise = noise.clone()
    outside = noise.abs() > threshold
    while outside.any():
        noise[outside] = torch.randn(int(outside.sum()), generator=generator, dtype=noise.dtype)
        outside = noise.abs() > threshold
    return noise


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
