"""``ganzoo bench MODEL``: seconds per training iteration of any registered model.

The model is built with its default options at the given resolution, fed a fixed random batch
of its data kind, and stepped like the training loop does (each phase: zero grads, loss,
backward into its optimizer's parameters, optimizer step, lazy phases at their interval: the
loop's own PhaseRunner); the first iteration is a warm-up and is not timed. On CUDA the clock waits for the device before reading."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch

from ganzoo.options import build_options
from ganzoo.plugins import load_plugins
from ganzoo.protocols import DataInfo
from ganzoo.specs import resolve
from ganzoo.training.phases import PhaseRunner, checked_phases


@dataclass
class ModelBenchmark:
    model: str
    resolution: int
    batch_size: int
    device: str
    seconds_per_iteration: float
    iterations: int
    parameters_millions: float
    peak_cuda_memory_mb: float | None


#: Benchmark data is labelled with this many classes, so conditional models run too.
CLASSES = tuple(str(k) for k in range(10))


def random_batch(kind: str, batch_size: int, channels: int, resolution: int, device) -> dict[str, torch.Tensor]:
    shape = (batch_size, channels, resolution, resolution)
    make = lambda: torch.rand(shape, device=device) * 2 - 1  # noqa: E731
    if kind in ("paired", "unpaired"):
        return {"A": make(), "B": make()}
    return {"image": make(), "label": torch.randint(len(CLASSES), (batch_size,), device=device)}


def run(name: str, resolution: int, batch_size: int, steps: int, device: torch.device) -> ModelBenchmark:
    plugins = load_plugins()
    spec = plugins.models.get(name)
    kind = plugins.data_kind(spec)
    options = build_options(resolve(spec.options), {}, owner=f"model '{name}'")
    info = DataInfo(kind=kind, channels=3, resolution=resolution, size=batch_size, name="random",
                    classes=CLASSES if kind == "images" else ())
    torch.manual_seed(0)
    model = resolve(spec.build)(options, info).to(device).train()
    optimizers = model.configure_optimizers()
    runner = PhaseRunner(model, optimizers, checked_phases(model, optimizers, name))
    batch = random_batch(kind, batch_size, 3, resolution, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    count = 0

    def iteration() -> None:
        nonlocal count
        runner.step(count, lambda: batch, lambda logs: None)
        count += 1

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    iteration()  # warm-up: allocator, cuDNN autotuning
    sync()
    started = time.perf_counter()
    for _ in range(steps):
        iteration()
    sync()
    seconds = (time.perf_counter() - started) / steps
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    count = sum(p.numel() for p in model.parameters()) / 1e6
    return ModelBenchmark(name, resolution, batch_size, str(device), round(seconds, 4), steps, round(count, 2),
                          round(peak, 1) if peak is not None else None)


def as_dict(result: ModelBenchmark) -> dict:
    return asdict(result)
