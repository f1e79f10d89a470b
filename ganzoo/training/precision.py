"""Mixed precision: the autocast each phase runs under, and the one gradient scaler of fp16.

bf16 keeps fp32's exponent range, so it needs no scaling; fp16 does: each phase's loss is
scaled before backward and the optimizer step skipped (and the scale lowered) when a gradient
overflowed. One scaler serves every phase and is updated after each phase's step, because two
phases may step one optimizer (a lazy R1 phase and the D phase both step D).
"""

from __future__ import annotations

from contextlib import nullcontext

import torch

from ganzoo.errors import UsageError
from ganzoo.training.settings import PRECISIONS

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_precision(name: str, device: torch.device) -> str:
    """``auto``: bf16 on CUDA devices that compute it natively (Ampere and later), fp32
    elsewhere (CPUs without bf16 units run it slower than fp32)."""
    if name not in PRECISIONS:
        raise UsageError(f"--precision must be one of {', '.join(PRECISIONS)}; got '{name}'")
    if name == "auto":
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False) else "fp32"
    if name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UsageError(
            f"--precision bf16: {torch.cuda.get_device_name(device)} has no bfloat16 support; use fp16 or fp32"
        )
    if name != "fp32" and device.type == "mps":
        raise UsageError(f"--precision {name} is not supported on Apple MPS here; use fp32")
    return name


class Precision:
    def __init__(self, name: str, device: torch.device):
        self.name, self.device = name, device
        self.dtype = _DTYPES.get(name)
        self.scaler = torch.amp.GradScaler(device.type, enabled=name == "fp16")

    def autocast(self, enabled: bool = True):
        """Autocast to this precision's dtype (a no-op in fp32, or when not ``enabled``)."""
        if self.dtype is None or not enabled:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor, parameters: list[torch.Tensor]) -> None:
        """Back-propagate ``loss`` (scaled, in fp16) into ``parameters`` only, adding to their
        gradients (micro-batches of one step accumulate)."""
        self.scaler.scale(loss).backward(inputs=parameters)

    def step(self, optimizer: torch.optim.Optimizer, parameters: list[torch.Tensor], clip_grad: float | None) -> None:
        """Step ``optimizer`` on the gradients (skipped in fp16 when one overflowed)."""
        scaler = self.scaler
        if clip_grad is not None:
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(parameters, clip_grad)
        scaler.step(optimizer)
        scaler.update()

    def state_dict(self) -> dict:
        return self.scaler.state_dict() if self.scaler.is_enabled() else {}

    def load_state_dict(self, state: dict) -> None:
        if state and self.scaler.is_enabled():
            self.scaler.load_state_dict(state)
