"""`ganzoo bench data` (and the model benchmarks plugins add)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from ganzoo.cli.output import console, print_json

bench_app = typer.Typer(help="Measure speed and memory (results for docs/benchmarks.md).", no_args_is_help=True)


@bench_app.command("data")
def bench_data_command(
    jpegs: Annotated[int, typer.Option(help="Synthetic 178x218 JPEGs to prepare and to feed the baseline.")] = 2000,
    resolution: Annotated[int, typer.Option(help="Square size in pixels.")] = 64,
    batch_size: Annotated[int, typer.Option(help="Images per batch.")] = 64,
    sizes: Annotated[str, typer.Option(help="Cache sizes (images) whose resident memory is compared.")] = "10000,100000",
    workdir: Annotated[Optional[Path], typer.Option(help="Where the JPEGs and caches go (default: a temporary folder).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Prepare speed, cache-loader vs ImageFolder images/s, and memory at two dataset sizes."""
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


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
