"""Device selection and seeding."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from ganzoo.errors import UsageError


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then the CPU; an unavailable explicit choice is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"--device '{name}' is not a device: use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device {name}: no CUDA device is available here (try --device cpu)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UsageError(
            f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s), "
            f"cuda:0 to cuda:{torch.cuda.device_count() - 1}"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps: Apple's MPS backend is not available here")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def configure_backends(device: torch.device, deterministic: bool) -> dict:
    """Process-wide switches for a run (set at every run: one process may train several).

    On CUDA, fp32 matrix products and convolutions use TF32 tensor cores (a 10-bit mantissa
    in the products, fp32 accumulation: what cuDNN and most training code do by default).
    ``deterministic`` selects deterministic algorithms everywhere (cuDNN, cuBLAS with a fixed
    workspace, PyTorch's deterministic mode): a run interrupted and resumed then equals one
    that was not, bitwise, on a GPU too. Without it cuDNN picks the fastest algorithm per
    shape (benchmark mode), some of which sum in a varying order."""

    previous = backend_state()
    if deterministic:
        fix_cublas_workspace()
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = device.type == "cuda" and not deterministic
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return previous


def fix_cublas_workspace() -> None:
    """cuBLAS's fixed workspace, which its deterministic mode needs. Read when cuBLAS creates its
    handle, so a run calls this before its first CUDA matrix product (before building a model)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def backend_state() -> dict:
    return {
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "benchmark": torch.backends.cudnn.benchmark,
        "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_tf32": torch.backends.cudnn.allow_tf32,
    }


def restore_backends(state: dict) -> None:
    """Put back what :func:`configure_backends` changed (a notebook's later work is its own)."""
    torch.use_deterministic_algorithms(state["deterministic"])
    torch.backends.cudnn.deterministic = state["cudnn_deterministic"]
    torch.backends.cudnn.benchmark = state["benchmark"]
    torch.backends.cuda.matmul.allow_tf32 = state["matmul_tf32"]
    torch.backends.cudnn.allow_tf32 = state["cudnn_tf32"]
