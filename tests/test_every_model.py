"""Every registered model, checked the same way (timm's pattern): built-ins, the example plugin
and ganzoo-stylegan when installed. A new model is covered by registering it: each one is built
at its smallest size (``ModelSpec.tiny_options``) on an offline dataset of its task, trained two
steps with every engine option that applies, checkpointed, resumed bitwise-equal, and run
through its task's inference, ``bench`` and ``eval``."""

from __future__ import annotations

import dataclasses
import math
import shutil
from importlib import metadata
from pathlib import Path

import pytest
import torch

import ganzoo
from conftest import assert_same_tensors
from ganzoo.bench.model import run as bench_model
from ganzoo.errors import UsageError
from ganzoo.plugins import load_plugins
from ganzoo.protocols import Inpaints, SamplesConditionally, SamplesFromNoise, Translates
from ganzoo.specs import resolve
from ganzoo.training.checkpoint import load_checkpoint

MODELS = ganzoo.list_models()
BUILT_IN = {"dcgan", "cdcgan", "pix2pix", "cyclegan", "exgan", "sngan", "sngan-cond", "sagan", "sagan-cond", "biggan"}
BUILT_IN |= {"r3gan", "r3gan-cond"}
#: Models of other distributions that `make test` installs: each must be listed when installed.
INSTALLABLE = {"ganzoo-stylegan": {"stylegan2", "stylegan2-cond"}, "ganzoo-mlpgan": {"mlpgan"}}
STEPS = 2
BATCH = 4  # divisible by --accumulate 2, and BatchNorm needs more than one image


def installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_every_model_of_the_zoo_is_checked():
    expected = BUILT_IN | {m for dist, models in INSTALLABLE.items() if installed(dist) for m in models}
    assert expected <= set(MODELS), f"not registered: {sorted(expected - set(MODELS))}"


@dataclasses.dataclass(frozen=True)
class Subject:
    """One model as this file trains it: its spec, an offline dataset of its task, its smallest size."""

    name: str
    dataset: str
    resolution: int
    options: dict

    @classmethod
    def of(cls, name: str) -> Subject:
        plugins = load_plugins()
        spec = plugins.models.get(name)
        kind = plugins.data_kind(spec)
        offline = [e.name for e in plugins.datasets if e.spec.embedded and e.spec.kind == kind]
        assert offline, f"model '{name}': no embedded dataset of data kind '{kind}' to test it on"
        dataset = spec.default_dataset if spec.default_dataset in offline else offline[0]
        return cls(name, dataset, min(spec.resolutions), dict(spec.tiny_options))

    def settings(self, out: Path, name: str, **overrides) -> dict:
        base = dict(
            dataset=self.dataset,
            resolution=self.resolution,
            options=self.options,
            steps=STEPS,
            batch_size=BATCH,
            out=str(out),
            name=name,
            seed=1,
            device="cpu",
            log_every=1,
            sample_every=STEPS,
            checkpoint_every=1,
            ema_start=0,
            ema_decay=0.5,
            deterministic=True,
        )
        return {**base, **overrides}

    def losses(self) -> list[str]:
        """The losses the model accepts: its ``loss`` option's choices, else every registered one."""
        spec = load_plugins().models.get(self.name)
        field = {f.name: f for f in dataclasses.fields(resolve(spec.options))}.get("loss")
        if field is None:
            return []
        return list(field.metadata.get("choices") or load_plugins().losses.names())


SUBJECTS = {name: Subject.of(name) for name in MODELS}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each model trained once (2 steps, a checkpoint per step), shared by the tests below."""
    runs: dict[str, ganzoo.Run] = {}

    def get(name: str) -> ganzoo.Run:
        if name not in runs:
            out = tmp_path_factory.mktemp(name)
            runs[name] = ganzoo.train(name, **SUBJECTS[name].settings(out, "run"))
        return runs[name]

    return get


def logged_losses(run: ganzoo.Run) -> dict[str, float]:
    values = {}
    for record in run.metrics():
        values.update({key: value for key, value in record.items() if key.startswith("loss")})
    return values


@pytest.mark.parametrize("name", MODELS)
def test_trains_checkpoints_and_resumes_bitwise(name, trained, tmp_path):
    run = trained(name)
    assert run.status["state"] == "finished" and run.status["step"] == STEPS
    losses = logged_losses(run)
    assert losses and all(math.isfinite(v) for v in losses.values()), losses
    # take the run back to its first checkpoint, as if it had been stopped there, and resume it
    copy = shutil.copytree(run.path, tmp_path / "copy")
    (copy / "checkpoints" / f"step-{STEPS:08d}.safetensors").unlink()
    ganzoo.load_run(copy).resume()
    final = f"checkpoints/step-{STEPS:08d}.safetensors"
    assert_same_tensors(load_checkpoint(run.path / final)[0], load_checkpoint(copy / final)[0])


def engine_cases() -> list:
    cases = []
    for name, subject in SUBJECTS.items():
        cases += [
            pytest.param(name, {"d_steps": 2}, id=f"{name}-d_steps2"),
            pytest.param(name, {"accumulate": 2}, id=f"{name}-accumulate2"),
            pytest.param(name, {"ema_decay": 0.0}, id=f"{name}-ema_off"),
        ]
        cases += [pytest.param(name, {"loss": loss}, id=f"{name}-{loss}") for loss in subject.losses()]
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("name", "overrides"), engine_cases())
def test_trains_with_each_engine_option(name, overrides, trained, tmp_path):
    subject = SUBJECTS[name]
    settings = subject.settings(tmp_path, "run", **overrides)
    if "loss" in overrides:  # --loss is a model option's shortcut: it goes with the others
        settings["options"] = {**subject.options, "loss": settings.pop("loss")}
    model = trained(name).model(device="cpu")
    if overrides.get("d_steps", 1) > 1 and not any(phase.critic for phase in model.phases):
        with pytest.raises(UsageError, match="--d-steps"):
            ganzoo.train(name, **settings)
        return
    run = ganzoo.train(name, **settings)
    assert run.status["state"] == "finished" and run.status["step"] == STEPS
    losses = logged_losses(run)
    assert losses and all(math.isfinite(v) for v in losses.values()), losses


@pytest.mark.parametrize("name", MODELS)
def test_runs_its_tasks_inference(name, trained):
    run, subject = trained(name), SUBJECTS[name]
    model = run.model(device="cpu")
    size = subject.resolution
    checked = 0
    if isinstance(model, SamplesFromNoise):
        images = run.generate(4, seed=5, device="cpu")
        assert images.dtype == torch.uint8 and images.shape[0] == 4 and images.shape[-2:] == (size, size)
        assert torch.equal(images, run.generate(4, seed=5, device="cpu")), "the same seed draws the same images"
        if isinstance(model, SamplesConditionally):
            first = run.config["data"]["classes"][0]
            assert run.generate(2, seed=5, classes=[first], device="cpu").shape[0] == 2
        checked += 1
    if isinstance(model, Translates):
        images = torch.randint(0, 256, (2, 3, size + 3, size), dtype=torch.uint8)
        out = run.translate(images, device="cpu")
        assert out.dtype == torch.uint8 and out.shape[0] == 2 and out.shape[-2:] == images.shape[-2:]
        checked += 1
    if isinstance(model, Inpaints):
        channels = run.config["data"]["channels"]
        images = torch.randint(0, 256, (2, channels, size, size), dtype=torch.uint8)
        masks = torch.zeros(2, 1, size, size, dtype=torch.uint8)
        masks[..., size // 4 : size // 2, size // 4 : size // 2] = 1
        filled = run.inpaint(images, masks, images.flip(0) if model.needs_exemplar else None, device="cpu")
        outside = masks.logical_not().expand_as(images)
        assert torch.equal(filled[outside], images[outside]), "pixels outside the hole are kept"
        checked += 1
    assert checked, f"model '{name}' implements none of the inference protocols"


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_bench_and_eval(name, trained):
    subject = SUBJECTS[name]
    result = bench_model(name, subject.resolution, BATCH, steps=1, device=torch.device("cpu"))
    assert result.seconds_per_iteration > 0 and result.parameters_millions > 0
    record = trained(name).evaluate("fid", n=8, extractor="digits", device="cpu")
    assert record["eval"] and all(math.isfinite(v) for v in record["eval"].values()), record
