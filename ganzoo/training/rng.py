"""Every random stream a run draws from, captured as tensors and restored exactly."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch


def capture_rng() -> dict[str, Any]:
    version, internal, gauss_next = random.getstate()
    numpy_state = np.random.get_state()  # legacy=True: a tuple while the global generator is MT19937
    if not isinstance(numpy_state, tuple):
        raise TypeError(f"numpy's global random state is not MT19937's tuple: {type(numpy_state).__name__}")
    kind, keys, position, has_gauss, cached = numpy_state
    state = {
        "torch": torch.get_rng_state(),
        "python": {"version": version, "state": torch.tensor(internal, dtype=torch.int64), "gauss_next": gauss_next},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    python = state["python"]
    random.setstate((python["version"], tuple(python["state"].tolist()), python["gauss_next"]))
    numpy = state["numpy"]
    np.random.set_state(
        (numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["position"], numpy["has_gauss"], numpy["cached"])
    )
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


@contextmanager
def rng_untouched() -> Iterator[None]:
    """Whatever the block draws (building an evaluator's networks, sampling for a metric), every
    global random stream is left as it was: work outside training never changes training."""
    state = capture_rng()
    try:
        yield
    finally:
        restore_rng(state)
