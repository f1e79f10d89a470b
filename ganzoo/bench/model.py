"""``ganzoo bench MODEL``: the speed of any registered model's training iteration.

The model is built with its default options at the given resolution, fed a fixed random batch
made from its task's batch schema (so any registered model runs, a plugin task's too), and
stepped like the training loop does (the loop's own PhaseRunner: each phase's loss backward
into its optimizer's parameters only, lazy phases at their interval);
warm-up iterations (allocator, cuDNN autotuning, compiling) are not timed. On CUDA the clock
waits for the device before reading.

``--compare`` times, in one process, the same networks trained two ways: a plain eager fp32
loop as a tutorial writes it (zero_grad, forward, backward into every parameter, step) and
ganzoo's fastest configuration (``--precision auto``, compiled networks, channels-last on
CUDA); the FLOPs of one iteration are counted once, so both get an achieved TFLOP/s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from ganzoo.data.convert import to_model_range
from ganzoo.execution import compile_networks
from ganzoo.options import build_options
from ganzoo.plugins import load_plugins
from ganzoo.protocols import BatchSchema, DataInfo, StepContext
from ganzoo.specs import resolve
from ganzoo.training.devices import configure_backends, restore_backends
from ganzoo.training.phases import PhaseRunner, checked_phases, synchronize
from ganzoo.training.precision import Precision, resolve_precision

WARMUP = 3  # untimed iterations: with --compile, every phase must have run before the clock starts


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
    precision: str = "fp32"
    compiled: bool = False


@dataclass
class Timing:
    """One way of training, measured."""

    name: str
    images_per_second: float
    ms_per_step: float
    peak_memory_mb: float | None  # CUDA: allocated by torch; CPU: the process's resident high-water mark
    gflop_per_step: float | None  # counted on this loop's own step (ganzoo's skips gradients nobody uses)
    tflops: float | None


@dataclass
class Comparison:
    model: str
    resolution: int
    batch_size: int
    device: str
    gflop_per_step: float | None
    plain: Timing
    fast: Timing
    fast_settings: str
    speedup: float


#: Benchmark data is labelled with this many classes, so conditional models run too.
CLASSES = tuple(str(k) for k in range(10))


def random_batch(schema: BatchSchema, info: DataInfo, batch_size: int, device) -> dict[str, torch.Tensor]:
    """A batch of every key the schema declares for ``info`` (labels too), random within each
    kind's stored range and converted as the training loop converts a dataset's batch."""
    stored = {}
    for key in schema.keys_for(info):
        shape = key.shape(info, batch_size)
        if key.kind == "image":
            stored[key.name] = torch.randint(0, 256, shape, dtype=torch.uint8)
        elif key.kind == "mask":  # a quarter of the pixels are holes
            stored[key.name] = (torch.rand(shape) < 0.25).to(torch.uint8) * 255
        elif key.kind == "label":
            stored[key.name] = torch.randint(info.num_classes, shape)
        else:  # attributes
            stored[key.name] = (torch.rand(shape) < 0.5).float()
    return to_model_range(stored, device, masks=schema.masks)


def build(
    name: str, resolution: int, batch_size: int, device: torch.device, channels_last: bool = False, channels: int = 3
):
    """The model (seeded, default options), its optimizers and phases, and a random batch."""
    plugins = load_plugins()
    spec = plugins.models.get(name)
    kind = plugins.data_kind(spec)  # (an unregistered task is a one-line error here)
    options = build_options(resolve(spec.options), {}, owner=f"model '{name}'")
    info = DataInfo(
        kind=kind, channels=channels, resolution=resolution, size=batch_size, name="random", classes=CLASSES
    )
    torch.manual_seed(0)
    model = resolve(spec.build)(options, info).to(device).train()
    batch = random_batch(plugins.tasks.get(spec.task).batch, info, batch_size, device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        batch = {k: v.contiguous(memory_format=torch.channels_last) if v.ndim == 4 else v for k, v in batch.items()}
    optimizers = model.configure_optimizers()
    return model, optimizers, checked_phases(model, optimizers, name), batch


def timed(iteration: Callable[[int], None], steps: int, device: torch.device, warmup: int = 1) -> float:
    """Mean seconds per iteration over ``steps`` after ``warmup`` untimed ones."""
    for index in range(warmup):
        iteration(index)
    synchronize(device)
    started = time.perf_counter()
    for index in range(warmup, warmup + steps):
        iteration(index)
    synchronize(device)
    return (time.perf_counter() - started) / steps


def run(
    name: str,
    resolution: int,
    batch_size: int,
    steps: int,
    device: torch.device,
    precision: str = "fp32",
    compiled: bool = False,
    channels: int = 3,
) -> ModelBenchmark:
    """The model step alone, as ``ganzoo train`` runs it with these settings."""
    configure_backends(device, deterministic=False)
    precision = resolve_precision(precision, device)
    model, optimizers, phases, batch = build(
        name, resolution, batch_size, device, channels_last=device.type == "cuda", channels=channels
    )
    if compiled:
        compile_networks(model, "default")
    runner = PhaseRunner(model, optimizers, phases, precision=Precision(precision, device), batch_size=batch_size)
    reset_peak_memory(device)
    seconds = timed(
        lambda i: runner.step(i, lambda: batch, lambda logs: None), steps, device, warmup=WARMUP if compiled else 1
    )
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    count = sum(p.numel() for p in model.parameters()) / 1e6
    return ModelBenchmark(
        name,
        resolution,
        batch_size,
        str(device),
        round(seconds, 4),
        steps,
        round(count, 2),
        round(peak, 1) if peak is not None else None,
        precision,
        compiled,
    )


def plain_iteration(model, optimizers, phases, batch, batch_size: int) -> Callable[[int], None]:
    """A tutorial's training iteration: per phase, zero_grad, forward, backward (into every
    parameter: the other network's gradients are computed and thrown away), step."""

    def iteration(index: int) -> None:
        ctx = StepContext(step=index, batch_size=batch_size)  # as the engine's: per-image schedules read it
        for phase in phases:
            if phase.runs_at(index):
                optimizer = optimizers[phase.optimizer]
                optimizer.zero_grad()
                model.phase_loss(phase, batch, ctx).loss.backward()
                optimizer.step()

    return iteration


def count_flops(iteration: Callable[[int], None], index: int) -> float | None:
    """FLOPs of iteration ``index`` (matrix products and convolutions, forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode  # lazy: a quarter second to import, for TFLOP/s only

    try:
        with FlopCounterMode(display=False) as counter:
            iteration(index)
    except Exception:  # an operator the counter cannot trace: report no TFLOP/s rather than fail
        return None
    return float(counter.get_total_flops())


def compare(
    name: str,
    resolution: int,
    batch_size: int,
    steps: int,
    device: torch.device,
    precision: str = "auto",
    compiled: bool = True,
) -> Comparison:
    """Both loops time the same step indices (after WARMUP untimed ones), so lazy phases fall
    alike; each loop's FLOPs are counted on its own first timed step."""
    previous = configure_backends(device, deterministic=False)
    try:
        # the tutorial's loop runs with PyTorch's defaults: no TF32 matrix products, no cuDNN autotuning
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark = False, False
        plain_model, plain_opts, phases, batch = build(name, resolution, batch_size, device)
        plain = plain_iteration(plain_model, plain_opts, phases, batch, batch_size)
        plain_timing = measure("plain eager fp32", plain, steps, device, batch_size, count_flops(plain, WARMUP))
        del plain_model, plain_opts

        configure_backends(device, deterministic=False)
        chosen = resolve_precision(precision, device)
        channels_last = device.type == "cuda"
        model, optimizers, phases, batch = build(name, resolution, batch_size, device, channels_last=channels_last)
        runner = PhaseRunner(model, optimizers, phases, precision=Precision(chosen, device), batch_size=batch_size)
        fast = lambda i: runner.step(i, lambda: batch, lambda logs: None)  # noqa: E731
        fast_flops = count_flops(fast, WARMUP)  # before compiling: the counter sees eager operators
        if compiled:
            compile_networks(model, "default")
        settings = ", ".join(
            [f"--precision {chosen}"]
            + (["--compile"] if compiled else [])
            + (["channels-last", "TF32"] if channels_last else [])
        )
        fast_timing = measure("ganzoo", fast, steps, device, batch_size, fast_flops)
    finally:
        restore_backends(previous)
    gflop = plain_timing.gflop_per_step
    return Comparison(
        name,
        resolution,
        batch_size,
        str(device),
        gflop,
        plain_timing,
        fast_timing,
        settings,
        round(fast_timing.images_per_second / plain_timing.images_per_second, 2),
    )


def measure(
    label: str, iteration: Callable[[int], None], steps: int, device: torch.device, batch_size: int, flops: float | None
) -> Timing:
    reset_peak_memory(device)
    seconds = timed(iteration, steps, device, warmup=WARMUP)
    return Timing(
        label,
        round(batch_size / seconds, 1),
        round(seconds * 1000, 2),
        peak_memory_mb(device),
        round(flops / 1e9, 2) if flops else None,
        round(flops / seconds / 1e12, 6) if flops else None,
    )


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    else:
        try:  # Linux: writing 5 resets the process's resident high-water mark (VmHWM)
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            pass


def peak_memory_mb(device: torch.device) -> float | None:
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def as_dict(result) -> dict:
    return asdict(result)
