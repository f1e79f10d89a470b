"""Shared models: a run pushed to a Hub (a local stand-in on 127.0.0.1, tests/hub_server.py),
pulled into an empty cache and used by reference gives the run's images bit for bit; damaged,
foreign and unreachable models are one-line errors; generators export to ONNX and match
PyTorch in onnxruntime."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ganzoo
from conftest import assert_no_traceback, make_distribution, run_cli, with_site
from hub_server import make_server, put_repo

pytest.importorskip("huggingface_hub")

TINY = dict(batch_size=16, options={"ngf": 8, "ndf": 8}, sample_every=10, checkpoint_every=20)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    return ganzoo.train("dcgan", steps=20, out=str(out), name="r", ema_decay=0.9, **TINY).path


@pytest.fixture()
def hub(tmp_path):
    """The local Hub, and the environment that points the client at it with an empty cache."""
    server = make_server(port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {
        "HF_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_TOKEN": "test-token",
        "HF_HUB_DISABLE_XET": "1",  # the stand-in speaks the LFS protocol, not Xet
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "NO_PROXY": "127.0.0.1",
    }
    yield server, env
    server.shutdown()
    server.server_close()


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_push_pull_and_generate_by_reference_equal_the_run(run, hub, tmp_path):
    server, env = hub
    pushed = run_cli("push", run, "me/digits", env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed:" in pushed.stdout and "hf://me/digits" in pushed.stdout
    pulled = run_cli("pull", "me/digits", env=env)
    assert pulled.returncode == 0, pulled.stderr
    cached = Path(pulled.stdout.split(" in ", 1)[1].strip())
    assert {p.name for p in cached.iterdir()} == {
        "README.md",
        "config.json",
        "model.safetensors",
        "ganzoo.toml",
        "metrics.json",
        "samples.png",
    }
    for source, grid in ((run, tmp_path / "run.png"), ("hf://me/digits", tmp_path / "hub.png")):
        result = run_cli("generate", source, "--n", "16", "--seed", "7", "--grid", grid, env=env)
        assert result.returncode == 0, result.stderr
    assert np.array_equal(pixels(tmp_path / "run.png"), pixels(tmp_path / "hub.png"))
    card = (cached / "README.md").read_text()
    assert "library_name: ganzoo" in card and "![samples](samples.png)" in card and "hf://me/digits" in card
    config = json.loads((cached / "config.json").read_text())
    assert config["format"] == "ganzoo-model/1" and config["model"] == "dcgan"
    assert config["plugin"]["name"] == "dcgan" and config["latent_size"] == 100
    at_main = run_cli("generate", "hf://me/digits@main", "--n", "4", "--grid", tmp_path / "at-main.png", env=env)
    assert at_main.returncode == 0, at_main.stderr


def test_the_python_api_loads_a_hub_reference(run, hub, tmp_path):
    server, env = hub
    assert run_cli("push", run, "me/again", env=env).returncode == 0
    code = (
        f"import ganzoo, torch; m = ganzoo.load('hf://me/again'); r = ganzoo.load_run({str(run)!r}); "
        "print(torch.equal(m.generate(8, seed=3), r.generate(8, seed=3)))"
    )
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr


def test_damaged_foreign_and_unreachable_models_are_one_line_errors(run, hub, tmp_path):
    server, env = hub
    assert run_cli("push", run, "me/digits", env=env).returncode == 0
    pulled = run_cli("pull", "me/digits", env=env)
    cached = Path(pulled.stdout.split(" in ", 1)[1].strip())
    weights = (cached / "model.safetensors").resolve()  # the blob the snapshot links to
    original = weights.read_bytes()
    weights.write_bytes(original[:-8] + bytes(8))
    tampered = run_cli("generate", "hf://me/digits", "--n", "4", "--grid", tmp_path / "t.png", env=env)
    weights.write_bytes(original)

    folder = tmp_path / "foreign"
    shutil.copytree(cached, folder, symlinks=False)
    config = json.loads((folder / "config.json").read_text())
    config.update(model="nosuchgan", plugin={"name": "nosuch", "package": "ganzoo-nosuch", "version": "1.2"})
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    files["config.json"] = json.dumps(config).encode()
    put_repo(server, "me/foreign", files)
    foreign = run_cli("generate", "hf://me/foreign", "--n", "4", "--grid", tmp_path / "f.png", env=env)
    put_repo(server, "me/readme-only", {"README.md": b"# not a model\n"})
    not_ganzoo = run_cli("pull", "me/readme-only", env=env)
    missing = run_cli("pull", "me/nothing-here", env=env)
    offline = run_cli("pull", "me/digits2", env={**env, "HF_ENDPOINT": "http://127.0.0.1:9"})
    cases = {
        tampered: "does not match its config.json",
        foreign: "pip install 'ganzoo-nosuch>=1.2'",
        not_ganzoo: "holds no ganzoo model",
        missing: "no repository 'me/nothing-here' on the Hub",
        offline: "cannot reach the Hub",
    }
    for result, message in cases.items():
        assert result.returncode != 0, result.stdout
        assert_no_traceback(result)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert message in result.stderr, result.stderr
    assert not (tmp_path / "t.png").exists() and not (tmp_path / "f.png").exists()
    again = run_cli("generate", "hf://me/digits", "--n", "4", "--grid", tmp_path / "ok.png", env=env)
    assert again.returncode == 0, again.stderr  # the cache was left consistent


EXPORT_OPTIONS = {
    "dcgan": {"ngf": 8, "ndf": 8},
    "cdcgan": {"ngf": 8, "ndf": 8},
    "cyclegan": {"ngf": 8, "ndf": 8, "n_blocks": 1},
    "pix2pix": {"ngf": 4, "ndf": 4, "n_layers": 1},  # its default test-time dropout, as in the paper
}


@pytest.mark.parametrize("model", list(EXPORT_OPTIONS))
def test_export_to_onnx_matches_pytorch(model, tmp_path):
    pytest.importorskip("onnxruntime")
    trained = ganzoo.train(model, steps=2, batch_size=4, options=EXPORT_OPTIONS[model], out=str(tmp_path), name=model)
    result = run_cli("export", trained.path, "--format", "onnx", "--out", tmp_path / "g.onnx")
    assert result.returncode == 0, result.stderr
    assert "onnxruntime matches PyTorch within" in result.stdout and (tmp_path / "g.onnx").is_file()
    again = run_cli("export", trained.path, "--out", tmp_path / "g.onnx")
    assert again.returncode == 2 and "exists" in again.stderr


#: A plugin whose generator branches on the values of its input: torch.export cannot trace it.
BRANCHY = """
from ganzoo.plugin import ModelSpec, hookimpl
from ganzoo_dcgan.recipe import DCGAN


class BranchyGAN(DCGAN):
    def sample(self, noise, labels=None, truncation=None):
        images = super().sample(noise, labels, truncation)
        return images if float(noise.sum()) > 0 else -images


@hookimpl
def register_models(register):
    register(ModelSpec(name="branchy", summary="DCGAN drawing by the sign of its noise", task="unconditional",
                       build="ganzoo_branchy:BranchyGAN", options="ganzoo_dcgan.options:DCGANOptions",
                       default_dataset="digits", resolutions=(16,)))
"""


def test_a_generator_that_cannot_export_is_one_line(tmp_path):
    pytest.importorskip("onnxruntime")
    env = with_site(make_distribution(tmp_path / "site", "ganzoo-branchy", "ganzoo_branchy", BRANCHY, "branchy"))
    options = ("--set", "ngf=4", "--set", "ndf=4", "--set", "nz=4")
    trained = run_cli(
        "train", "branchy", "--steps", "1", "--batch-size", "2", *options, "--out", tmp_path, "--name", "b", env=env
    )
    assert trained.returncode == 0, trained.stderr
    result = run_cli("export", tmp_path / "b", "--out", tmp_path / "b.onnx", env=env)
    assert result.returncode == 1 and "model 'branchy' cannot be exported to ONNX" in result.stderr, result.stderr
    assert_no_traceback(result)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "b.onnx").exists()


@pytest.mark.parametrize("name, black", [("dcgan-mnist", 0.6), ("cdcgan-mnist", 0.6), ("dcgan-digits", 0.3)])
def test_a_pretrained_model_draws_offline_with_no_training(name, black, tmp_path):
    """Shipped with the package (under 2 MB of weights), in the format push uploads; it draws
    white strokes on black like its data (MNIST's background is wider than the 8x8 digits'), and
    its card states the measured scores and protocol."""
    from ganzoo.shared_models import PRETRAINED

    folder = PRETRAINED / name
    if not folder.is_dir():
        pytest.skip(f"{name} is not shipped in this checkout")
    assert (folder / "model.safetensors").stat().st_size < 2_000_000
    offline = {"HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}
    listed = run_cli("list", "pretrained", env=offline)
    assert listed.returncode == 0 and f"pretrained:{name}" in listed.stdout
    result = run_cli("generate", f"pretrained:{name}", "--n", "64", "--grid", tmp_path / "g.png", env=offline)
    assert result.returncode == 0, result.stderr
    grid = pixels(tmp_path / "g.png").astype(float)
    grid = grid if grid.ndim == 2 else grid[..., 0]
    assert (grid < 40).mean() > black and (grid > 200).mean() > 0.05  # black, with white strokes
    card = (folder / "README.md").read_text()
    assert "fid" in card and "generated samples against" in card and "`digits` extractor" in card
    assert not any(folder.glob("*.pkl")) and not any(folder.glob("*.pt"))
