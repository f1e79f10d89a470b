"""Outputs never touch inputs: every command that writes files checks all its targets first,
refuses (exit 2, one line) to replace an input or an existing file without --overwrite, leaves
every pre-existing file byte-identical when it refuses, and gives colliding names distinct ones.
Also: follow-up commands are quoted, a checkpoint that does not fit its config is one line, and
a junk archive is not "ok"."""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import assert_no_traceback, run_cli
from test_datasets import tar_gz

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

TINY = ("--steps", "2", "--batch-size", "8", "--resolution", "16", "--set", "ngf=8", "--set", "ndf=8")


def snapshot(*roots: Path) -> dict[Path, str]:
    """The digest of every file under ``roots`` (or of ``roots`` themselves when files)."""
    files = [p for root in roots for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file()]
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def image(path: Path, seed: int = 0, size: tuple[int, int] = (20, 20)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def assert_refused(result, *, code: int = 2, names: Path | str | None = None, saying: str = "--overwrite allows it"):
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert_no_traceback(result)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    assert saying in result.stderr, result.stderr
    if names is not None:
        assert str(names) in result.stderr, result.stderr


def refused_unchanged(args, roots, **expected) -> None:
    """Run ``ganzoo ARGS``; it must be refused and leave every file under ``roots`` as it was."""
    before = snapshot(*roots)
    assert_refused(run_cli(*args), **expected)
    assert snapshot(*roots) == before


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """One tiny DCGAN and one tiny Pix2Pix run, trained once, in a folder with a space."""
    out = tmp_path_factory.mktemp("outputs") / "my runs"
    env = {"GANZOO_DATA": str(tmp_path_factory.mktemp("data"))}
    made = {}
    for model in ("dcgan", "pix2pix"):
        result = run_cli("train", model, *TINY, "--out", out, "--name", model, env=env)
        assert result.returncode == 0, result.stderr
        made[model] = out / model
        made[f"{model} stdout"] = result.stdout
    return made


# --- translate ---------------------------------------------------------------------------


def test_translate_never_replaces_its_input_file(runs, tmp_path):
    photo = image(tmp_path / "a.png")
    for extra in ((), ("--overwrite",)):  # an input is refused even with --overwrite
        refused_unchanged(
            ("translate", runs["pix2pix"], "--input", photo, "--out", tmp_path, *extra),
            [tmp_path],
            names=photo,
            saying="is an input of this command",
        )
    refused_unchanged(
        ("translate", runs["pix2pix"], "--input", tmp_path, "--out", tmp_path),
        [tmp_path],
        names=photo,
        saying="is an input of this command",
    )


def test_translate_into_a_subfolder_of_its_input(runs, tmp_path):
    folder = tmp_path / "photos"
    image(folder / "a.png", 1), image(folder / "b.png", 2)
    mine = image(folder / "sub" / "a.png", 3, (30, 10))  # the user's own file, where an output would go
    refused_unchanged(
        ("translate", runs["pix2pix"], "--input", folder, "--out", folder / "sub"), [tmp_path], names=mine
    )

    before = snapshot(folder)
    result = run_cli("translate", runs["pix2pix"], "--input", folder, "--out", folder / "sub", "--overwrite")
    assert result.returncode == 0 and "translated 2 image(s)" in result.stdout, result.stderr
    after = snapshot(folder)
    assert after[folder / "a.png"] == before[folder / "a.png"] and after[folder / "b.png"] == before[folder / "b.png"]
    assert Image.open(mine).size == (20, 20)  # replaced by the translation of photos/a.png, as asked
    # run again: its own outputs under sub/ are not inputs, so nothing lands in sub/sub/
    result = run_cli("translate", runs["pix2pix"], "--input", folder, "--out", folder / "sub", "--overwrite")
    assert result.returncode == 0 and "translated 2 image(s)" in result.stdout, result.stderr
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png")) == [
        "a.png",
        "b.png",
        "sub/a.png",
        "sub/b.png",
    ]
    refused_unchanged(
        ("translate", runs["pix2pix"], "--input", folder, "--out", folder / "sub"),
        [tmp_path],
        names=folder / "sub" / "a.png",
    )


def test_translate_out_must_be_a_folder(runs, tmp_path):
    photo, file = image(tmp_path / "in" / "p.png"), tmp_path / "notes.txt"
    file.write_text("mine")
    refused_unchanged(
        ("translate", runs["pix2pix"], "--input", photo, "--out", file),
        [tmp_path],
        names=file,
        saying="is a file, not a folder",
    )
    refused_unchanged(
        ("translate", runs["pix2pix"], "--input", photo, "--out", tmp_path / "o", "--compare", file / "strip.png"),
        [tmp_path],
        names=file,
        saying="is a file, not a folder",
    )
    assert not (tmp_path / "o").exists()  # refused before any folder was made


# --- generate ----------------------------------------------------------------------------


def test_generate_refuses_files_it_did_not_make(runs, tmp_path):
    run, file, grid = runs["dcgan"], tmp_path / "file", tmp_path / "grid.png"
    file.write_text("mine"), grid.write_text("my grid")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "3.png").write_text("my three")
    roots = [tmp_path, run]
    refused_unchanged(("generate", run, "--n", 4, "--out", file), roots, names=file, saying="is a file, not a folder")
    refused_unchanged(
        ("generate", run, "--n", 4, "--out", file / "x"), roots, names=file, saying="is a file, not a folder"
    )
    refused_unchanged(("generate", run, "--n", 4, "--grid", grid), roots, names=grid)
    refused_unchanged(
        ("generate", run, "--n", 4, "--out", tmp_path / "out", "--grid", tmp_path / "g.png"),
        roots,
        names=tmp_path / "out" / "3.png",
    )
    assert not (tmp_path / "g.png").exists()
    for extra in ((), ("--overwrite",)):
        refused_unchanged(
            ("generate", run, "--n", 4, "--grid", run / "config.json", *extra),
            roots,
            names=run / "config.json",
            saying="is an input of this command",
        )

    result = run_cli("generate", run, "--n", 4, "--out", tmp_path / "out", "--grid", grid, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "3.png").read_bytes()[:4] == b"\x89PNG" and grid.read_bytes()[:4] == b"\x89PNG"


def test_generate_names_are_distinct_within_one_invocation(runs, tmp_path):
    run = runs["dcgan"]
    result = run_cli("generate", run, "--n", 2, "--out", tmp_path / "d", "--grid", tmp_path / "d" / "1.png")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["0.png", "1-2.png", "1.png"]
    assert Image.open(tmp_path / "d" / "1-2.png").size != Image.open(tmp_path / "d" / "1.png").size  # the grid
    # the default grid (a name the user did not choose) never replaces an earlier one
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    first, second = (run_cli("generate", copy, "--n", 2) for _ in range(2))
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert sorted(p.name for p in (copy / "generated").iterdir()) == ["seed-0-2.png", "seed-0.png"]
    assert "seed-0-2.png" in second.stdout


# --- interpolate -------------------------------------------------------------------------


def test_interpolate_strip_never_replaces_the_gif(runs, tmp_path):
    run, walk = runs["dcgan"], tmp_path / "walk.png"
    args = ("interpolate", run, "--out", walk, "--steps", 2, "--points", 2, "--n", 2)
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert Image.open(walk).format == "GIF" and Image.open(tmp_path / "walk-strip.png").format == "PNG"
    refused_unchanged(args, [tmp_path, run], names=walk)
    (tmp_path / "walk.png").unlink()
    refused_unchanged(args, [tmp_path, run], names=tmp_path / "walk-strip.png")  # the strip is checked too
    assert not walk.exists()
    assert run_cli(*args, "--overwrite").returncode == 0 and Image.open(walk).format == "GIF"


# --- data make-edges ---------------------------------------------------------------------


def test_make_edges_writes_every_image_once_and_refuses_existing_pairs(tmp_path):
    source, destination = tmp_path / "photos", tmp_path / "pairs"
    image(source / "a.png", 1), image(source / "a.jpg", 2)
    args = ("data", "make-edges", source, destination, "--resolution", 16)
    result = run_cli(*args)
    assert result.returncode == 0 and "wrote 2 train and 0 val pairs" in result.stdout, result.stderr
    assert sorted(p.name for p in (destination / "train").iterdir()) == ["a-2.png", "a.png"]
    refused_unchanged(args, [tmp_path], names=destination / "train" / "a.png")
    assert run_cli(*args, "--overwrite").returncode == 0
    file = tmp_path / "file"
    file.write_text("mine")
    refused_unchanged(("data", "make-edges", source, file), [tmp_path], names=file, saying="is a file, not a folder")


# --- item 11: quoting, a checkpoint that does not fit, junk archives -----------------------


def test_printed_follow_up_commands_paste_with_spaces(runs):
    for model, (label, command) in {
        "dcgan": ("generate more: ", "generate"),
        "pix2pix": ("translate images: ", "translate"),
    }.items():
        line = next(line for line in runs[f"{model} stdout"].splitlines() if line.startswith(label))
        words = shlex.split(line.removeprefix(label))
        assert words[:3] == ["ganzoo", command, str(runs[model])], words
    line = next(line for line in runs["dcgan stdout"].splitlines() if line.startswith("generate more: "))
    result = run_cli(*shlex.split(line.removeprefix("generate more: "))[1:])  # as pasted into a shell
    assert result.returncode == 0 and (runs["dcgan"] / "grid.png").is_file(), result.stderr


def test_a_checkpoint_that_does_not_fit_the_edited_config_is_one_line(runs, tmp_path):
    run = tmp_path / "edited"
    shutil.copytree(runs["dcgan"], run)
    config = json.loads((run / "config.json").read_text())
    config["options"]["ngf"] = 16
    (run / "config.json").write_text(json.dumps(config))
    result = run_cli("generate", run, "--n", 2)
    assert_refused(result, code=1, saying="does not fit model 'dcgan' as configured in")
    assert "tensor(s) have other shapes (first: G." in result.stderr and "config.json" in result.stderr


def test_a_checkpoint_of_another_run_is_refused_by_every_command_that_loads_one(runs, tmp_path):
    other = run_cli("train", "dcgan", *TINY, "--out", tmp_path, "--name", "other")
    assert other.returncode == 0, other.stderr
    (foreign,) = (tmp_path / "other" / "checkpoints").glob("step-*.safetensors")
    run = tmp_path / "mine"
    shutil.copytree(runs["dcgan"], run)  # a copied run folder is still that run: it loads
    assert run_cli("generate", run, "--n", 1, "--out", tmp_path / "ok").returncode == 0
    shutil.copy(foreign, run / "checkpoints" / "step-99999999.safetensors")  # now the latest
    before = snapshot(run)
    for command in (
        ("generate", run, "--n", 2, "--out", tmp_path / "g"),
        ("generate", runs["dcgan"], "--checkpoint", foreign, "--n", 2, "--out", tmp_path / "g"),
        ("interpolate", run, "--out", tmp_path / "i.gif"),
        ("eval", run, "--metric", "", "--n", 8),
    ):
        result = run_cli(*command)
        assert_refused(result, code=1, saying="belongs to another run (written by run ")
        assert "use the run folder it came from" in result.stderr
    assert snapshot(run) == before and not (tmp_path / "g").exists() and not (tmp_path / "i.gif").exists()


@pytest.mark.parametrize(
    "content",
    [b"\0" * 10240, b"not an archive", tar_gz({"facades/README": b"hi"}), tar_gz({"other/train/1.png": b"x"})],
    ids=["zeros", "text", "no-images", "no-folder"],
)
def test_a_junk_archive_is_an_error_naming_it(isolated_data_home, content):
    archive = isolated_data_home / "facades" / "facades.tar.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(content)
    result = run_cli("data", "download", "facades")
    assert_refused(result, code=1, names=archive, saying="")
    assert "ok" not in result.stdout
