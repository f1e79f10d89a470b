"""The CLI as users meet it: exit codes, one-line errors, JSON that parses."""

import json

import pytest

from conftest import assert_no_traceback, list_json, run_cli


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("ganzoo 0.")


def test_list_everything_and_by_kind():
    kinds = {row["kind"] for row in list_json()}
    assert {"model", "dataset", "loss"} <= kinds
    models = list_json("models")
    assert [m["name"] for m in models] == sorted(m["name"] for m in models)
    dcgan = next(m for m in models if m["name"] == "dcgan")
    assert dcgan["task"] == "unconditional" and dcgan["plugin"] == "dcgan"


def test_list_pattern_alone_and_with_kind():
    assert [r["name"] for r in list_json("dc*")] == ["dcgan"]
    assert [r["name"] for r in list_json("losses", "*gan*")] == ["lsgan", "wgan-gp"]


def test_list_table_shows_provider():
    result = run_cli("list", "models")
    assert result.returncode == 0 and "dcgan" in result.stdout and "ganzoo 0.1.0" in result.stdout


def test_info_shows_options_and_paper():
    result = run_cli("info", "dcgan")
    assert result.returncode == 0
    for text in ("ngf", "ndf", "nz", "0.0002", "arxiv.org/abs/1511.06434", "dcgan (ganzoo"):
        assert text in result.stdout
    data = json.loads(run_cli("info", "digits", "--json").stdout)
    assert data[0]["kind"] == "dataset" and data[0]["type"] == "images" and data[0]["channels"] == 1


def test_info_unknown_name():
    result = run_cli("info", "dcgn")
    assert result.returncode == 2 and "Did you mean 'dcgan'" in result.stderr
    assert_no_traceback(result)


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "dcgn"], "Did you mean 'dcgan'"),
        (["train", "dcgan", "--dataset", "digitz"], "Did you mean 'digits'?"),
        (["train", "dcgan", "--set", "ngff=3"], "unknown option of model 'dcgan' 'ngff'. Did you mean 'ngf'?"),
        (["train", "dcgan", "--set", "ngf=wide"], "option 'ngf' of model 'dcgan' expects int, got 'wide'"),
        (["train", "dcgan", "--set", "lr=-1"], "option 'lr' of model 'dcgan' must be >= 0.0"),
        (["train", "dcgan", "--set", "ngf"], "--set expects KEY=VALUE"),
        (["train", "dcgan", "--set", "loss=hinj"], "Did you mean 'hinge'?"),
        (["train", "dcgan", "--resolution", "48"], "--resolution 48: dcgan supports 16, 32, 64, 128"),
        (["train", "dcgan", "--steps", "0"], "--steps must be a positive integer"),
        (["train", "dcgan", "--device", "cuda:7"], "--device"),
        (["train", "dcgan", "--data-root", "/nowhere"], "dataset 'digits' is embedded"),
        (["train", "dcgan", "--name", "a/b"], "--name 'a/b'"),
        (["list", "models", "extra", "more"], "Got unexpected extra argument"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message, tmp_path):
    result = run_cli(*args, "--out", tmp_path) if args[0] == "train" else run_cli(*args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert message in " ".join(result.stderr.split()), result.stderr
    assert_no_traceback(result)
    assert not any(tmp_path.iterdir()), "a rejected command must not create a run folder"


def test_generate_on_a_missing_or_foreign_folder(tmp_path):
    missing = run_cli("generate", tmp_path / "nope")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "notarun").mkdir()
    foreign = run_cli("generate", tmp_path / "notarun")
    assert foreign.returncode == 2 and "not a ganzoo run" in foreign.stderr
    for result in (missing, foreign):
        assert_no_traceback(result)


def test_building_the_cli_does_not_import_torch():
    """`ganzoo list`, `info` and `--help` stay fast: the commands (train's flags included, which
    are derived from the settings declarations) are built without importing torch."""
    import subprocess
    import sys

    code = "import sys; from ganzoo.cli import build_app; build_app(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_piped_tables_keep_each_row_on_one_line(tmp_path):
    """`ganzoo list | grep ...` and `ganzoo eval RUN > file`: no row folded at 80 columns, no
    heading wrapped to the width of a two-column table."""
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}  # as a pipe has it

    def piped(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "ganzoo", *args], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    (dcgan,) = [line for line in piped("list").splitlines() if line.split()[:2] == ["model", "dcgan"]]
    assert "Deep convolutional GAN: strided convolutions, BatchNorm, noise to image" in dcgan
    assert "dcgan (ganzoo" in dcgan
    assert (
        run_cli(
            "train", "dcgan", "--steps", 2, "--set", "ngf=8", "--set", "ndf=8", "--out", tmp_path, "--name", "r"
        ).returncode
        == 0
    )
    heading = piped(
        "eval", str(tmp_path / "r"), "--metric", "fid", "--n", "16", "--real", "16", "--feature-extractor", "digits"
    ).splitlines()[0]
    assert (
        heading.startswith(str(tmp_path / "r"))
        and heading.endswith("s")
        and "16 samples vs 16 real 'train' images, digits features" in heading
    )
