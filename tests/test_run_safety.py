"""A run folder defends itself (docs/runs.md, "Guarantees"): a run is created only in a new or
empty folder inside --out; one process writes a run at a time; every checkpoint load checks its
digests, and a resume checks that the checkpoint and the data are the run's own; leftovers of
killed writers are removed. Each case runs the real CLI and checks the exit code, a one-line
message without a traceback, and that files that were there before are byte-identical."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from conftest import assert_no_traceback, run_cli
from ganzoo.errors import CheckpointError, GanzooError, UsageError
from ganzoo.training.checkpoint import load_checkpoint, save_checkpoint
from ganzoo.training.run_dir import RunDir
from test_engine import cli_process, wait_for

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

TINY = ["--batch-size", 8, "--resolution", 16, "--set", "ngf=8", "--set", "ndf=8", "--log-every", 1]


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (and the folder's entries), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one line of an error, after checking there is no traceback."""
    assert_no_traceback(result)
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Two finished 4-step runs with checkpoints at steps 2 and 4: 'base', and 'hinge' (another loss)."""
    out = tmp_path_factory.mktemp("runs")
    for name, extra in (("base", []), ("hinge", ["--loss", "hinge"])):
        result = run_cli(
            "train", "dcgan", *TINY, *extra, "--steps", 4, "--checkpoint-every", 2, "--out", out, "--name", name
        )
        assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def run(runs, tmp_path) -> Path:
    """A fresh copy of the base run, to resume or damage."""
    copy = tmp_path / "runs" / "r"
    shutil.copytree(runs / "base", copy)
    return copy


def flip_tensor_byte(path: Path, offset: int = 100) -> None:
    """Invert one byte inside the tensor data (after the safetensors header)."""
    data = bytearray(path.read_bytes())
    header = struct.unpack("<Q", data[:8])[0]
    data[8 + header + offset] ^= 0xFF
    path.write_bytes(bytes(data))


# -- a run folder is a run ------------------------------------------------------------------


def test_name_dotdot_is_refused_and_the_parent_untouched(tmp_path):
    parent = tmp_path / "P"
    (parent / "runs").mkdir(parents=True)
    (parent / "log.txt").write_text("notes\n")
    (parent / "losses.png").write_bytes(b"my plot")
    before = snapshot(parent)
    result = run_cli("train", "dcgan", *TINY, "--steps", 2, "--out", parent / "runs", "--name", "..")
    assert result.returncode == 2
    assert "--name '..' must be one folder name" in error_line(result)
    assert snapshot(parent) == before


@pytest.mark.parametrize("name", [".", "a/b"])
def test_name_is_one_path_component(tmp_path, name):
    result = run_cli("train", "dcgan", *TINY, "--steps", 2, "--out", tmp_path, "--name", name)
    assert result.returncode == 2 and "--name" in error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_a_run_is_refused_untouched(tmp_path):
    folder = tmp_path / "runs" / "mine"
    folder.mkdir(parents=True)
    (folder / "log.txt").write_text("my notes\n")
    (folder / "metrics.jsonl").write_text('{"mine": 1}\n')
    before = snapshot(tmp_path)
    result = run_cli("train", "dcgan", *TINY, "--steps", 2, "--out", tmp_path / "runs", "--name", "mine")
    assert result.returncode == 2
    assert "is a folder that is not empty (log.txt, metrics.jsonl) and holds no run" in error_line(result)
    assert snapshot(tmp_path) == before  # not even a lock file was added


def test_a_name_that_links_outside_out_is_refused(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "runs" / "link").symlink_to(tmp_path / "elsewhere")
    result = run_cli("train", "dcgan", *TINY, "--steps", 2, "--out", tmp_path / "runs", "--name", "link")
    assert result.returncode == 2 and "leads outside --out" in error_line(result)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_an_empty_folder_becomes_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("train", "dcgan", *TINY, "--steps", 1, "--out", tmp_path, "--name", "empty")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "empty" / "config.json").is_file()


# -- one writer per run ---------------------------------------------------------------------


def test_two_trains_with_one_name_give_one_run_and_one_refusal(tmp_path):
    args = ["train", "dcgan", *TINY, "--steps", 40, "--out", tmp_path, "--name", "same"]
    first, second = cli_process(*args), cli_process(*args)
    results = [(p.wait(timeout=600), p.communicate()[1]) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0 and codes[1] in (1, 2), results
    refusal = next(stderr for code, stderr in results if code != 0)
    assert "Traceback" not in refusal
    assert "is being written by process" in refusal or "already holds a run" in refusal, refusal
    steps = [json.loads(line)["step"] for line in (tmp_path / "same" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 41)), "one process wrote the run, each step once"
    assert "resumes" not in json.loads((tmp_path / "same" / "config.json").read_text())


def test_creating_a_run_and_taking_its_lock_is_one_step(tmp_path):
    first = RunDir(tmp_path / "x").create_locked()
    try:  # a second creator (here: another open file, as another process has) is refused
        with pytest.raises(GanzooError, match=f"run '{tmp_path / 'x'}' is being written by process {os.getpid()}"):
            RunDir(tmp_path / "x").create_locked()
        assert RunDir(tmp_path / "x").writer() == os.getpid()
    finally:
        first.release()
    assert RunDir(tmp_path / "x").writer() is None and (tmp_path / "x" / ".lock").read_text() == ""
    (tmp_path / "x" / "config.json").write_text("{}")  # the first made it a run: the next creator learns so
    with pytest.raises(UsageError, match="already holds a run"):
        RunDir(tmp_path / "x").create_locked()


def test_a_running_run_has_one_writer_and_runs_shows_it(tmp_path):
    run = tmp_path / "live"
    process = cli_process(
        "train", "dcgan", *TINY, "--steps", 100000, "--checkpoint-every", 2, "--out", tmp_path, "--name", "live"
    )
    try:
        wait_for(run / "checkpoints" / "step-00000002.safetensors", process)
        config = (run / "config.json").read_bytes()
        second = run_cli("train", "--resume", run)
        assert second.returncode == 1
        assert f"run '{run}' is being written by process {process.pid}" in error_line(second)
        again = run_cli("train", "dcgan", *TINY, "--steps", 2, "--out", tmp_path, "--name", "live")
        assert again.returncode == 2 and "already holds a run" in error_line(again)
        assert (run / "config.json").read_bytes() == config

        rows = json.loads(run_cli("runs", tmp_path, "--json").stdout)
        assert [(r["state"], r["pid"]) for r in rows] == [("running", process.pid)]
        table = run_cli("runs", tmp_path)
        assert f"running (pid {process.pid})" in table.stdout
    finally:
        process.kill()  # SIGKILL: the kernel releases the lock; status.json still says "running"
        process.communicate()
    assert json.loads((run / "status.json").read_text())["state"] == "running"
    rows = json.loads(run_cli("runs", tmp_path, "--json").stdout)
    assert [(r["state"], r["pid"]) for r in rows] == [("interrupted", None)]

    # the next writer gets the lock (no stale lock), and removes a killed write's temporary file
    checkpoints = run / "checkpoints"
    newest = max(int(p.name[5:13]) for p in checkpoints.glob("step-*.safetensors"))
    leftover = checkpoints / f".writing-{process.pid}"  # what a write killed half-way leaves
    leftover.mkdir(exist_ok=True)  # the kill above may have left it already, mid-write
    (leftover / f"step-{newest + 1:08d}.safetensors").write_bytes(b"half a checkpoint")
    (leftover / ".tmpX7b2Qz").write_bytes(b"safetensors' own temporary file")
    users = checkpoints / "notes.tmp-1"
    users.write_text("not ours")
    resumed = run_cli("train", "--resume", run, "--steps", newest + 1)
    assert resumed.returncode == 0, resumed.stderr
    assert not leftover.exists() and users.read_text() == "not ours"
    assert not [p.name for p in checkpoints.iterdir() if p.name.startswith(".")]  # its own writes left nothing
    assert json.loads((run / "status.json").read_text())["state"] == "finished"


# -- checkpoints are verified ---------------------------------------------------------------


def test_tampered_tensor_bytes_are_detected_and_the_older_checkpoint_used(run):
    newest = run / "checkpoints" / "step-00000004.safetensors"
    flip_tensor_byte(newest)
    with pytest.raises(CheckpointError, match=r"is damaged \(tensor data does not match its digest\)"):
        load_checkpoint(newest)
    generate = run_cli("generate", run, "--checkpoint", newest, "--n", 2, "--grid", run.parent / "g.png")
    assert generate.returncode == 1 and "is damaged (tensor data does not match its digest)" in error_line(generate)

    resumed = run_cli("train", "--resume", run, "--steps", 6)
    assert resumed.returncode == 0, resumed.stderr
    assert_no_traceback(resumed)
    assert "diverged" not in resumed.stderr
    warnings = [line for line in resumed.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: skipping checkpoint step-00000004.safetensors: checkpoint '{newest}' is damaged "
        "(tensor data does not match its digest)"
    ]
    assert f"resuming {run} from step 2" in resumed.stderr
    assert (run / "checkpoints" / "step-00000004.safetensors.refused").is_file(), "kept, out of the way"
    again = run_cli("train", "--resume", run, "--steps", 7)  # the refused file is not tried again
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr


def test_a_checkpoint_of_another_run_is_refused_with_its_reason(runs, run):
    foreign = run / "checkpoints" / "step-00000006.safetensors"
    shutil.copy(runs / "hinge" / "checkpoints" / "step-00000004.safetensors", foreign)
    resumed = run_cli("train", "--resume", run, "--steps", 8)
    assert resumed.returncode == 0, resumed.stderr
    assert (
        f"warning: skipping checkpoint step-00000006.safetensors: checkpoint '{foreign}' belongs to another "
        "run (options.loss is 'hinge' there, 'nonsaturating' in this run)"
    ) in resumed.stderr
    assert f"resuming {run} from step 4" in resumed.stderr


def test_a_run_with_no_checkpoint_of_its_own_is_refused(run):
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "run_id": "0123456789abcdef"}))
    before = snapshot(run)
    result = run_cli("train", "--resume", run, "--steps", 8)
    assert result.returncode == 1
    assert "has no usable checkpoint to resume from: each of its 2 was refused" in error_line(result)
    assert result.stderr.count("was written by run") == 2
    assert snapshot(run) == before


def test_a_budget_not_beyond_the_step_is_refused_before_anything_is_written(run):
    before = snapshot(run)
    result = run_cli("train", "--resume", run, "--steps", 3)
    assert result.returncode == 2
    assert "the run is at step 4; --steps 3 is not beyond it" in error_line(result)
    assert snapshot(run) == before
    # `--resume .` from inside the run is that run (not a new run next to it)
    inside = run_cli("train", "--resume", ".", "--steps", 4, cwd=run)
    assert inside.returncode == 2 and "the run is at step 4; --steps 4 is not beyond it" in error_line(inside)
    assert snapshot(run) == before


def test_a_dataset_that_changed_size_under_a_run_is_refused(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(8):
        Image.new("RGB", (20, 20), (30 * i, 0, 0)).save(photos / f"{i}.png")
    result = run_cli(
        "train",
        "dcgan",
        "--dataset",
        "folder",
        "--data-root",
        photos,
        *TINY,
        "--batch-size",
        4,
        "--steps",
        2,
        "--out",
        tmp_path,
        "--name",
        "f",
    )
    assert result.returncode == 0, result.stderr
    Image.new("RGB", (20, 20), (0, 0, 255)).save(photos / "new.png")
    before = snapshot(tmp_path / "f")
    resumed = run_cli("train", "--resume", tmp_path / "f", "--steps", 4)
    assert resumed.returncode == 1
    assert "dataset 'folder' changed under this run: it holds 9 examples now, 8 when the run started" in error_line(
        resumed
    )
    assert snapshot(tmp_path / "f") == before


def test_digests_cover_tensors_and_values_and_old_checkpoints_still_load(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = tmp_path / "c.safetensors"
    save_checkpoint(path, {"w": torch.arange(6.0), "step": 7}, {"step": 7})
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(path))

    edited = tmp_path / "edited.safetensors"  # the step changed in the metadata, digests kept
    save_file(tensors, str(edited), metadata={**metadata, "state": metadata["state"].replace("7", "8")})
    with pytest.raises(CheckpointError, match=r"damaged \(its metadata does not match its digest\)"):
        load_checkpoint(edited)

    old = tmp_path / "old.safetensors"  # written before digests: loaded without a check
    legacy = {k: v for k, v in metadata.items() if not k.endswith("_digest")}
    save_file(tensors, str(old), metadata={**legacy, "format": "ganzoo-checkpoint/1"})
    state, info = load_checkpoint(old)
    assert state["step"] == 7 and info == {"step": 7}

    stripped = tmp_path / "stripped.safetensors"  # a digested format without its digests: damaged
    save_file(tensors, str(stripped), metadata=legacy)
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(stripped)


# -- leftovers ------------------------------------------------------------------------------


def test_leftovers_of_a_killed_prepare_are_removed_by_the_next(tmp_path, isolated_data_home):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        Image.new("RGB", (20, 20), (60 * i, 0, 0)).save(photos / f"{i}.png")
    prepared = isolated_data_home / "prepared"
    prepared.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)

    killed = prepared / f"folder-train-16px-0123456789ab.tmp-{dead_pid}"  # killed while building
    killed.mkdir()
    (killed / "image.u8").write_bytes(b"\0" * 1000)
    (killed / ".lock").touch()
    replacing = prepared / f"folder-train-16px-0123456789ab.old-{dead_pid}"  # killed while replacing
    replacing.mkdir()
    building = prepared / f"anime-train-64px-abcdef012345.tmp-{dead_pid}"  # a build in progress elsewhere
    building.mkdir()
    lock = os.open(building / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    alive = prepared / f"anime-train-64px-abcdef012345.tmp-{os.getpid()}"  # no lock yet, its process lives
    alive.mkdir()
    users = prepared / "notes.tmp-1"
    users.mkdir()
    try:
        result = run_cli("data", "prepare", "folder", "--data-root", photos, "--resolution", 16)
        assert result.returncode == 0, result.stderr
    finally:
        os.close(lock)
    assert not killed.exists() and not replacing.exists()
    assert building.is_dir() and alive.is_dir() and users.is_dir()
    assert not list(prepared.glob("folder-*/.lock")), "the finished cache holds no lock file"


def test_runs_lists_a_malformed_run_without_a_traceback(run):
    (run / "config.json").write_text("[]")
    listing = run_cli("runs", run.parent, "--json")
    assert listing.returncode == 0 and [r["name"] for r in json.loads(listing.stdout)] == ["r"]
    assert_no_traceback(listing)
    resumed = run_cli("train", "--resume", run)
    assert resumed.returncode == 1 and "is not a run configuration" in error_line(resumed)
