"""`ganzoo report`: a page per run and a comparison page, static files opened from disk; the pages
are checked in headless Chromium (tests/browser.py): every image loads and decodes, no console
error, and the slider shows each step's grid. Screenshots are kept under GANZOO_TEST_ARTIFACTS
(a temporary folder when unset)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import ganzoo
from browser import needs_browser, open_page
from conftest import assert_no_traceback, run_cli
from ganzoo.report import MARKER, write_report
from ganzoo.report.collect import read_run

TINY = dict(batch_size=16, options={"ngf": 8, "ndf": 8}, sample_every=2, checkpoint_every=3, log_every=1)
EVAL = dict(eval_every=3, eval_n=64, eval_extractor="digits", eval_metric="fid")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Two runs of 6 steps, evaluated every 3 (FID on the digits extractor), differing in loss."""
    out = tmp_path_factory.mktemp("runs")
    common = {**TINY, **EVAL, "steps": 6, "out": str(out)}
    ganzoo.train("dcgan", name="a", **common)
    ganzoo.train("dcgan", name="b", **{**common, "options": {**TINY["options"], "loss": "hinge"}})
    return out


@pytest.fixture()
def artifacts(tmp_path) -> Path:
    return Path(os.environ.get("GANZOO_TEST_ARTIFACTS", tmp_path))


def test_a_run_reads_whole(runs):
    view = read_run(runs / "a")
    assert view.problems == []
    assert [step for step, _ in view.samples] == [2, 4, 6]
    assert {"loss_D", "loss_G", "D(x)", "D(G(z))", "lr_G", "images_per_second"} <= set(view.scalars)
    assert [e.step for e in view.evaluations] == [3, 6]
    assert all(e.higher_is_better == {"fid": False} and e.source == "training" for e in view.evaluations)
    assert [name for name, _, _ in view.checkpoints][-1] == "best.safetensors"


def test_one_run_page_shows_everything_in_the_browser(runs, tmp_path, artifacts):
    needs_browser()
    index = write_report([runs / "a"], tmp_path / "rep")
    html = index.read_text()
    for shown in ("dcgan", "digits", "finished", f"ganzoo train --resume {runs / 'a'}", "best.safetensors", "fid"):
        assert shown in html, shown
    grids = sorted((tmp_path / "rep" / "assets" / "samples").iterdir())
    assert [p.name for p in grids] == ["step-00000002.png", "step-00000004.png", "step-00000006.png"]

    def first_step(page):
        page.fill("#step-slider", "0")  # fires "input": the slider's first position, the oldest grid
        page.wait_for_function("!document.querySelectorAll('img.sample-grid')[0].hidden")

    check = open_page(index, artifacts / "report-run.png", actions=first_step, texts=("#step-label", "#evaluations"))
    assert check.problems == []
    assert check.images == 3 + 1 + 4 + 1  # grids, timelapse, curves (losses, D outputs, lr, speed), fid
    assert check.texts["#step-label"] == "step 2"
    assert "★" in check.texts["#evaluations"]


def test_a_missing_image_fails_the_browser_check(runs, tmp_path):
    needs_browser()
    index = write_report([runs / "a"], tmp_path / "rep")
    (tmp_path / "rep" / "assets" / "samples" / "step-00000004.png").unlink()
    (tmp_path / "rep" / "assets" / "curve-0.svg").write_text("<svg")  # torn: not an image
    check = open_page(index)
    assert any(p.startswith("failed to load:") and p.endswith("step-00000004.png") for p in check.problems)
    assert any("curve-0.svg" in p for p in check.broken_images)


def test_the_comparison_ranks_marks_differences_and_plots_both(runs, tmp_path, artifacts):
    needs_browser()
    index = write_report([runs / "a", runs / "b"], tmp_path / "rep")
    check = open_page(index, artifacts / "report-compare.png", texts=("#ranking", "#settings"))
    assert check.problems == []
    assert check.images == 2 + 3  # the fid and the two losses of both runs on one plot each; the last grids
    ranking = [line.split("\t") for line in check.texts["#ranking"].splitlines()[1:]]
    fids = {
        name: json.loads((runs / name / "metrics.jsonl").read_text().splitlines()[-1])["eval"]["fid"]
        for name in ("a", "b")
    }
    assert [row[1] for row in ranking] == sorted(fids, key=fids.get)  # lower FID first
    assert [row[0] for row in ranking] == ["1", "2"]
    settings = check.texts["#settings"]
    assert "options.loss" in settings and "hinge" in settings and "options.ngf" not in settings  # only differences
    for page in ("runs/1-a/index.html", "runs/2-b/index.html"):
        assert open_page(tmp_path / "rep" / page).problems == []


def test_a_damaged_run_says_what_is_missing_and_shows_the_rest(runs, tmp_path, artifacts):
    needs_browser()
    run = tmp_path / "rún-ü 1"
    shutil.copytree(runs / "a", run)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join(lines[:3] + ["{torn", "[1, 2]"] + lines[3:]) + "\n")
    shutil.rmtree(run / "samples")
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "state": "running", "pid": None}))  # killed
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text("{not json")
    index = write_report([run, empty], tmp_path / "rep")
    page = tmp_path / "rep" / "runs" / "1-rún-ü 1" / "index.html"
    check = open_page(page, artifacts / "report-damaged.png", texts=("#problems",))
    assert check.problems == []
    problems = check.texts["#problems"]
    assert "2 line(s) could not be read" in problems
    assert "no sample grids yet" in problems
    assert "interrupted at step 6" in problems
    assert check.images >= 5  # the timelapse, the curves and the fid plot are still there
    other = open_page(tmp_path / "rep" / "runs" / "2-empty" / "index.html", texts=("#problems",))
    assert other.problems == []
    assert "config.json is not valid JSON" in other.texts["#problems"]
    assert "metrics.jsonl is missing" in other.texts["#problems"]
    assert open_page(index).problems == []


def test_the_report_is_regenerated_and_never_overwrites_what_is_not_one(runs, tmp_path):
    out = tmp_path / "rep"
    write_report([runs / "a"], out)
    (out / "stale.txt").write_text("from an earlier report")
    write_report([runs / "a"], out)
    assert not (out / "stale.txt").exists() and (out / MARKER).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rep")]  # no staging left

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    foreign = run_cli("report", runs / "a", "--out", mine)
    assert foreign.returncode == 2 and "not a ganzoo report" in foreign.stderr
    assert (mine / "notes.txt").read_text() == "keep"
    inside = run_cli("report", runs / "a", "--out", runs / "a" / "samples")
    assert inside.returncode == 2 and "inside the run" in inside.stderr
    not_a_run = run_cli("report", tmp_path / "mine")
    assert not_a_run.returncode == 2 and "is not a ganzoo run" in not_a_run.stderr
    for result in (foreign, inside, not_a_run):
        assert_no_traceback(result)
        assert len(result.stderr.strip().splitlines()) == 1


def test_the_default_place_and_the_runs_listing_pointer(runs, tmp_path):
    run = tmp_path / "a"
    shutil.copytree(runs / "a", run)
    result = run_cli("report", run)
    assert result.returncode == 0, result.stderr
    assert (run / "report" / "index.html").is_file()
    listing = run_cli("runs", runs)
    assert listing.returncode == 0 and f"ganzoo report {runs / 'a'}" in listing.stdout
