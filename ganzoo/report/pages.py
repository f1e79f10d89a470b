"""The report's HTML: a page per run and a comparison page, from Jinja templates (autoescaped),
with every image a file beside the page, so the folder opens from file:// with no server and
no network."""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ganzoo._version import __version__
from ganzoo.report.collect import Evaluation, RunView
from ganzoo.report.plots import Plot, draw, group_scalars

#: Settings that name a run rather than shape it: not compared.
IDENTITY_KEYS = {"run_id", "created", "command", "versions", "providers", "dataset_fingerprint", "device"}
#: Directions of the built-in scores, for records written before evaluations stored theirs.
KNOWN_DIRECTIONS = {"fid": False, "kid": False, "is": True, "precision": True, "recall": True}


@dataclass
class Image:
    src: str  # relative to the page
    caption: str


def _environment():
    import jinja2  # lazy: only the report renders templates

    return jinja2.Environment(
        loader=jinja2.PackageLoader("ganzoo.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def link(path: Path, page_folder: Path) -> str:
    """A relative, URL-quoted address of ``path`` from a page in ``page_folder``."""
    return quote(path.relative_to(page_folder).as_posix())


def direction(key: str, evaluation: Evaluation) -> bool | None:
    """Whether a larger ``key`` is better: as the evaluation recorded it, else as the built-in
    score declares; None when unknown (the value is shown, not ranked)."""
    return evaluation.higher_is_better.get(key, KNOWN_DIRECTIONS.get(key))


def best_points(run: RunView) -> dict[str, tuple[int, float]]:
    """For every score with a known direction, its best (step, value) over the run."""
    best: dict[str, tuple[int, float]] = {}
    for evaluation in run.evaluations:
        for key, value in evaluation.scores.items():
            higher = direction(key, evaluation)
            if higher is None:
                continue
            if key not in best or (value > best[key][1] if higher else value < best[key][1]):
                best[key] = (evaluation.step, value)
    return best


def copy_asset(source: Path, assets: Path, name: str | None = None) -> Path:
    assets.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(source, assets / (name or source.name)))


def write_run_page(run: RunView, folder: Path, home: str | None = None) -> Path:
    """``folder``/index.html for ``run``, its images under ``folder``/assets/."""
    assets = folder / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    grids = [Image(link(copy_asset(path, assets / "samples"), folder), f"step {step:,}") for step, path in run.samples]
    timelapse = link(copy_asset(run.timelapse, assets), folder) if run.timelapse else None
    curves = [
        Image(link(draw(plot, assets / f"curve-{i}.svg"), folder), plot.title)
        for i, plot in enumerate(group_scalars(run.scalars))
    ]
    best = best_points(run)
    scores = sorted({key for e in run.evaluations for key in e.scores})
    evaluation_plots = [
        Image(
            link(
                draw(
                    Plot(
                        key,
                        {key: [(e.step, e.scores[key]) for e in run.evaluations if key in e.scores]},
                        marks={key: best[key]} if key in best else None,
                    ),
                    assets / f"eval-{i}.svg",
                ),
                folder,
            ),
            key,
        )
        for i, key in enumerate(scores)
    ]
    html = (
        _environment()
        .get_template("run.html")
        .render(
            run=run,
            identity=identity(run),
            grids=grids,
            timelapse=timelapse,
            curves=curves,
            scores=scores,
            evaluations=run.evaluations,
            best=best,
            evaluation_plots=evaluation_plots,
            checkpoints=run.checkpoints,
            resume=resume_command(run),
            home=home,
            version=__version__,
        )
    )
    page = folder / "index.html"
    page.write_text(html, encoding="utf-8")
    return page


def identity(run: RunView) -> list[tuple[str, str]]:
    """The rows that say what the run is."""
    config, status = run.config, run.status
    training = config.get("training", {})
    total = status.get("total_steps") or training.get("steps")
    rows = [
        ("model", str(config.get("model", "?"))),
        ("provided by", str(config.get("providers", {}).get("model", "?"))),
        ("dataset", str(config.get("dataset", "?"))),
        ("seed", str(training.get("seed", "?"))),
        ("steps", f"{run.step:,} of {total:,}" if isinstance(total, int) else f"{run.step:,}"),
        ("state", run.state + (f": {status['message']}" if status.get("message") else "")),
        ("device", str(config.get("device", "?"))),
        ("created", str(config.get("created", "?"))),
        ("run id", str(config.get("run_id", "?"))),
        ("folder", str(run.path)),
    ]
    versions = config.get("versions")
    if isinstance(versions, dict):
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items() if k in ("ganzoo", "torch"))))
    return rows


def resume_command(run: RunView) -> str:
    base = f"ganzoo train --resume {shlex.quote(str(run.path))}"
    if run.state == "finished":
        return base + " --steps N  # N: a larger budget than the run had"
    return base


def flat_settings(config: dict[str, Any]) -> dict[str, str]:
    """config.json as ``section.key`` -> value text, without what only names the run."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        if key in IDENTITY_KEYS:
            continue
        if isinstance(value, dict):
            for inner, item in value.items():
                flat[f"{key}.{inner}"] = json.dumps(item) if not isinstance(item, str) else item
        else:
            flat[key] = json.dumps(value) if not isinstance(value, str) else value
    return flat


def write_comparison_page(runs: list[RunView], pages: list[Path], folder: Path) -> Path:
    """``folder``/index.html: the runs' settings (differences marked), their last evaluations
    ranked, each score of every run on one plot, and the last grids side by side."""
    assets = folder / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    settings = [flat_settings(run.config) for run in runs]
    keys = sorted({key for s in settings for key in s})
    table = [(key, [s.get(key, "—") for s in settings]) for key in keys]
    differing = [row for row in table if len(set(row[1])) > 1]
    same = [row for row in table if len(set(row[1])) == 1]
    ranking, ranked_by = rank(runs)
    plots = []
    score_keys = sorted({key for run in runs for e in run.evaluations for key in e.scores})
    for key in score_keys:
        series = {
            run.name: [(e.step, e.scores[key]) for e in run.evaluations if key in e.scores]
            for run in runs
            if any(key in e.scores for e in run.evaluations)
        }
        plots.append(Plot(f"{key} of every run", series))
    for key in sorted({key for run in runs for key in run.scalars if key.startswith("loss_")}):
        plots.append(Plot(f"{key} of every run", {run.name: run.scalars[key] for run in runs if key in run.scalars}))
    figures = [Image(link(draw(plot, assets / f"compare-{i}.svg"), folder), plot.title) for i, plot in enumerate(plots)]
    last_grids: list[tuple[RunView, str, Image | None]] = []
    for i, (run, page) in enumerate(zip(runs, pages)):
        if run.samples:
            step, path = run.samples[-1]
            copied = copy_asset(path, assets / "last-grids", f"{i}-{path.name}")
            last_grids.append((run, link(page, folder), Image(link(copied, folder), f"step {step:,}")))
        else:
            last_grids.append((run, link(page, folder), None))
    html = (
        _environment()
        .get_template("compare.html")
        .render(
            runs=list(zip(runs, [link(page, folder) for page in pages])),
            differing=differing,
            same=same,
            ranking=ranking,
            ranked_by=ranked_by,
            figures=figures,
            last_grids=last_grids,
            version=__version__,
        )
    )
    page = folder / "index.html"
    page.write_text(html, encoding="utf-8")
    return page


def rank(runs: list[RunView]) -> tuple[list[tuple[int | None, RunView, Evaluation | None]], str | None]:
    """The runs by their last evaluation's first score with a known direction (FID first when
    every run has one), best first; runs without it follow, unranked."""
    last = {run.name: run.last_scores() for run in runs}
    shared = [key for key in KNOWN_DIRECTIONS if all(e is not None and key in e.scores for e in last.values())]
    candidates = shared or sorted({k for e in last.values() if e is not None for k in e.scores})
    key = next(
        (k for k in candidates if any(e is not None and direction(k, e) is not None for e in last.values())), None
    )
    if key is None:
        return [(None, run, last[run.name]) for run in runs], None
    scored = [run for run in runs if (e := last[run.name]) is not None and key in e.scores]
    higher = next(direction(key, last[run.name]) for run in scored)  # type: ignore[arg-type]
    scored.sort(key=lambda run: last[run.name].scores[key], reverse=bool(higher))  # type: ignore[union-attr]
    rest = [run for run in runs if run not in scored]
    ranked = [(i + 1, run, last[run.name]) for i, run in enumerate(scored)]
    return ranked + [(None, run, last[run.name]) for run in rest], key
