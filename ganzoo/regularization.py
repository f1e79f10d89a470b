"""Lazy regularisation (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN", appendix B): a penalty computed every ``every`` steps, in its own phase, instead of
at every step.

Declare it as its own phase on the network's optimizer, e.g.
``Phase("D_reg", optimizer="D", every=16)``, weight the penalty by ``every`` in that phase (so it
keeps its per-step strength), and build the shared optimizer with :func:`lazy_adam_settings`:
that optimizer now takes ``every + 1`` steps where it took ``every``, so its learning rate and
its Adam betas are scaled to keep the same effective dynamics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from ganzoo.execution import autocast_off, eager_networks

__all__ = ["double_backward", "input_gradients", "lazy_adam_settings", "lazy_ratio"]


@contextmanager
def double_backward() -> Iterator[None]:
    """The block runs in fp32 and with every network uncompiled: for penalties that
    differentiate through a gradient. fp16 gradients of a logit sum underflow, and
    torch.compile's autograd has no double backward. (The loop's gradient scaler scales the
    final loss only, so what is computed here is never scaled.) A phase declared with
    ``Phase(..., double_backward=True)`` runs entirely like this."""
    with autocast_off(), eager_networks():
        yield


def input_gradients(critic: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    """d critic(images).sum() / d images, flattened per image and kept in the graph so a penalty
    on it trains the critic; computed in fp32 by the eager networks (see :func:`double_backward`)."""
    with double_backward():
        images = images.detach().float().requires_grad_(True)
        (gradients,) = torch.autograd.grad(critic(images).sum(), images, create_graph=True)
    return gradients.flatten(1)


def lazy_ratio(every: int) -> float:
    """``c = every / (every + 1)``: the share of an optimizer's steps that are not the penalty's."""
    if every < 1:
        raise ValueError(f"a lazy regularisation interval must be >= 1, got {every}")
    return every / (every + 1)


def lazy_adam_settings(lr: float, betas: tuple[float, float], every: int) -> tuple[float, tuple[float, float]]:
    """Learning rate and Adam betas for an optimizer shared with a penalty phase run every
    ``every`` steps: ``lr * c`` and ``(beta1 ** c, beta2 ** c)``."""
    c = lazy_ratio(every)
    return lr * c, (betas[0] ** c, betas[1] ** c)
