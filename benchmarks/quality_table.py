"""The quality table of docs/benchmarks.md: every installed image model (unconditional and
class-conditional) trained with its defaults on the embedded digits for the same wall-clock
budget on this machine, then scored by ``ganzoo eval`` with the digits feature extractor.

    python benchmarks/quality_table.py [--budget 3m] [--models dcgan,sngan] [--out bench-quality] [--n 2000]

Protocol: ``ganzoo train MODEL --time BUDGET --seed 0`` (the model's default steps, cut by the
budget), then ``ganzoo eval RUN --feature-extractor digits --n N --metric fid,kid,pr`` (N samples
of the generator's moving average against the dataset's 1,797 images). Prints a Markdown table
in StudioGAN's shape: Method | Reference | FID | KID | precision | recall | Cfg | Log, where Cfg
is the training command and Log the run's metrics.jsonl.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

IMAGE_TASKS = ("unconditional", "class-conditional")


def ganzoo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganzoo", *args], capture_output=True, text=True)


def image_models() -> list[dict]:
    """Name and paper of every installed model that draws images from noise (and a class)."""
    from ganzoo.plugins import load_plugins

    return [
        {"name": entry.name, "paper": entry.spec.paper}
        for entry in load_plugins().models
        if entry.spec.task in IMAGE_TASKS
    ]


def row(model: dict, budget: str, out: Path, n: int) -> str:
    name = model["name"]
    train = ["train", name, "--time", budget, "--seed", "0", "--out", str(out), "--name", name]
    trained = ganzoo(*train)
    if trained.returncode:
        return f"| {name} | {model.get('paper', '')} | training failed: {trained.stderr.strip()[-200:]} | | | | | |"
    scored = ganzoo(
        "eval", str(out / name), "--feature-extractor", "digits", "--n", str(n), "--metric", "fid,kid,pr", "--json"
    )
    if scored.returncode:
        return f"| {name} | {model.get('paper', '')} | evaluation failed: {scored.stderr.strip()[-200:]} | | | | | |"
    values = scored_values(json.loads(scored.stdout))
    command = shlex.join(["ganzoo", *train[:-4]])
    cells = [f"{values.get(key, float('nan')):.{digits}f}" for key, digits in METRICS]
    return f"| {name} | {model.get('paper', '')} | {' | '.join(cells)} | `{command}` | {out / name / 'metrics.jsonl'} |"


METRICS = (("fid", 1), ("kid", 4), ("precision", 3), ("recall", 3))


def scored_values(report: dict) -> dict[str, float]:
    """The metrics of ``ganzoo eval --json``, by name."""
    found = report["eval"]
    return {key: float(value) for key, value in found.items() if isinstance(value, (int, float))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="3m", help="wall-clock training budget per model (ganzoo train --time)")
    parser.add_argument("--models", default="", help="comma-separated names (default: every image model)")
    parser.add_argument("--out", type=Path, default=Path("bench-quality"), help="folder of the runs")
    parser.add_argument("--n", type=int, default=2000, help="generated samples per evaluation")
    args = parser.parse_args()
    models = image_models()
    if args.models:
        wanted = set(args.models.split(","))
        models = [m for m in models if m["name"] in wanted]
    print("| Method | Reference | FID | KID | precision | recall | Cfg | Log |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for model in models:
        print(row(model, args.budget, args.out, args.n), flush=True)


if __name__ == "__main__":
    main()
