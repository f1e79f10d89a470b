"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for discriminators on small data.

The same random transformation family is applied to real and generated images before the
discriminator, in both the D and the G phase, so D cannot memorise the few real images and G
still receives gradients through the (differentiable) transformation. Policies are
comma-separated names: ``color``, ``translation``, ``cutout``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["POLICIES", "diff_augment", "parse_policy"]  # for models; the loader's augments are internal

POLICIES = ("color", "translation", "cutout")
"""The DiffAugment transformations a policy may name."""


def parse_policy(policy: str, allowed: tuple[str, ...] = POLICIES) -> tuple[str, ...]:
    """ "translation,color" -> ("translation", "color"); ValueError naming unknown entries."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(unknown)}: use {', '.join(allowed)}")
    return names


def diff_augment(images: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    """``images`` through each transformation of ``policy`` (from :func:`parse_policy`) in order,
    drawn afresh per image; differentiable, so G's gradients pass through."""
    for name in policy:
        images = _AUGMENTS[name](images)
    return images


def _color(x: torch.Tensor, factor=None) -> torch.Tensor:
    """Random brightness, saturation and contrast; ``factor(name)`` supplies shared draws."""
    n = x.shape[0]
    factor = factor or (lambda _name: torch.rand(n, 1, 1, 1, device=x.device))
    x = x + (factor("brightness") - 0.5)
    if x.shape[1] > 1:  # saturation
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (factor("saturation") * 2) + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)  # contrast
    return (x - mean) * (factor("contrast") + 0.5) + mean


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, filling with the background (-1)."""
    n, _, h, w = x.shape
    sh, sw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) - dy + sh
    cols = torch.arange(w, device=x.device).view(1, 1, w) - dx + sw
    padded = F.pad(x, [sw, sw, sh, sh], value=-1.0)
    index = (rows * (w + 2 * sw) + cols).view(n, 1, h * w).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, index).view_as(x)


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Blank one square of ``ratio`` of the size per image (to the background, -1)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((rows - cy).abs() <= ch // 2 - 1 + ch % 2) & ((cols - cx).abs() <= cw // 2 - 1 + cw % 2)
    keep = (~inside).unsqueeze(1).to(x.dtype)
    return x * keep - (1 - keep)


_AUGMENTS = {"color": _color, "translation": _translation, "cutout": _cutout}


#: Augmentations of real batches in the loader (``ganzoo train --augment``).
LOADER_AUGMENTS = ("flip", *POLICIES)
#: Those that change what real images look like, not just where things are: on an
#: unconditional model they leak into the samples unless the model augments its fakes too.
LEAKING = ("translation", "cutout", "color")


#: ``ganzoo train --augment``: the loader's, and ``ada``, the engine's adaptive augmentation of
#: every image D sees (ganzoo.ada).
TRAIN_AUGMENTS = (*LOADER_AUGMENTS, "ada")


def parse_train_augments(text: str) -> tuple[tuple[str, ...], bool]:
    """``--augment``'s text: the loader's augmentations, and whether ADA is on."""
    names = parse_policy(text, TRAIN_AUGMENTS)
    return tuple(name for name in names if name != "ada"), "ada" in names


def _shared_draws(n: int, device: torch.device) -> Callable[[str], torch.Tensor]:
    """``factor(name)`` for _color: one uniform draw per example and name, the same on every call."""
    draws: dict[str, torch.Tensor] = {}

    def shared(factor_name: str) -> torch.Tensor:
        if factor_name not in draws:
            draws[factor_name] = torch.rand(n, 1, 1, 1, device=device)
        return draws[factor_name]

    return shared


def augment_batch(batch: dict[str, torch.Tensor], names: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Augment every image of a batch on its device, with the same transformation for all the
    images of one example (a Pix2Pix input and its target are flipped or shifted together)."""
    keys = [key for key, value in batch.items() if value.ndim == 4 and value.is_floating_point()]
    if not names or not keys:
        return batch
    channels = [batch[key].shape[1] for key in keys]
    stacked = torch.cat([batch[key] for key in keys], dim=1)
    n = stacked.shape[0]
    for name in names:
        if name == "flip":
            flipped = torch.rand(n, 1, 1, 1, device=stacked.device) < 0.5
            stacked = torch.where(flipped, stacked.flip(3), stacked)
        elif name == "color":
            shared = _shared_draws(n, stacked.device)
            stacked = torch.cat([_color(part, shared) for part in stacked.split(channels, dim=1)], dim=1)
        else:
            stacked = _AUGMENTS[name](stacked)
    return {**batch, **dict(zip(keys, stacked.split(channels, dim=1)))}
