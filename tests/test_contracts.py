"""The contracts of ganzoo.protocols, as a plugin author meets them: a Loss and a Metric written
from their docstrings work, a metric's declared direction and need of logits are honoured, an
object that does not conform is a one-line error naming its entry, and each task's batch schema
drives ``bench`` for every registered model (``ganzoo bench exgan`` once died of a KeyError)."""

from __future__ import annotations

import inspect
import json
import textwrap

import pytest
import torch

from conftest import assert_no_traceback, list_json, make_distribution, run_cli, with_site
from ganzoo.bench import model as model_bench
from ganzoo.errors import PluginError
from ganzoo.plugins import load_plugins
from ganzoo.protocols import (
    BatchKey,
    BatchSchema,
    DataInfo,
    Loss,
    Metric,
    StepContext,
    Translates,
    conforming,
    inference_kinds,
    protocol_members,
)

#: dcgan small enough for a few CPU steps
SMALL = [
    "--steps",
    "2",
    "--batch-size",
    "8",
    "--resolution",
    "16",
    "--set",
    "ngf=8",
    "--set",
    "ndf=8",
    "--device",
    "cpu",
]


def docstring_example(protocol: type) -> str:
    """The code block (after ``::``) of a protocol's docstring: exactly what a reader would copy."""
    doc = inspect.getdoc(protocol)
    return textwrap.dedent(doc.split("::\n", 1)[1])


LOSSES = """
import torch.nn.functional as F
from ganzoo.plugin import LossSpec, UsageError, hookimpl

{example}

class NoPenalty:  # forgets a method of the contract
    def __init__(self, label_smoothing=0.0, label_noise=0.0, r1_gamma=0.0):
        pass

    def discriminator_loss(self, real_logits, fake_logits):
        return real_logits.mean()

    def generator_loss(self, fake_logits):
        return fake_logits.mean()


def takes_nothing():
    return MyLoss()


@hookimpl
def register_losses(register):
    register(LossSpec("from-the-docs", "the Loss docstring's example", "docs_losses:MyLoss"))
    register(LossSpec("no-penalty", "lacks penalty", "docs_losses:NoPenalty"))
    register(LossSpec("no-options", "a build without the contract's keywords", "docs_losses:takes_nothing"))
"""


@pytest.mark.slow
def test_a_loss_written_from_the_docs_trains_dcgan_and_a_broken_one_is_named(tmp_path):
    site = make_distribution(
        tmp_path / "site", "docs-losses", "docs_losses", LOSSES.format(example=docstring_example(Loss))
    )
    env = with_site(site)
    # DCGAN builds its loss with label_smoothing, label_noise and r1_gamma, and calls penalty
    result = run_cli("train", "dcgan", *SMALL, "--loss", "from-the-docs", "--out", tmp_path, "--name", "ok", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "ok" / "status.json").read_text())["state"] == "finished"
    refused = run_cli(
        "train",
        "dcgan",
        *SMALL,
        "--loss",
        "from-the-docs",
        "--set",
        "r1_gamma=1",
        "--out",
        tmp_path,
        "--name",
        "r1",
        env=env,
    )
    assert refused.returncode == 2 and "has no labels and no penalty" in refused.stderr
    assert_no_traceback(refused)
    for name, says in (
        ("no-penalty", "does not implement ganzoo.plugin.Loss (it lacks penalty)"),
        ("no-options", "its build must be callable as build(label_smoothing=0.0"),
    ):
        broken = run_cli("train", "dcgan", *SMALL, "--loss", name, "--out", tmp_path, "--name", name, env=env)
        assert broken.returncode == 1 and f"loss '{name}' of plugin docs_losses" in broken.stderr, broken.stderr
        assert says in broken.stderr
        assert_no_traceback(broken)


METRICS = '''
from ganzoo.plugin import MetricSpec, hookimpl


class Rising:
    """A value that grows with each evaluation, so the ranking shows the declared direction."""

    calls = 0

    def __call__(self, real, fake, fake_logits):
        if self.needs_logits:
            assert fake_logits is not None and len(fake_logits) == len(fake), "logits were asked for"
        else:
            assert fake_logits is None, "logits were not asked for"
        Rising.calls += 1
        return {self.name: float(Rising.calls)}


class RisingHigherBetter(Rising):
    name, higher_is_better, needs_logits = "rising-up", True, True


class RisingLowerBetter(Rising):
    name, higher_is_better, needs_logits = "rising-down", False, False


def old_style():  # builds a bare function, which declares neither
    return lambda real, fake, fake_logits=None: {"old-style": 0.0}


@hookimpl
def register_metrics(register):
    register(MetricSpec("rising-up", "grows; higher is better; reads logits", "rising_metrics:RisingHigherBetter"))
    register(MetricSpec("rising-down", "grows; lower is better", "rising_metrics:RisingLowerBetter"))
    register(MetricSpec("old-style", "a function, not a Metric", "rising_metrics:old_style"))
'''


def best_flags(run) -> list[bool]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [record["best"] for record in records if "eval" in record]


@pytest.mark.slow
def test_a_plugin_metric_declares_its_direction_and_need_of_logits(tmp_path):
    env = with_site(make_distribution(tmp_path / "site", "rising-metrics", "rising_metrics", METRICS))
    evaluation = ["--steps", "3", "--eval-every", "1", "--eval-extractor", "digits", "--eval-n", "20"]
    for metric, expected in (("rising-up", [True, True, True]), ("rising-down", [True, False, False])):
        result = run_cli(
            "train",
            "dcgan",
            *SMALL[2:],
            *evaluation,
            "--eval-metric",
            metric,
            "--out",
            tmp_path,
            "--name",
            metric,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert best_flags(tmp_path / metric) == expected, metric
    broken = run_cli(
        "train",
        "dcgan",
        *SMALL,
        "--eval-every",
        "1",
        "--eval-extractor",
        "digits",
        "--eval-metric",
        "old-style",
        "--out",
        tmp_path,
        "--name",
        "old",
        env=env,
    )
    assert broken.returncode == 1, broken.stderr
    assert "metric 'old-style' of plugin rising_metrics" in broken.stderr
    assert (
        "its function does not implement ganzoo.plugin.Metric (it lacks higher_is_better, needs_logits)"
        in broken.stderr
    )
    assert_no_traceback(broken)


def test_a_metric_from_the_docs_conforms():
    namespace: dict = {}
    exec(docstring_example(Metric), namespace)  # noqa: S102 - the docstring's own example
    metric = conforming(namespace["Sharpness"](), Metric, "metric 'sharpness'")
    values = metric(torch.randn(20, 4), torch.randn(20, 4), None)
    assert list(values) == ["sharpness"] and not metric.needs_logits and metric.higher_is_better


def test_conformance_errors_name_the_entry_and_what_it_lacks():
    assert protocol_members(Translates) == ["directions", "translate"]
    with pytest.raises(
        PluginError,
        match=r"^loss 'x' of plugin p: its object does not implement "
        r"ganzoo.plugin.Loss \(it lacks discriminator_loss, generator_loss, "
        r"penalty\)$",
    ):
        conforming(object(), Loss, "loss 'x' of plugin p")


def test_batch_schemas_are_validated_and_give_shapes():
    info = DataInfo(kind="paired", channels=3, channels_b=1, resolution=8, classes=("a", "b"))
    schema = BatchSchema((BatchKey("A"), BatchKey("B", channels="channels_b"), BatchKey("hole", kind="mask")))
    assert [key.name for key in schema.keys_for(info)] == ["A", "B", "hole", "label"]
    assert [key.shape(info, 2) for key in schema.keys_for(info)] == [(2, 3, 8, 8), (2, 1, 8, 8), (2, 1, 8, 8), (2,)]
    assert schema.masks == {"hole"} and schema.images == ("A", "B")
    for bad in (
        lambda: BatchSchema(()),
        lambda: BatchSchema((BatchKey("a"), BatchKey("a"))),
        lambda: BatchSchema((BatchKey("label", kind="label"),)),
        lambda: BatchKey("x", kind="depth"),
    ):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.parametrize("name", [row["name"] for row in list_json("models")])
def test_the_task_schema_drives_bench_for_every_model(name):
    plugins = load_plugins()
    spec = plugins.models.get(name)
    schema = plugins.tasks.get(spec.task).batch
    resolution = min(spec.resolutions)
    model, _, phases, batch = model_bench.build(name, resolution, 2, torch.device("cpu"))
    info = DataInfo(kind=plugins.data_kind(spec), channels=3, resolution=resolution, classes=model_bench.CLASSES)
    assert list(batch) == [key.name for key in schema.keys_for(info)]
    for key in schema.keys_for(info):
        value = batch[key.name]
        assert tuple(value.shape) == key.shape(info, 2), key.name
        if key.kind == "image":
            assert value.is_floating_point() and -1 <= value.min() and value.max() <= 1
        elif key.kind == "mask":
            assert set(value.unique().tolist()) <= {0.0, 1.0}
    assert inference_kinds(model), f"model '{name}' implements none of the inference protocols"
    ctx = StepContext(step=0, batch_size=2)
    for phase in phases:  # each phase takes the batch: every key it reads is there, shaped as declared
        loss = model.phase_loss(phase, batch, ctx).loss
        assert torch.isfinite(loss), phase.name


@pytest.mark.slow
def test_bench_exgan_with_its_defaults():
    result = run_cli("bench", "exgan", "--steps", "2")
    assert result.returncode == 0, result.stderr
    assert "exgan at 256x256" in result.stdout
