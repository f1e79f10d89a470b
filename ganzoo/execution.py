"""How a network's forward runs: compiled or eager, under autocast or in fp32.

Low in the layers so that the shared blocks plugins import (``ganzoo.layers.full_precision``,
``ganzoo.regularization.double_backward``) can force fp32 or eager execution without importing
the training loop, which compiles the networks (``--compile``) and sets the autocast
(``--precision``).

Networks are compiled with ``nn.Module.compile`` so their parameter names, and so checkpoints,
stay the same. torch.compile's autograd has no double backward, so penalties that
differentiate a gradient (R1, WGAN-GP, path length) run the networks eagerly inside
:func:`eager_networks`; so does everything outside a training step (sample grids,
evaluation), which would otherwise compile the networks again in eval mode.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import torch
from torch import nn

_compiled: weakref.WeakSet[nn.Module] = weakref.WeakSet()


def compile_networks(model: nn.Module, mode: str) -> list[str]:
    """Compile every direct submodule of ``model`` that holds parameters; returns their names.
    ``reduce-overhead`` adds CUDA graphs (shapes are static in training: fixed batch size,
    dropped last batch)."""
    names = []
    for name, child in model.named_children():
        if next(child.parameters(), None) is None:
            continue
        child.compile(mode=mode, dynamic=False)
        _compiled.add(child)
        names.append(name)
    return names


@contextmanager
def eager_networks() -> Iterator[None]:
    """Within the block every compiled network runs its ordinary (eager) forward."""
    stashed = [
        (module, module._compiled_call_impl)
        for module in list(_compiled)
        if getattr(module, "_compiled_call_impl", None) is not None
    ]
    try:
        for module, _ in stashed:
            module._compiled_call_impl = None
        yield
    finally:
        for module, compiled in stashed:
            module._compiled_call_impl = compiled


@contextmanager
def autocast_off() -> Iterator[None]:
    """Within the block nothing is autocast (inputs made under autocast may still be bf16/fp16:
    cast them with ``.float()``)."""
    with ExitStack() as stack:
        for device_type in ("cuda", "cpu"):
            if torch.is_autocast_enabled(device_type):
                stack.enter_context(torch.autocast(device_type, enabled=False))
        yield
