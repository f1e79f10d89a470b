"""`ganzoo bench data` and `ganzoo bench MODEL`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ganzoo.cli.output import console, print_json
from ganzoo.errors import UsageError
from ganzoo.plugins import load_plugins


def bench_command(
    target: Annotated[str, typer.Argument(help="data, train, or a model name (see `ganzoo list models`).")],
    model: Annotated[
        str | None, typer.Argument(help="train: the model whose training loop is timed.", show_default=False)
    ] = None,
    resolution: Annotated[int | None, typer.Option(help="Square size (default: 64 for data, 256 for a model).")] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Images per batch (default: 64 for data, 1 for a model).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Timed training iterations of a model (after one warm-up).")] = 3,
    device: Annotated[str, typer.Option(help="A model's device: auto, cpu, cuda or cuda:N.")] = "auto",
    compare: Annotated[
        bool,
        typer.Option("--compare", help="Time a plain eager fp32 loop and ganzoo's fastest configuration side by side."),
    ] = False,
    precision: Annotated[
        str | None, typer.Option(help="fp32, bf16, fp16 or auto (default: fp32; auto with --compare and for train).")
    ] = None,
    compile: Annotated[
        bool | None,
        typer.Option(
            "--compile/--no-compile",
            help="Compile the networks (default: off; with --compare on CUDA).",
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="train: the dataset (default: the model's).")] = None,
    data_on_device: Annotated[str, typer.Option(help="train: auto, yes or no (as `ganzoo train`).")] = "auto",
    jpegs: Annotated[
        int, typer.Option(help="data: synthetic 178x218 JPEGs to prepare and to feed the baseline.")
    ] = 2000,
    sizes: Annotated[
        str, typer.Option(help="data: cache sizes (images) whose resident memory is compared.")
    ] = "10000,100000",
    workdir: Annotated[
        Path | None, typer.Option(help="data: where the JPEGs and caches go (default: a temporary folder).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure speed and memory: `ganzoo bench data` (the data pipeline) or `ganzoo bench MODEL`
    (seconds per training iteration). Results are collected in docs/benchmarks.md."""
    if target == "train":
        if model is None:
            raise typer.BadParameter("name the model: ganzoo bench train MODEL", param_hint="MODEL")
        return _bench_train(
            model,
            dataset,
            resolution,
            batch_size or 64,
            max(steps, 30),
            device,
            precision or "auto",
            bool(compile),
            data_on_device,
            as_json,
        )
    if model is not None:
        raise typer.BadParameter(
            f"unexpected '{model}': only `ganzoo bench train MODEL` takes a second name", param_hint="MODEL"
        )
    if target != "data":
        _check_model(target, resolution or 256, batch_size or 1, steps)
        if compare:
            return _bench_compare(
                target,
                resolution or 256,
                batch_size or 1,
                steps,
                device,
                precision or "auto",
                _compile_default(device) if compile is None else compile,
                as_json,
            )
        return _bench_model(
            target, resolution or 256, batch_size or 1, steps, device, precision or "fp32", bool(compile), as_json
        )
    resolution, batch_size = resolution or 64, batch_size or 64
    from ganzoo.bench.data import BATCHES_READ, as_dict, run  # lazy: building the CLI must not import torch

    try:
        counts = tuple(int(s) for s in sizes.split(","))
    except ValueError:
        raise UsageError(f"--sizes expects comma-separated integers, got '{sizes}'") from None
    with tempfile.TemporaryDirectory(prefix="ganzoo-bench-") as scratch:
        result = run(workdir or Path(scratch), jpegs, resolution, batch_size, counts)
    if as_json:
        print_json(as_dict(result))
        return
    console.print(
        f"prepare ({jpegs} JPEGs 178x218 -> {resolution}px, {result.cpu_count} cores): "
        f"{result.prepare_images_per_s:,.0f} images/s",
        highlight=False,
    )
    console.print(
        f"loader, batch {batch_size}: cache {result.cache_images_per_s:,.0f} images/s, ImageFolder+DataLoader "
        f"{result.imagefolder_images_per_s:,.0f} images/s ({result.speedup:.1f}x)",
        highlight=False,
    )
    for count, rss in result.rss_mb.items():
        console.print(
            f"resident memory after {BATCHES_READ} random batches from {int(count):,} images: "
            f"+{rss['VmRSS']:.1f} MB (own {rss['RssAnon']:.1f}, file pages {rss['RssFile']:.1f})",
            highlight=False,
        )
    small, large = (result.rss_mb[c]["VmRSS"] for c in counts[:2]) if len(counts) > 1 else (0.0, 0.0)
    if len(counts) > 1:
        console.print(f"growth from {counts[0]:,} to {counts[1]:,} images: {large - small:+.1f} MB", highlight=False)


def _compile_default(device: str) -> bool:
    """--compare compiles on CUDA; on CPUs compiled DCGAN steps measured slower than eager ones
    (docs/benchmarks.md), so the fastest CPU configuration is eager."""
    from ganzoo.training.devices import resolve_device  # lazy: building the CLI must not import torch

    return resolve_device(device).type == "cuda"


def _check_model(name: str, resolution: int, batch_size: int, steps: int) -> None:
    spec = load_plugins().models.get(name)
    if resolution not in spec.resolutions:
        raise UsageError(f"--resolution {resolution}: {name} supports {', '.join(map(str, spec.resolutions))}")
    if steps < 1 or batch_size < 1:
        raise UsageError("--steps and --batch-size must be positive")


def _bench_model(
    name: str, resolution: int, batch_size: int, steps: int, device: str, precision: str, compiled: bool, as_json: bool
) -> None:
    from ganzoo.bench.model import as_dict, run  # lazy: building the CLI must not import torch
    from ganzoo.training.devices import resolve_device

    result = run(name, resolution, batch_size, steps, resolve_device(device), precision, compiled)
    if as_json:
        print_json(as_dict(result))
        return
    memory = f", peak CUDA memory {result.peak_cuda_memory_mb:,.0f} MB" if result.peak_cuda_memory_mb else ""
    how = result.precision + (", compiled" if compiled else "")
    console.print(
        f"{name} at {resolution}x{resolution}, batch {batch_size}, on {result.device} ({how}): "
        f"{result.seconds_per_iteration:.4f} s/iteration (mean of {steps}; "
        f"{result.parameters_millions:.1f}M parameters{memory})",
        highlight=False,
    )


def _bench_compare(
    name: str, resolution: int, batch_size: int, steps: int, device: str, precision: str, compiled: bool, as_json: bool
) -> None:
    from ganzoo.bench.model import as_dict, compare  # lazy: building the CLI must not import torch
    from ganzoo.training.devices import resolve_device

    result = compare(name, resolution, batch_size, steps, resolve_device(device), precision, compiled)
    if as_json:
        print_json(as_dict(result))
        return
    table = Table(
        title=f"{name} at {resolution}x{resolution}, batch {batch_size}, on {result.device}, "
        f"mean of {steps} steps" + (f", {result.gflop_per_step:,.1f} GFLOP/step" if result.gflop_per_step else "")
    )
    for column in ("loop", "img/s", "ms/step", "peak memory (MB)", "GFLOP/step", "TFLOP/s"):
        table.add_column(column, justify="left" if column == "loop" else "right")
    for timing, label in ((result.plain, "plain eager fp32"), (result.fast, f"ganzoo ({result.fast_settings})")):
        table.add_row(
            label,
            f"{timing.images_per_second:,.1f}",
            f"{timing.ms_per_step:,.2f}",
            f"{timing.peak_memory_mb:,.0f}" if timing.peak_memory_mb is not None else "-",
            f"{timing.gflop_per_step:,.1f}" if timing.gflop_per_step is not None else "-",
            f"{timing.tflops:.3f}" if timing.tflops is not None else "-",
        )
    console.print(table)
    console.print(f"ganzoo / plain: {result.speedup:.2f}x", highlight=False)


def _bench_train(
    name: str,
    dataset: str | None,
    resolution: int | None,
    batch_size: int,
    steps: int,
    device: str,
    precision: str,
    compiled: bool,
    data_on_device: str,
    as_json: bool,
) -> None:
    from ganzoo.bench.loop import as_dict, run  # lazy: building the CLI must not import torch

    spec = load_plugins().models.get(name)
    result = run(
        name,
        dataset,
        resolution or min(spec.resolutions, key=lambda r: abs(r - 64)),
        batch_size,
        steps,
        device,
        precision,
        compiled,
        data_on_device,
    )
    if as_json:
        print_json(as_dict(result))
        return
    console.print(
        f"{name} on {result.dataset} at {result.resolution}x{result.resolution}, batch {batch_size}, "
        f"on {result.device} ({result.precision}{', compiled' if compiled else ''}, data path "
        f"{result.data_path}):",
        highlight=False,
    )
    console.print(
        f"  training loop (data, EMA, guard, logging): {result.loop_images_per_second:,.1f} img/s", highlight=False
    )
    console.print(
        f"  model step alone: {result.step_images_per_second:,.1f} img/s; the loop runs at "
        f"{100 * result.loop_share:.0f}% of it",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
