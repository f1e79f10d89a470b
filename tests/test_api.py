"""The Python API (ganzoo.train / load_run / Run), config files, lifecycle hooks and loggers."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
from conftest import ROOT, assert_no_traceback, run_cli
from ganzoo.errors import GanzooError, UsageError
from ganzoo.training.checkpoint import load_checkpoint

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

# deterministic: runs compared bitwise must be, on a GPU too
TINY = dict(batch_size=16, log_every=5, sample_every=10, checkpoint_every=10, seed=3, deterministic=True)
TINY_FLAGS = [
    "--batch-size",
    "16",
    "--log-every",
    "5",
    "--sample-every",
    "10",
    "--checkpoint-every",
    "10",
    "--seed",
    "3",
    "--deterministic",
]


def weights(run_path, step):
    state, _ = load_checkpoint(run_path / "checkpoints" / f"step-{step:08d}.safetensors")
    return state["model"]


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def api_run(tmp_path_factory):
    """A 10-step DCGAN run trained from Python (in this process)."""
    out = tmp_path_factory.mktemp("api")
    return ganzoo.train("dcgan", steps=10, out=str(out), name="api", **TINY)


def test_train_returns_a_run_with_its_records(api_run):
    assert api_run.config["model"] == "dcgan" and api_run.config["dataset"] == "digits"
    assert api_run.status["state"] == "finished" and api_run.status["step"] == 10
    logged = [m["step"] for m in api_run.metrics() if "loss_D" in m]
    assert logged == [5, 10]
    assert [p.name for p in api_run.samples()] == ["step-00000010.png"]
    assert api_run._repr_png_() == api_run.samples()[-1].read_bytes()  # what Jupyter shows
    assert "dcgan" in repr(api_run)
    assert ganzoo.load_run(api_run.path).config == api_run.config
    model = api_run.model()  # the nn.Module docs/python-api.md promises, in eval mode
    assert isinstance(model, torch.nn.Module) and not model.training and model is api_run.model()


def test_generate_gives_the_bytes_of_the_cli(api_run, tmp_path):
    images = api_run.generate(6, seed=11)
    assert images.dtype == torch.uint8 and images.shape == (6, 1, 16, 16)
    assert torch.equal(images, api_run.generate(6, seed=11))
    assert not torch.equal(images, api_run.generate(6, seed=12))
    result = run_cli("generate", api_run.path, "--n", "6", "--seed", "11", "--out", tmp_path / "cli")
    assert result.returncode == 0, result.stderr
    for index, image in enumerate(images):
        written = np.array(Image.open(tmp_path / "cli" / f"{index}.png"))
        assert np.array_equal(written, image[0].numpy())


def test_api_errors_are_one_line_ganzoo_errors(api_run, tmp_path):
    with pytest.raises(UsageError, match="unknown setting 'stepz'. Did you mean 'steps'"):
        ganzoo.train("dcgan", stepz=3)
    with pytest.raises(UsageError, match="cannot translate"):
        api_run.translate(torch.zeros(1, 3, 16, 16, dtype=torch.uint8))
    with pytest.raises(UsageError, match="cannot inpaint"):
        api_run.inpaint(torch.zeros(1, 1, 16, 16, dtype=torch.uint8), torch.ones(1, 1, 16, 16))
    with pytest.raises(UsageError, match="seed cannot change it"):
        api_run.resume(seed=4)
    with pytest.raises(GanzooError, match="not a ganzoo run"):
        ganzoo.load_run(tmp_path)


def test_resume_from_python_equals_the_cli_resume(api_run, tmp_path):
    python_run = ganzoo.load_run(shutil.copytree(api_run.path, tmp_path / "python"))
    cli_path = shutil.copytree(api_run.path, tmp_path / "cli")
    python_run.resume(steps=20)
    result = run_cli("train", "--resume", cli_path, "--steps", "20")
    assert result.returncode == 0, result.stderr
    assert python_run.status["step"] == 20
    assert_same_weights(weights(python_run.path, 20), weights(cli_path, 20))


# -- config files ---------------------------------------------------------------------------

CONFIG = """\
# the same run as FLAGS
steps = 2
batch-size = 16
log_every = 1
seed = 3
lr-schedule = "linear-decay"
ema-decay = 0.99
deterministic = true

[model]
name = "dcgan"
ngf = 16
loss = "hinge"
"""
FLAGS = [
    "dcgan",
    "--steps",
    "2",
    "--batch-size",
    "16",
    "--log-every",
    "1",
    "--seed",
    "3",
    "--lr-schedule",
    "linear-decay",
    "--ema-decay",
    "0.99",
    "--set",
    "ngf=16",
    "--loss",
    "hinge",
    "--deterministic",
]


def test_a_toml_file_equals_its_flags_and_a_run_repeats_from_its_config_json(tmp_path):
    (tmp_path / "run.toml").write_text(CONFIG)
    for args in (
        ["train", *FLAGS, "--name", "flags"],
        ["train", "--config", tmp_path / "run.toml", "--name", "toml"],
        ["train", "--config", tmp_path / "runs" / "flags" / "config.json", "--name", "again"],
    ):
        result = run_cli(*args, "--out", tmp_path / "runs")
        assert result.returncode == 0, result.stderr
    configs = {
        name: json.loads((tmp_path / "runs" / name / "config.json").read_text()) for name in ("flags", "toml", "again")
    }
    for name in ("toml", "again"):
        assert configs[name]["training"] == configs["flags"]["training"]
        assert configs[name]["options"] == configs["flags"]["options"]
        assert_same_weights(weights(tmp_path / "runs" / name, 2), weights(tmp_path / "runs" / "flags", 2))
    assert configs["flags"]["options"]["ngf"] == 16 and configs["flags"]["training"]["ema_decay"] == 0.99


def test_flags_override_the_config_file(tmp_path):
    from ganzoo.training.config_file import merged_settings

    (tmp_path / "run.toml").write_text(CONFIG)
    settings = merged_settings(None, {"steps": 7, "sets": ["ngf=8"]}, tmp_path / "run.toml")
    assert (settings.model, settings.steps, settings.batch_size, settings.sets) == ("dcgan", 7, 16, ["ngf=8"])
    assert settings.option_values == {"ngf": 16, "loss": "hinge"}  # --set ngf=8 is applied over these
    settings = merged_settings("cdcgan", {}, tmp_path / "run.toml")
    assert settings.model == "cdcgan"  # MODEL on the command line wins too
    (tmp_path / "sets.toml").write_text(
        'model = "dcgan"\nepochs = 4\nset = ["ngf=8", "lr=0.001"]\ndata-set = ["upscale=bilinear"]\nlogger = ["csv"]\n'
    )
    settings = merged_settings(None, {"sets": ["lr=0.002"], "steps": 10, "loggers": ["jsonl"]}, tmp_path / "sets.toml")
    assert settings.sets == ["ngf=8", "lr=0.001", "lr=0.002"]  # per key: the file's ngf stays, the flag's lr wins
    assert settings.data_sets == ["upscale=bilinear"] and settings.loggers == ["jsonl"]
    assert (settings.steps, settings.epochs) == (10, None)  # the flag's budget replaces the file's epochs
    settings = merged_settings(None, {"option_values": {"loss": "wgan-gp"}}, tmp_path / "run.toml")
    assert settings.option_values == {"ngf": 16, "loss": "wgan-gp"}  # keywords merge into [model] per key too
    settings = merged_settings(None, {"steps": 10}, ROOT / "examples" / "configs" / "mnist.toml")
    assert (settings.steps, settings.epochs) == (10, None)  # `--config mnist.toml --steps 10`: a quick try


@pytest.mark.parametrize(
    "text, message",
    [
        ("model = 'dcgan'\nbatchsize = 3\n", "unknown key 'batchsize' in --config .*Did you mean 'batch-size'"),
        ("model = 'dcgan'\nsteps = 'ten'\n", "'steps' in --config .* must be an integer, not 'ten'"),
        ("model = 'dcgan'\nsteps = true\n", "'steps' in --config .* must be an integer"),
        (
            "[model]\nname = 'dcgan'\nngff = 3\n",
            r"unknown option of model 'dcgan' \(\[model\] in --config '.*bad.toml'\) 'ngff'. Did you mean 'ngf'",
        ),
        ("model = 'dcgan'\n[model]\nngf = 3\n", "Cannot overwrite a value .* name the model inside its table"),
        ("model = 'dcgan\n", "is not valid TOML"),
        ("steps = 3\n", "missing MODEL"),
    ],
)
def test_config_file_mistakes_are_usage_errors(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text)
    result = run_cli("train", "--config", tmp_path / "bad.toml", "--out", tmp_path / "runs")
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert re.search(message, " ".join(result.stderr.split())), result.stderr
    assert not (tmp_path / "runs").exists()


def test_the_example_configs_plan_their_recipes():
    from ganzoo.plugins import load_plugins
    from ganzoo.training.config_file import merged_settings
    from ganzoo.training.plan import plan_training

    examples = sorted((ROOT / "examples" / "configs").glob("*.toml"))
    assert {p.stem for p in examples} >= {"digits", "mnist", "celeba-32", "cartoonset", "anime-64"}
    for path in examples:
        plan = plan_training(merged_settings(None, {}, path), load_plugins())  # checks every value
        assert plan.model.name and plan.dataset.name, path


# -- lifecycle hooks and loggers ------------------------------------------------------------------


class Recorder:
    """Records every lifecycle call with its arguments."""

    def __init__(self):
        self.calls = []

    @ganzoo.hookimpl
    def on_train_start(self, run, step):
        self.calls.append(("on_train_start", step, run.path))

    @ganzoo.hookimpl
    def on_log(self, run, step, scalars):
        self.calls.append(("on_log", step, dict(scalars)))

    @ganzoo.hookimpl
    def on_sample(self, run, step, path, grid):
        self.calls.append(("on_sample", step, (path, tuple(grid.shape), grid.dtype)))

    @ganzoo.hookimpl
    def on_evaluate(self, run, step, results):
        self.calls.append(("on_evaluate", step, dict(results)))

    @ganzoo.hookimpl
    def on_checkpoint(self, run, step, path):
        self.calls.append(("on_checkpoint", step, path))

    @ganzoo.hookimpl
    def on_train_end(self, run, step, status):
        self.calls.append(("on_train_end", step, status))


class Raiser:
    def __init__(self):
        self.calls = 0

    @ganzoo.hookimpl
    def on_log(self, step):
        self.calls += 1
        raise ValueError("the logging service is down")


def test_lifecycle_hooks_loggers_and_a_failing_hook(tmp_path):
    from rich.console import Console
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from ganzoo.plugins import PluginSystem
    from ganzoo.training.loop import train
    from ganzoo.training.settings import TrainSettings

    plugins = PluginSystem()
    plugins.load_entry_points()
    recorder, raiser = Recorder(), Raiser()
    plugins.add(recorder, "recorder")
    plugins.add(raiser, "raiser")
    console = Console(file=open(tmp_path / "console.txt", "w"), width=200)
    settings = TrainSettings(
        model="dcgan",
        steps=10,
        out=str(tmp_path),
        name="hooks",
        eval_every=10,
        eval_n=32,
        eval_extractor="digits",
        loggers=["tensorboard", "csv"],
        **TINY,
    )
    run = train(settings, console=console, plugins=plugins, run_view=ganzoo.Run)
    console.file.close()

    calls = recorder.calls
    assert calls[0] == ("on_train_start", 0, run)
    assert [(c[0], c[1]) for c in calls[1:]] == [
        ("on_log", 5),
        ("on_log", 10),
        ("on_sample", 10),
        ("on_evaluate", 10),
        ("on_checkpoint", 10),
        ("on_checkpoint", 10),
        ("on_train_end", 10),
    ]  # best.safetensors, then the step's checkpoint
    assert set(calls[1][2]) >= {"loss_D", "loss_G", "lr_G", "images_per_second"}
    assert calls[3][2] == (run / "samples" / "step-00000010.png", (3, 146, 146), torch.uint8)
    assert set(calls[4][2]) == {"fid"}
    assert [calls[5][2].name, calls[6][2].name] == ["best.safetensors", "step-00000010.safetensors"]
    assert calls[-1][2] == "finished"

    # the failing hook: called once, reported once (console and log.txt), and the run finished
    assert raiser.calls == 1
    for text in ((tmp_path / "console.txt").read_text(), (run / "log.txt").read_text()):
        assert text.count("plugin 'raiser' failed in on_log (ValueError: the logging service is down)") == 1
    assert json.loads((run / "status.json").read_text())["state"] == "finished"
    assert not plugins.pm.has_plugin("logger:csv")  # loggers live as long as their run

    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [row["step"] for row in rows] == ["5", "10", "10"]
    assert float(rows[0]["loss_D"]) > 0 and rows[2]["eval_fid"]

    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    assert [e.step for e in events.Scalars("loss/D")] == [5, 10]
    assert [e.step for e in events.Scalars("loss/G")] == [5, 10]
    assert [e.step for e in events.Scalars("eval/fid")] == [10]
    assert [(e.step, e.width) for e in events.Images("samples")] == [(10, 146)]


def test_a_resumed_tensorboard_log_keeps_the_checkpoint_step(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = ganzoo.train("dcgan", steps=10, out=str(tmp_path), name="tb", loggers=["tensorboard"], **TINY)
    run.resume(steps=20)  # from the checkpoint of step 10, whose events stay (they are not redone)
    events = EventAccumulator(str(run.path / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    assert [e.step for e in events.Scalars("loss/D")] == [5, 10, 15, 20]
    assert [e.step for e in events.Images("samples")] == [10, 20]


def test_a_logger_written_as_one_string_in_config_json_is_that_logger(api_run, tmp_path):
    path = shutil.copytree(api_run.path, tmp_path / "run")
    config = json.loads((path / "config.json").read_text())
    config["training"]["loggers"] = "csv"  # edited by hand: a string, not a list
    (path / "config.json").write_text(json.dumps(config))
    ganzoo.load_run(path).resume(steps=15)
    assert json.loads((path / "config.json").read_text())["training"]["loggers"] == ["csv"]  # not 'c', 's', 'v'
    assert [row["step"] for row in csv.DictReader((path / "metrics.csv").open())] == ["15"]


def test_a_resumed_csv_log_drops_the_steps_it_redoes(api_run, tmp_path):
    path = shutil.copytree(api_run.path, tmp_path / "run")
    (path / "metrics.csv").write_text("step,loss_D\n5,1.0\n10,2.0\n15,3.0\n")  # 15: after the checkpoint
    ganzoo.load_run(path).resume(steps=15, loggers=["csv"])
    assert [row["step"] for row in csv.DictReader((path / "metrics.csv").open())] == ["5", "10", "15"]


def test_logger_errors(tmp_path, monkeypatch):
    result = run_cli("train", "dcgan", "--logger", "tensorbord", "--out", tmp_path)
    assert result.returncode == 2 and "unknown logger 'tensorbord'. Did you mean 'tensorboard'" in result.stderr

    import importlib.util

    from ganzoo.plugins import load_plugins
    from ganzoo.training.plan import checked_loggers

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real_find_spec(name, *a)
    )
    with pytest.raises(
        GanzooError,
        match=re.escape(
            "--logger tensorboard needs tensorboard, which is not installed: pip install 'ganzoo[tensorboard]'"
        ),
    ):
        checked_loggers(["tensorboard"], load_plugins())


def page_notebook(*first: str):
    """docs/python-api.md as a notebook: a code cell per ```python block, after ``first``."""
    import nbformat

    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "python-api.md").read_text(), re.S)
    assert len(blocks) >= 3
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in (*first, *blocks)])


def run_notebook(notebook, folder):
    from nbclient import NotebookClient

    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return [output for cell in notebook.cells for output in cell.get("outputs", [])]


def test_the_python_api_page_runs_as_a_notebook(tmp_path):
    """Every ```python block of docs/python-api.md, in order, in a real (headless) Jupyter kernel:
    what it prints, and the live progress bar (ipywidgets) in the training cell."""
    notebook = page_notebook()
    outputs = run_notebook(notebook, tmp_path)
    assert not [o for o in outputs if o["output_type"] == "error"], [o.get("evalue") for o in outputs]
    printed = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "torch.Size([16, 1, 16, 16]) torch.uint8" in printed
    assert "60 ['fid', 'kid', 'kid_std']" in printed  # the resumed step and the evaluation's metrics
    training = notebook.cells[0]["outputs"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in training)
    assert (tmp_path / "runs" / "api" / "config.json").is_file()


def test_without_ipywidgets_a_notebook_shows_plain_progress_lines(tmp_path):
    notebook = page_notebook("import sys\nsys.modules['ipywidgets'] = None  # as if not installed")
    notebook.cells = notebook.cells[:2]  # the training cell is enough
    outputs = run_notebook(notebook, tmp_path)
    printed = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "step 40/40" in printed and "ipywidgets" not in printed, printed


def test_importing_ganzoo_stays_cheap():
    code = "import ganzoo, sys; print('torch' in sys.modules)"
    import subprocess

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize(
    "keywords, message",
    [
        ({"steps": 2.5}, "--steps must be an integer, got 2.5"),
        ({"steps": True}, "--steps must be an integer, got True"),
        ({"options": {"lr": float("inf")}}, "option 'lr' of model 'dcgan' must be a finite number, got inf"),
        ({"options": {"lr": float("nan")}}, "option 'lr' of model 'dcgan' must be a finite number, got nan"),
        ({"options": {"lr": "fast"}}, "option 'lr' of model 'dcgan' must be a number, got 'fast'"),
        ({"options": {"ngf": 64.5}}, "option 'ngf' of model 'dcgan' must be an integer, got 64.5"),
        ({"options": {"ngf": True}}, "option 'ngf' of model 'dcgan' must be an integer, got True"),
        ({"options": {"loss": 5}}, "option 'loss' of model 'dcgan' must be a string, got 5"),
        ({"data_options": {"upscale": 2}}, "option 'upscale' of dataset 'digits' must be a string, got 2"),
        ({"options": {"ngf": 10**8}}, "model 'dcgan' with ngf=100000000 has 320,000,322,200,134,400 parameters"),
    ],
)
def test_the_python_api_refuses_what_the_command_line_refuses(tmp_path, keywords, message):
    with pytest.raises(ValueError, match=re.escape(message)) as raised:  # a UsageError is a ValueError
        ganzoo.train("dcgan", out=tmp_path, batch_size=8, **keywords)
    assert isinstance(raised.value, UsageError)
    assert list(tmp_path.iterdir()) == []  # no run folder, not even a half-made one
