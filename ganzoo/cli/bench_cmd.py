"""`ganzoo bench data` and `ganzoo bench MODEL`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from ganzoo.cli.output import console, print_json

def bench_command(
    target: Annotated[str, typer.Argument(help="data, or a model name (see `ganzoo list models`).")],
    resolution: Annotated[Optional[int], typer.Option(help="Square size (default: 64 for data, 256 for a model).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Images per batch (default: 64 for data, 1 for a model).")] = None,
    steps: Annotated[int, typer.Option(help="Timed training iterations of a model (after one warm-up).")] = 3,
    device: Annotated[str, typer.Option(help="A model's device: auto, cpu, cuda or cuda:N.")] = "auto",
    jpegs: Annotated[int, typer.Option(help="data: synthetic 178x218 JPEGs to prepare and to feed the baseline.")] = 2000,
    sizes: Annotated[str, typer.Option(help="data: cache sizes (images) whose resident memory is compared.")] = "10000,100000",
    workdir: Annotated[Optional[Path], typer.Option(help="data: where the JPEGs and caches go (default: a temporary folder).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure speed and memory: `ganzoo bench data` (the data pipeline) or `ganzoo bench MODEL`
    (seconds per training iteration). Results are collected in docs/benchmarks.md."""
    if target != "data":
        return _bench_model(target, resolution or 256, batch_size or 1, steps, device, as_json)
    resolution, batch_size = resolution or 64, batch_size or 64
    from ganzoo.bench.data import BATCHES_READ, as_dict, run
    from ganzoo.errors import UsageError

    try:
        counts = tuple(int(s) for s in sizes.split(","))
    except ValueError:
        raise UsageError(f"--sizes expects comma-separated integers, got '{sizes}'") from None
    with tempfile.TemporaryDirectory(prefix="ganzoo-bench-") as scratch:
        result = run(workdir or Path(scratch), jpegs, resolution, batch_size, counts)
    if as_json:
        print_json(as_dict(result))
        return
    console.print(f"prepare ({jpegs} JPEGs 178x218 -> {resolution}px, {result.cpu_count} cores): "
                  f"{result.prepare_images_per_s:,.0f} images/s", highlight=False)
    console.print(f"loader, batch {batch_size}: cache {result.cache_images_per_s:,.0f} images/s, ImageFolder+DataLoader "
                  f"{result.imagefolder_images_per_s:,.0f} images/s ({result.speedup:.1f}x)", highlight=False)
    for count, rss in result.rss_mb.items():
        console.print(f"resident memory after {BATCHES_READ} random batches from {int(count):,} images: "
                      f"+{rss['VmRSS']:.1f} MB (own {rss['RssAnon']:.1f}, file pages {rss['RssFile']:.1f})", highlight=False)
    small, large = (result.rss_mb[c]["VmRSS"] for c in counts[:2]) if len(counts) > 1 else (0.0, 0.0)
    if len(counts) > 1:
        console.print(f"growth from {counts[0]:,} to {counts[1]:,} images: {large - small:+.1f} MB", highlight=False)


def _bench_model(name: str, resolution: int, batch_size: int, steps: int, device: str, as_json: bool) -> None:
    from ganzoo.bench.model import as_dict, run
    from ganzoo.errors import UsageError
    from ganzoo.plugins import load_plugins
    from ganzoo.training.devices import resolve_device

    spec = load_plugins().models.get(name)
    if resolution not in spec.resolutions:
        raise UsageError(f"--resolution {resolution}: {name} supports {', '.join(map(str, spec.resolutions))}")
    if steps < 1 or batch_size < 1:
        raise UsageError("--steps and --batch-size must be positive")
    result = run(name, resolution, batch_size, steps, resolve_device(device))
    if as_json:
        print_json(as_dict(result))
        return
    memory = f", peak CUDA memory {result.peak_cuda_memory_mb:,.0f} MB" if result.peak_cuda_memory_mb else ""
    console.print(f"{name} at {resolution}x{resolution}, batch {batch_size}, on {result.device}: "
                  f"{result.seconds_per_iteration:.3f} s/iteration (mean of {steps}; "
                  f"{result.parameters_millions:.1f}M parameters{memory})", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
