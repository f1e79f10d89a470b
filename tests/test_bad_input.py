"""The bad-input and fault sweep: every case runs the real CLI in a subprocess, as a user would,
and must end with the expected exit code (2: usage, 1: failure, 0: a warning), a one-line
message and no traceback, while every file that existed before stays byte-identical.

Deeper tests of each guarantee live beside their feature (test_outputs.py, test_run_safety.py,
test_plugins.py, test_metrics.py); this file is the catalogue a new defect report is added to."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from conftest import make_distribution, run_cli, with_site

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

TINY = ["--steps", 2, "--batch-size", 8, "--set", "ngf=8", "--set", "ndf=8", "--log-every", 1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One tiny finished DCGAN run, copied into each case that uses it."""
    out = tmp_path_factory.mktemp("trained")
    result = run_cli("train", "dcgan", *TINY, "--out", out, "--name", "run")
    assert result.returncode == 0, result.stderr
    return out / "run"


@pytest.fixture(scope="module")
def translator(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("translator")
    result = run_cli(
        "train",
        "pix2pix",
        "--steps",
        2,
        "--resolution",
        16,
        "--batch-size",
        4,
        "--set",
        "ngf=8",
        "--set",
        "ndf=8",
        "--out",
        out,
        "--name",
        "p2p",
    )
    assert result.returncode == 0, result.stderr
    return out / "p2p"


@dataclass
class Case:
    name: str
    args: list  # "{run}", "{p2p}" and "{tmp}" are replaced by paths
    code: int
    says: str  # a fragment of the one-line message
    setup: Callable[[Path], None] = lambda tmp: None
    env: Callable[[Path], dict] = field(default=lambda tmp: {})


def image(path: Path, colour=(200, 30, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 24), colour).save(path)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def damaged_run(tmp: Path) -> None:
    write(tmp / "runs" / "x" / "config.json", "[]")


def plugin(source: str, entry: str = "sweep"):
    return lambda tmp: with_site(
        make_distribution(tmp / "site", "ganzoo-sweep", "ganzoo_sweep", source, entry_name=entry)
    )


def edited_config(tmp: Path) -> None:
    config = json.loads((tmp / "run" / "config.json").read_text())
    config["options"]["ngf"] = 16
    (tmp / "run" / "config.json").write_text(json.dumps(config))


def edit_training(tmp: Path, **values) -> None:
    config = json.loads((tmp / "run" / "config.json").read_text())
    config["training"].update(values)
    (tmp / "run" / "config.json").write_text(json.dumps(config))


def tampered_tensor(tmp: Path) -> None:
    """Flip bytes in the middle of the checkpoint's tensor data (its JSON header stays valid)."""
    path = tmp / "run" / "checkpoints" / "step-00000002.safetensors"
    data = bytearray(path.read_bytes())
    middle = len(data) - 4096
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))


def photos(tmp: Path) -> None:
    image(tmp / "DIR" / "a.png")
    image(tmp / "DIR" / "sub" / "a.png", (10, 200, 10))


def junk_archive(tmp: Path) -> None:
    write(tmp / "gd" / "facades" / "facades.tar.gz", "not an archive")


CASES = [
    # -- outputs never touch inputs (defects 1 and 5) ----------------------------------------
    Case(
        "translate-onto-its-input",
        ["translate", "{p2p}", "--input", "{tmp}/DIR/a.png", "--out", "{tmp}/DIR"],
        2,
        "is an input of this command",
        setup=photos,
    ),
    Case(
        "translate-into-a-subfolder",
        ["translate", "{p2p}", "--input", "{tmp}/DIR", "--out", "{tmp}/DIR/sub"],
        2,
        "already exists",
        setup=photos,
    ),
    Case(
        "translate-out-is-a-file",
        ["translate", "{p2p}", "--input", "{tmp}/DIR", "--out", "{tmp}/file"],
        2,
        "is a file",
        setup=lambda tmp: (photos(tmp), write(tmp / "file", "mine")),
    ),
    Case(
        "generate-out-is-a-file",
        ["generate", "{run}", "--out", "{tmp}/file"],
        2,
        "is a file, not a folder",
        setup=lambda tmp: write(tmp / "file", "mine"),
    ),
    Case(
        "generate-grid-exists",
        ["generate", "{run}", "--grid", "{tmp}/mine.png"],
        2,
        "--overwrite allows it",
        setup=lambda tmp: image(tmp / "mine.png"),
    ),
    Case("generate-a-billion", ["generate", "{run}", "--n", "1000000000"], 2, "a grid holds at most"),
    # -- a run folder is a run (defect 2) ----------------------------------------------------------
    Case(
        "name-dot-dot",
        ["train", "dcgan", *TINY, "--out", "{tmp}/P/runs", "--name", ".."],
        2,
        "must be one folder name",
        setup=lambda tmp: (write(tmp / "P" / "log.txt", "notes"), (tmp / "P" / "runs").mkdir()),
    ),
    Case(
        "name-is-a-users-folder",
        ["train", "dcgan", *TINY, "--out", "{tmp}/runs", "--name", "mine"],
        2,
        "holds no run",
        setup=lambda tmp: write(tmp / "runs" / "mine" / "notes.txt", "mine"),
    ),
    # -- checkpoints are verified (defect 7) -------------------------------------------------------
    Case(
        "generate-from-tampered",
        ["generate", "{run}", "--n", "2", "--out", "{tmp}/g"],
        1,
        "tensor data does not match its digest",
        setup=tampered_tensor,
    ),
    Case("resume-below-its-step", ["train", "--resume", "{run}", "--steps", "1"], 2, "is not beyond it"),
    # -- numbers that pass a type check but are not usable (defects 5 and 9) -------------------
    Case("lr-nan", ["train", "dcgan", *TINY, "--set", "lr=nan", "--out", "{tmp}/runs"], 2, "must be a finite number"),
    Case("lr-inf", ["train", "dcgan", *TINY, "--set", "lr=inf", "--out", "{tmp}/runs"], 2, "must be a finite number"),
    Case("r1-inf", ["train", "dcgan", *TINY, "--set", "r1_gamma=inf", "--out", "{tmp}/runs"], 2, "finite number"),
    Case("clip-nan", ["train", "dcgan", *TINY, "--clip-grad", "nan", "--out", "{tmp}/runs"], 2, "--clip-grad must be"),
    Case(
        "nz-huge",
        ["train", "dcgan", *TINY, "--set", "nz=99999999999999999999999", "--out", "{tmp}/runs"],
        2,
        "at most 63 bits",
    ),
    Case(
        "seed-huge",
        ["train", "dcgan", *TINY, "--seed", "1180591620717411303424", "--out", "{tmp}/runs"],
        2,
        "--seed must be an integer of at most 63 bits",
    ),
    Case(
        "pr-too-few",
        ["eval", "{run}", "--metric", "pr", "--n", "2", "--real", "2", "--feature-extractor", "digits"],
        2,
        "needs more than 3 real and generated images",
    ),
    # -- the file system -------------------------------------------------------------------------
    Case(
        "out-is-a-file",
        ["train", "dcgan", *TINY, "--out", "{tmp}/file"],
        1,
        "cannot create the run folder",
        setup=lambda tmp: write(tmp / "file", "mine"),
    ),
    # -- a malformed run never breaks the listing, and is refused in one line (defect 4) --------
    Case("runs-lists-damaged", ["runs", "{tmp}/runs"], 0, "damaged", setup=damaged_run),
    Case(  # the run is still listed, with its other facts
        "runs-with-a-corrupt-status",
        ["runs", "{run}/.."],
        0,
        "run  dcgan  digits   2/2    unknown",
        setup=lambda tmp: write(tmp / "run" / "status.json", "{bad"),
    ),
    Case("resume-damaged", ["train", "--resume", "{tmp}/runs/x"], 1, "config.json", setup=damaged_run),
    Case("generate-damaged", ["generate", "{tmp}/runs/x"], 1, "config.json", setup=damaged_run),
    # -- smaller (defect 11) -------------------------------------------------------------------
    Case(
        "config-edited",
        ["generate", "{run}", "--n", "2"],
        1,
        "does not fit model 'dcgan' as configured in",
        setup=edited_config,
    ),
    Case(
        "junk-archive",
        ["data", "download", "facades"],
        1,
        "facades.tar.gz",
        setup=junk_archive,
        env=lambda tmp: {"GANZOO_DATA": str(tmp / "gd")},
    ),
    Case(
        "make-edges-same-stem",
        ["data", "make-edges", "{tmp}/photos", "{tmp}/pairs", "--resolution", "16"],
        0,
        "wrote 2 train and 0 val pairs",
        setup=lambda tmp: (image(tmp / "photos" / "a.png"), image(tmp / "photos" / "a.jpg")),
    ),
    Case(
        "interpolate-png",
        ["interpolate", "{run}", "--out", "{tmp}/walk.png", "--steps", "2", "--points", "2", "--n", "2"],
        0,
        "walk-strip.png",
    ),
    Case(
        "follow-up-quoted",
        ["train", "dcgan", *TINY, "--out", "{tmp}/my runs", "--name", "q"],
        0,
        "ganzoo generate '{tmp}/my runs/q'",
    ),
    # -- plugins (defect 10) ---------------------------------------------------------------------
    Case("plugin-exits", ["list", "models"], 0, "failed to import", env=plugin("import sys; sys.exit(3)\n")),
    # -- seeds and names beyond what a file system or a generator takes ------------------------
    *[
        Case(
            f"{command}-seed-beyond-64-bits",
            [command, "{run}", "--seed", 2**64, *extra],
            2,
            "--seed must be an integer of at most 63 bits",
        )
        for command, extra in (
            ("generate", ["--out", "{tmp}/g"]),
            ("interpolate", ["--out", "{tmp}/i.gif"]),
            ("eval", ["--metric", "", "--n", 8]),
        )
    ],
    Case("masks-seed-beyond-64-bits", ["data", "masks", "--seed", -(2**65), "--out", "{tmp}/m"], 2, "--seed must be"),
    Case(  # a hand-edited config.json: refused before the run is touched (no "running" left behind)
        "resume-with-a-float-batch-size",
        ["train", "--resume", "{run}"],
        2,
        "'training.batch_size' in '{run}/config.json' must be an integer, got 2.5; restore the file to resume the run",
        setup=lambda tmp: edit_training(tmp, batch_size=2.5),
    ),
    Case(  # built on the meta device first: refused with the figures before anything is allocated
        "a-width-no-machine-holds",
        ["train", "dcgan", "--set", "ngf=100000000", "--out", "{tmp}/runs"],
        2,
        "has 320,000,322,200,134,400 parameters (1,280,001.3 TB); training needs about 4x that",
    ),
    Case(
        "a-name-of-100k-characters",
        ["train", "dcgan", *TINY, "--name", "x" * 100_000, "--out", "{tmp}/runs"],
        2,
        "... (100,000 characters)' is too long: a folder name has at most 255 bytes",
    ),
    Case(
        "plugin-takes-train",
        ["list", "models"],
        0,
        "tried to register the command 'train'",
        env=plugin(
            "from ganzoo import hookimpl\n\n@hookimpl\ndef register_commands(app):\n"
            "    @app.command()\n    def train():\n        print('hijacked')\n"
        ),
    ),
    Case(
        "plugin-named-dcgan",
        ["list", "models"],
        0,
        "already taken",
        env=plugin("from ganzoo import hookimpl\n", entry="dcgan"),
    ),
]


def fingerprint(*roots: Path) -> dict[Path, str]:
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest()
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input(case, tmp_path, request):
    paths = {"tmp": tmp_path}
    if any("{run}" in str(a) for a in case.args):
        shutil.copytree(request.getfixturevalue("trained"), tmp_path / "run")
        paths["run"] = tmp_path / "run"
    if any("{p2p}" in str(a) for a in case.args):
        shutil.copytree(request.getfixturevalue("translator"), tmp_path / "p2p")
        paths["p2p"] = tmp_path / "p2p"
    case.setup(tmp_path)
    env = case.env(tmp_path)
    before = fingerprint(tmp_path)
    args = [str(a).format(**paths) for a in case.args]
    result = run_cli(*args, env=env)
    output = result.stderr + result.stdout
    assert result.returncode == case.code, output
    assert "Traceback" not in output, output
    assert case.says.format(**paths) in output, output
    if case.code:  # an error is one line
        errors = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("ganzoo:")]
        assert len(errors) == 1, result.stderr
    after = fingerprint(tmp_path)
    changed = [str(p) for p, digest in before.items() if after.get(p) != digest and "site" not in p.parts]
    assert not changed, f"pre-existing files changed: {changed}"


def test_a_full_disk_during_a_checkpoint_is_one_line_and_keeps_the_previous(tmp_path, monkeypatch, capsys):
    """The disk fills up while the second checkpoint is written: one line, exit 1, and the first
    checkpoint is whole and the run resumes from it."""
    import sys

    import safetensors.torch
    from safetensors import SafetensorError

    import ganzoo.cli
    from ganzoo.training.checkpoint import load_checkpoint

    real_save, calls = safetensors.torch.save_file, []

    def save_until_full(tensors, filename, metadata=None):
        calls.append(filename)
        if len(calls) > 1:
            raise SafetensorError(
                "Error while serializing: IoError(Os { code: 28, kind: StorageFull, "
                'message: "No space left on device" })'
            )
        real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr("ganzoo.training.checkpoint.save_file", save_until_full)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "ganzoo",
            "train",
            "dcgan",
            *map(str, TINY),
            "--steps",
            "4",
            "--checkpoint-every",
            "2",
            "--out",
            str(tmp_path),
            "--name",
            "full",
        ],
    )
    with pytest.raises(SystemExit) as stopped:
        ganzoo.cli.main()
    assert stopped.value.code == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "the disk is full" in errors[0] and "Traceback" not in errors[0]
    kept = sorted((tmp_path / "full" / "checkpoints").glob("*.safetensors"))
    assert [p.name for p in kept] == ["step-00000002.safetensors"]
    load_checkpoint(kept[0])
    assert not list((tmp_path / "full" / "checkpoints").glob(".*tmp*")), "no temporary file is left behind"
