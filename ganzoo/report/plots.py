"""The report's plots: SVG files drawn by matplotlib (headless), one per group of series."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

Points = list[tuple[int, float]]


@dataclass(frozen=True)
class Plot:
    """One figure of the report: a title, and a line per labelled series of (step, value)."""

    title: str
    series: dict[str, Points]
    ylabel: str = ""
    marks: dict[str, tuple[int, float]] | None = None  # label -> a point drawn as a star (the best)
    log_scale: bool = False


def group_scalars(scalars: dict[str, Points]) -> list[Plot]:
    """The training records' numbers as plots: the losses together, D's outputs together, the
    learning rates together, and every other number on its own."""
    groups: dict[str, dict[str, Points]] = {}
    for key, points in scalars.items():
        if key.startswith("loss_"):
            groups.setdefault("losses", {})[key.removeprefix("loss_")] = points
        elif key.startswith("D("):
            groups.setdefault("discriminator outputs", {})[key] = points
        elif key.startswith("lr_"):
            groups.setdefault("learning rates", {})[key.removeprefix("lr_")] = points
        else:
            groups.setdefault(key.replace("_", " "), {})[key] = points
    order = ["losses", "discriminator outputs", "learning rates"]
    titles = [t for t in order if t in groups] + sorted(t for t in groups if t not in order)
    return [
        Plot(title, groups[title], log_scale=title == "learning rates" and _spans_decades(groups[title]))
        for title in titles
    ]


def _spans_decades(series: dict[str, Points]) -> bool:
    values = [v for points in series.values() for _, v in points]
    return bool(values) and min(values) > 0 and max(values) / min(values) >= 100


def draw(plot: Plot, path: Path) -> Path:
    """``plot`` as an SVG file at ``path``."""
    import matplotlib  # lazy: matplotlib takes half a second to import and only reports plot

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above, after choosing the headless backend

    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=100)
    for label, points in plot.series.items():
        steps, values = [s for s, _ in points], [v for _, v in points]
        few = len(points) < 30  # a few points: each one shown
        ax.plot(steps, values, label=label, linewidth=1.3, marker="o" if few else None, markersize=3)
    for label, (step, value) in (plot.marks or {}).items():
        ax.plot([step], [value], marker="*", markersize=14, color="gold", markeredgecolor="black", linestyle="")
        ax.annotate(f"best {label}: {value:.4g}", (step, value), textcoords="offset points", xytext=(6, 6), fontsize=8)
    if plot.log_scale:
        ax.set_yscale("log")
    ax.set_title(plot.title)
    ax.set_xlabel("step")
    if plot.ylabel:
        ax.set_ylabel(plot.ylabel)
    ax.grid(alpha=0.3)
    if len(plot.series) > 1 or plot.marks:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})  # no date: the same run gives the same file
    plt.close(fig)
    return path
