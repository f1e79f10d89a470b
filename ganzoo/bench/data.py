"""``ganzoo bench data``: the data pipeline's speed and memory, against a torchvision baseline.

- prepare: JPEGs of 178x218 (CelebA's size), centre 108 crop, to 64x64 into the cache;
- loader: random batches from the prepared cache (as training reads it), converted to float [-1, 1] on the CPU,
  against ``ImageFolder`` + PIL + ``DataLoader`` (2 workers) on the same JPEGs doing the same
  crop/resize/normalise, in the same run;
- memory: resident memory of a fresh process that opens a 10k and a 100k cache and reads
  the same number of random batches from each.

The JPEGs are synthetic (smooth random colour fields plus noise, so they compress like
photos); the 10k/100k caches repeat the prepared images, since their content does not
change the loader's cost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganzoo.data import ShuffledIndices, TensorImages, to_model_range
from ganzoo.data.cache import RowFile
from ganzoo.data.prepare import image_dataset
from ganzoo.errors import UsageError
from ganzoo.protocols import DataInfo

BATCHES_READ = 200


@dataclass
class DataBenchmark:
    jpegs: int
    resolution: int
    batch_size: int
    prepare_images_per_s: float
    cache_images_per_s: float
    imagefolder_images_per_s: float
    speedup: float
    rss_mb: dict
    cpu_count: int | None  # None where the platform cannot tell


def make_jpegs(folder: Path, count: int, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        path = folder / "faces" / f"{index:06d}.jpg"
        path.parent.mkdir(exist_ok=True)
        if not path.exists():
            coarse = Image.fromarray(rng.integers(0, 256, (7, 6, 3), dtype=np.uint8))
            coarse = coarse.resize((178, 218), Image.Resampling.BICUBIC)
            noisy = np.asarray(coarse, dtype=np.int16) + rng.integers(-12, 13, (218, 178, 3))
            Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def time_prepare(root: Path, files: list[Path], resolution: int) -> tuple[float, TensorImages]:
    started = time.perf_counter()
    data = image_dataset("bench", root, files, split="train", resolution=resolution, crop=108)
    return len(files) / (time.perf_counter() - started), data


def time_cache_loader(rows: RowFile, batch_size: int, seconds: float = 3.0) -> float:
    """Random batches as training reads them: prepared rows -> float [-1, 1] on the CPU."""
    data = TensorImages(rows, DataInfo(kind="images", channels=3, resolution=rows.shape[-1], size=len(rows)))
    order = ShuffledIndices(len(data), batch_size, seed=0)
    device = torch.device("cpu")
    for _ in range(5):  # warm the page cache and allocator
        to_model_range(data.batch(order.next()), device)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        to_model_range(data.batch(order.next()), device)
        done += batch_size
    return done / (time.perf_counter() - started)


def time_imagefolder(root: Path, resolution: int, batch_size: int, images: int) -> float:
    from torchvision import datasets, transforms  # lazy: torchvision takes seconds to import; only the baseline uses it

    transform = transforms.Compose(
        [
            transforms.CenterCrop(108),
            transforms.Resize(resolution, antialias=True),
            transforms.ToTensor(),
            transforms.Normalize([0.5] * 3, [0.5] * 3),
        ]
    )
    loader = torch.utils.data.DataLoader(
        datasets.ImageFolder(root, transform=transform),
        batch_size=batch_size,
        shuffle=True,
        num_workers=min(2, os.cpu_count() or 1),
        drop_last=True,
        persistent_workers=False,
    )
    done, started = 0, None
    for index, (batch, _) in enumerate(loader):
        if index == 1:  # after the workers have started
            done, started = 0, time.perf_counter()
        done += batch.shape[0]
        if started and done >= images:
            break
    if started is None:
        raise UsageError(f"the ImageFolder baseline needs at least 2 batches of {batch_size}: give more --jpegs")
    return done / (time.perf_counter() - started)


def write_cache(folder: Path, rows: np.ndarray, count: int) -> Path:
    """A raw (count, C, H, W) array repeating ``rows``, as the cache stores them."""
    path = folder / f"images-{count}.u8"
    if not path.exists() or path.stat().st_size != count * rows[0].size:
        with open(path, "wb") as handle:
            for start in range(0, count, len(rows)):
                handle.write(np.ascontiguousarray(rows[: min(len(rows), count - start)]).tobytes())
    return path


def probe_memory(path: Path, count: int, shape: tuple[int, ...], batch_size: int) -> dict:
    """Resident memory growth (MB) of a fresh process that opens the cache as training does and
    reads BATCHES_READ random batches."""
    code = (
        "import json, torch; from pathlib import Path; from ganzoo.bench.data import _rss;"
        "from ganzoo.data import TensorImages, to_model_range; from ganzoo.data.cache import RowFile;"
        "from ganzoo.protocols import DataInfo; import ganzoo.data.sources;"
        "before = _rss();"
        f"data = TensorImages(RowFile(Path(r'{path}'), {(count, *shape)!r}), DataInfo(kind='images', channels=3, resolution={shape[-1]}, size={count}));"
        "g = torch.Generator().manual_seed(0)\n"
        f"for _ in range({BATCHES_READ}): to_model_range(data.batch(torch.randint(0, {count}, ({batch_size},), generator=g)), torch.device('cpu'))\n"
        "after = _rss(); print(json.dumps({k: round(after[k] - before[k], 1) for k in after}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _rss() -> dict:
    """Resident memory in MB: total, anonymous (the process's own) and file-backed (page cache)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def run(
    workdir: Path,
    jpegs: int = 2000,
    resolution: int = 64,
    batch_size: int = 64,
    sizes: tuple[int, ...] = (10_000, 100_000),
) -> DataBenchmark:
    os.environ["GANZOO_DATA"] = str(workdir / "cache")
    shutil.rmtree(workdir / "cache", ignore_errors=True)  # prepare is timed from scratch
    files = make_jpegs(workdir / "jpegs", jpegs)
    prepare_rate, data = time_prepare(workdir / "jpegs", files, resolution)
    rows = data.images.numpy()
    paths = {count: write_cache(workdir, rows, count) for count in sizes}
    cache_rate = time_cache_loader(RowFile(paths[sizes[0]], (sizes[0], *rows.shape[1:])), batch_size)
    baseline_rate = time_imagefolder(workdir / "jpegs", resolution, batch_size, images=min(jpegs, 1280))
    memory = {count: probe_memory(path, count, rows.shape[1:], batch_size) for count, path in paths.items()}
    return DataBenchmark(
        jpegs,
        resolution,
        batch_size,
        round(prepare_rate, 1),
        round(cache_rate, 1),
        round(baseline_rate, 1),
        round(cache_rate / baseline_rate, 1),
        memory,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
    )


def as_dict(result: DataBenchmark) -> dict:
    return asdict(result)
