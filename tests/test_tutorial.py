"""docs/plugins/writing-a-plugin.md stays true: its files are the example package, and a package
written out of the page alone installs, lists, trains, resumes and generates."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from conftest import ROOT, assert_no_traceback, list_json, make_distribution, run_cli, with_site

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

TUTORIAL = ROOT / "docs" / "plugins" / "writing-a-plugin.md"
EXAMPLE = ROOT / "examples" / "ganzoo-mlpgan"
PACKAGE_FILES = ("pyproject.toml", "ganzoo_mlpgan/__init__.py", "ganzoo_mlpgan/model.py")


def tutorial_files() -> dict[str, str]:
    """Every fenced block with a title: file name -> its text."""
    blocks = re.findall(r'^```\w+ title="([^"]+)"\n(.*?)^```$', TUTORIAL.read_text(), re.M | re.S)
    return {name: text for name, text in blocks}


def test_the_tutorial_shows_the_example_package_byte_for_byte():
    files = tutorial_files()
    for name in PACKAGE_FILES:
        assert name in files, f"the tutorial shows no file '{name}'"
        assert files[name] == (EXAMPLE / name).read_text(), f"the tutorial's {name} differs from {EXAMPLE / name}"


def test_the_tutorial_imports_only_the_public_module():
    for name, text in tutorial_files().items():
        for line in text.splitlines():
            if re.match(r"\s*(from|import) ganzoo\b", line):
                assert re.match(r"\s*from ganzoo\.plugin import ", line), f"{name}: {line.strip()}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package written out of the tutorial alone, pip-installed into a folder of its own."""
    root = tmp_path_factory.mktemp("tutorial")
    package = root / "ganzoo-mlpgan"
    for name in PACKAGE_FILES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(tutorial_files()[name])
    site = root / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(package),
        ],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr
    return site


def test_the_tutorial_package_lists_trains_resumes_and_generates(installed, tmp_path):
    env = with_site(installed)
    mlp = next(row for row in list_json("models", env=env) if row["name"] == "mlpgan")
    assert (mlp["plugin"], mlp["distribution"]) == ("mlpgan", "ganzoo-mlpgan")
    runs = tmp_path / "runs"
    trained = run_cli(
        "train",
        "mlpgan",
        "--steps",
        "4",
        "--batch-size",
        "16",
        "--checkpoint-every",
        "2",
        "--out",
        runs,
        "--name",
        "mlp",
        env=env,
    )
    assert trained.returncode == 0, trained.stderr
    resumed = run_cli("train", "--resume", runs / "mlp", "--steps", "6", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((runs / "mlp" / "status.json").read_text())["step"] == 6
    generated = run_cli("generate", runs / "mlp", "--n", "16", "--grid", tmp_path / "mlp.png", env=env)
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "mlp.png").stat().st_size > 0
    refused = run_cli(
        "generate", runs / "mlp", "--n", "4", "--truncation", "0.5", "--grid", tmp_path / "t.png", env=env
    )
    assert refused.returncode == 2 and "truncation" in refused.stderr
    assert_no_traceback(refused)


def test_the_lazy_regulariser_of_the_tutorial_trains_d(installed, monkeypatch):
    monkeypatch.syspath_prepend(str(installed))
    namespace: dict = {}
    exec(compile(tutorial_files()["mlpgan_r1.py"], "mlpgan_r1.py", "exec"), namespace)
    from ganzoo.plugin import DataInfo, StepContext
    from ganzoo_mlpgan.model import MLPGANOptions

    model = namespace["MLPGANWithR1"](MLPGANOptions(hidden=8), DataInfo(kind="images", channels=1, resolution=8))
    optimizers = model.configure_optimizers()
    regulariser = next(p for p in model.phases if p.name == "D_reg")
    assert regulariser.every == 16 and regulariser.optimizer == "D" and set(optimizers) == {"D", "G"}
    result = model.phase_loss(regulariser, {"image": torch.rand(4, 1, 8, 8) * 2 - 1}, StepContext(step=0))
    result.loss.backward()
    assert torch.isfinite(result.loss) and result.loss > 0
    # the penalty trains D's weights (its last bias does not change an input gradient) and nothing of G
    assert all(layer.weight.grad is not None for layer in model.D if isinstance(layer, torch.nn.Linear))
    assert all(p.grad is None for p in model.G.parameters())


def test_the_tutorial_logger_records_the_runs_losses(tmp_path):
    site = make_distribution(
        tmp_path / "site", "ganzoo-jsonl", "ganzoo_jsonl", textwrap.dedent(tutorial_files()["ganzoo_jsonl.py"])
    )
    result = run_cli(
        "train",
        "dcgan",
        "--steps",
        "4",
        "--batch-size",
        "8",
        "--log-every",
        "2",
        "--logger",
        "jsonl",
        "--set",
        "ngf=8",
        "--set",
        "ndf=8",
        "--out",
        tmp_path / "runs",
        "--name",
        "r",
        env=with_site(site),
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (tmp_path / "runs" / "r" / "my-log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [2, 4] and "loss_G" in lines[0]


def test_the_tutorial_package_draws_digits_of_every_class_as_the_page_says(installed, tmp_path):
    """The page's "what to expect": 500 steps give digits of every class, not one collapsed blob
    (benchmarks/digits_quality.py's check, in a process that sees the package as a user's does)."""
    env = with_site(installed)
    trained = run_cli("train", "mlpgan", "--steps", "500", "--out", tmp_path, "--name", "mlp", env=env)
    assert trained.returncode == 0, trained.stderr
    script = textwrap.dedent(
        f"""
        import json, sys, torch
        sys.path.insert(0, {str(ROOT / "benchmarks")!r})
        from digits_quality import digits_classifier, score_images
        from ganzoo.training.inference import load_run
        from ganzoo.training.samples import draw_codes, sample_images
        loaded = load_run({str(tmp_path / "mlp")!r}, torch.device("cpu"))
        noise, _ = draw_codes(loaded.model, 1000, torch.Generator().manual_seed(123))
        print(json.dumps(score_images(sample_images(loaded.model, noise, torch.device("cpu")), digits_classifier()[0])))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    score = json.loads(result.stdout)  # the page: 62.9% confident, classes 2.0-16.8%
    assert score["confident_share"] > 0.45 and score["min_class_share"] > 0.01 and score["max_class_share"] < 0.25, (
        score
    )
