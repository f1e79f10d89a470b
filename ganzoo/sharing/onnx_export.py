"""``ganzoo export --format onnx``: a generator as an ONNX graph, checked at once by running it
in onnxruntime on fixed inputs against PyTorch.

What the graph takes and gives, by what the model does:

- samples from noise: ``noise`` (N, *the model's noise shape*) [and ``labels`` (N,) int64 for a
  class-conditional model] -> ``images`` (N, C, H, W);
- translates: ``images`` (N, C, H, W) -> ``translated`` (one direction: --direction);
- inpaints: ``images``, ``masks`` (N, 1, H, W; 1 = hole) [and ``exemplars``] -> ``inpainted``.

Images are floats in [-1, 1] both ways; the batch size N is dynamic."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.errors import GanzooError, UsageError, first_line
from ganzoo.protocols import Inpaints, SamplesConditionally, SamplesFromNoise, Translates
from ganzoo.training.inference import LoadedRun

#: The largest difference allowed between onnxruntime's output and PyTorch's, in the model's
#: [-1, 1] output range (float32 on the CPU: kernels that sum in another order differ by ~1e-6).
TOLERANCE = 1e-4
CHECK_BATCH = 3  # not the traced batch (2): the check proves the batch size is dynamic


class ExportError(GanzooError):
    """A model that cannot be exported, or whose export does not match PyTorch."""


@dataclass(frozen=True)
class Exported:
    path: Path
    inputs: tuple[str, ...]
    output: str
    max_difference: float


OUTPUT_NAMES = {"_Sampler": "images", "_Translator": "translated", "_Inpainter": "inpainted"}


class _Sampler(nn.Module):
    def __init__(self, model: nn.Module, conditional: bool):
        super().__init__()
        self.model, self.conditional = model, conditional

    def forward(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        model: Any = self.model  # (nn.Module's attribute typing hides the protocol's method)
        return model.sample(noise, labels if self.conditional else None)


class _Translator(nn.Module):
    def __init__(self, model: nn.Module, direction: str):
        super().__init__()
        self.model, self.direction = model, direction

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        model: Any = self.model
        return model.translate(images, self.direction)


class _Inpainter(nn.Module):
    def __init__(self, model: nn.Module, exemplars: bool):
        super().__init__()
        self.model, self.exemplars = model, exemplars

    def forward(self, images: torch.Tensor, masks: torch.Tensor, exemplars: torch.Tensor | None = None) -> torch.Tensor:
        model: Any = self.model
        return model.inpaint(images, masks, exemplars if self.exemplars else None)


def example_inputs(loaded: LoadedRun, batch: int, direction: str | None) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """The wrapper that exposes the generator, and fixed inputs of ``batch`` examples."""
    model, data = loaded.model, loaded.data
    generator = torch.Generator().manual_seed(1234)
    shape = (batch, data.channels, data.resolution, data.resolution)
    if isinstance(model, SamplesFromNoise):
        conditional = isinstance(model, SamplesConditionally) and bool(data.classes)
        inputs = {"noise": model.noise(batch, generator)}
        if conditional:
            inputs["labels"] = torch.arange(batch) % len(data.classes)
        return _Sampler(model, conditional), inputs
    if isinstance(model, Translates):
        chosen = direction or model.directions[0]
        if chosen not in model.directions:
            raise UsageError(f"--direction must be one of {', '.join(model.directions)}, not '{chosen}'")
        return _Translator(model, chosen), {"images": torch.rand(shape, generator=generator) * 2 - 1}
    if isinstance(model, Inpaints):
        masks = torch.zeros(batch, 1, data.resolution, data.resolution)
        masks[..., data.resolution // 4 : data.resolution // 2, data.resolution // 4 : data.resolution // 2] = 1
        inputs = {"images": torch.rand(shape, generator=generator) * 2 - 1, "masks": masks}
        uses_exemplars = bool(getattr(model, "uses_exemplars", True))
        if uses_exemplars:
            inputs["exemplars"] = torch.rand(shape, generator=generator) * 2 - 1
        return _Inpainter(model, uses_exemplars), inputs
    raise UsageError(
        f"model '{loaded.model_entry.name}' has no generator to export (it neither samples, translates nor inpaints)"
    )


@contextmanager
def _quiet_unless_debugging() -> Iterator[None]:
    """torch.export and torch.onnx log warnings and whole graphs while they work, and more when
    they fail; the command's one line says what failed, and GANZOO_DEBUG=1 lets it all through."""
    if os.environ.get("GANZOO_DEBUG"):
        yield
        return
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)


def _root_reason(exc: BaseException) -> str:
    """The innermost cause of a failed export (torch.onnx wraps torch.export's reason in its
    advice), without the terminal colours torch puts in its messages."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return re.sub(r"\x1b\[[0-9;]*m", "", f"{type(exc).__name__}: {first_line(exc)}")


def export_onnx(loaded: LoadedRun, path: Path, direction: str | None = None) -> Exported:
    """Write the graph to ``path`` and check it; ExportError (with the figure) when it differs."""
    try:
        import onnxruntime  # lazy: an optional extra
    except ImportError:
        raise UsageError("export to ONNX needs onnx, onnxscript and onnxruntime: pip install 'ganzoo[onnx]'") from None
    loaded.model.cpu().eval()
    wrapper, inputs = example_inputs(loaded, 2, direction)
    wrapper.eval()
    # PyTorch's own answer first: a model may prepare constants on its first call (pix2pix draws
    # its test-time dropout masks), which the traced graph then holds as they are
    _, check = example_inputs(loaded, CHECK_BATCH, direction)
    with torch.no_grad():
        expected = wrapper(*check.values()).numpy()
    batch = torch.export.Dim("batch", min=1, max=4096)
    dynamic = {name: {0: batch} for name in inputs}
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with torch.no_grad(), _quiet_unless_debugging():
            torch.onnx.export(
                wrapper,
                tuple(inputs.values()),
                str(path),
                input_names=list(inputs),
                output_names=[OUTPUT_NAMES[type(wrapper).__name__]],
                dynamic_shapes=dynamic,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
    except Exception as exc:  # torch.export's and onnxscript's failures have no common base class
        path.unlink(missing_ok=True)
        raise ExportError(
            f"model '{loaded.model_entry.name}' cannot be exported to ONNX: {_root_reason(exc)} "
            "(GANZOO_DEBUG=1 shows where)"
        ) from exc
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(None, {name: value.numpy() for name, value in check.items()})[0]
    except Exception as exc:  # onnxruntime's errors are its own pybind classes
        first = first_line(exc)
        if "invalid dimensions" in first:  # torch.export specialised the batch size it was traced with
            path.unlink(missing_ok=True)  # a graph of batches of 2 only is not what was asked for
            raise ExportError(
                f"model '{loaded.model_entry.name}' cannot be exported with a dynamic batch size: its code "
                "turns the batch size into a number (len(x), a loop over the images, a reshape by the batch "
                "size taken as an int), so the graph holds only batches of 2"
            ) from None
        raise ExportError(
            f"onnxruntime cannot run the exported graph of '{loaded.model_entry.name}' on a batch of "
            f"{CHECK_BATCH}: {first}"
        ) from None
    if got.shape != expected.shape:
        raise ExportError(f"the ONNX graph gives shape {got.shape} where PyTorch gives {expected.shape}")
    difference = float(abs(got - expected).max())
    if not difference <= TOLERANCE:
        raise ExportError(
            f"the ONNX graph differs from PyTorch by up to {difference:.3g} (tolerance {TOLERANCE:g}) "
            f"on {CHECK_BATCH} fixed inputs: '{path}' is kept for inspection"
        )
    return Exported(path, tuple(inputs), OUTPUT_NAMES[type(wrapper).__name__], difference)
