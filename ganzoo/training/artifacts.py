"""End-of-run artifacts: the timelapse GIF of the sample grids and the loss curves."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

FRAME_MS = 250


def write_gif(frames: list, path: Path, durations: list[int]) -> Path:
    """A looping animated GIF of PIL images, written to a temporary name first."""
    tmp = path.with_name(f".{path.name}.tmp")
    frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    tmp.replace(path)
    return path


def write_timelapse(sample_files: list[Path], path: Path) -> Path | None:
    """One frame per sample grid (oldest first); the last frame lingers so the result can be seen."""
    if not sample_files:
        return None
    frames = [Image.open(f).convert("RGB") for f in sample_files]
    return write_gif(frames, path, [FRAME_MS] * (len(frames) - 1) + [FRAME_MS * 4])


def tensor_to_pil(image):
    """uint8 (C, H, W) tensor -> PIL image."""
    array = image.permute(1, 2, 0).numpy()
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


def read_metrics(path: Path) -> list[dict]:
    """The records of a metrics.jsonl; a torn last line (a killed run) is ignored."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def plot_losses(records: list[dict], path: Path) -> Path | None:
    """losses.png: every ``loss_*`` series against the step (headless matplotlib)."""
    import matplotlib  # lazy: matplotlib takes half a second to import and only this plot needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above, and after choosing the headless backend

    training = [r for r in records if "step" in r and any(k.startswith("loss_") for k in r)]
    if not training:
        return None
    keys = sorted({k for r in training for k in r if k.startswith("loss_")})
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for key in keys:
        points = [(r["step"], r[key]) for r in training if key in r]
        ax.plot([p[0] for p in points], [p[1] for p in points], label=key.removeprefix("loss_"), linewidth=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("training losses")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path
