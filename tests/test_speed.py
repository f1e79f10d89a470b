"""The GPU fast path, tested where it runs on a CPU too: precision (autocast, the fp16 scaler,
fp32 penalties), compiled networks and their eager fallback, the batch feed (data on the
device, background prefetch) with exact resume, the sync-free EMA, and the benchmarks. Tests
marked ``cuda`` need a GPU and skip cleanly without one."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from conftest import assert_no_traceback, run_cli
from ganzoo.data import ShuffledIndices, TensorImages
from ganzoo.errors import UsageError
from ganzoo.execution import compile_networks, eager_networks
from ganzoo.layers import ReflectionPad2d, full_precision, reflect_by_slices
from ganzoo.protocols import DataInfo, GathersRows, Phase, PhaseLoss
from ganzoo.regularization import double_backward, input_gradients
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.ema import GeneratorEMA, HalfLife, WarmedDecay
from ganzoo.training.feed import BatchFeed, choose_mode
from ganzoo.training.phases import PhaseRunner
from ganzoo.training.precision import Precision, resolve_precision

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
TINY = ["--resolution", 16, "--batch-size", 16, "--set", "ngf=8", "--set", "ndf=8", "--log-every", 2]


# -- precision ------------------------------------------------------------------------------


def test_auto_precision_is_fp32_on_cpu_and_bad_names_are_usage_errors():
    assert resolve_precision("auto", torch.device("cpu")) == "fp32"
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"
    with pytest.raises(UsageError, match="--precision"):
        resolve_precision("fp8", torch.device("cpu"))


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x)


def test_penalty_gradients_are_fp32_under_bf16_autocast_and_equal_the_fp32_ones():
    torch.manual_seed(0)
    critic, images = Critic(), torch.randn(3, 1, 4, 4)
    reference = input_gradients(critic, images)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert critic(images).dtype == torch.bfloat16  # the autocast is really on
        inside = input_gradients(critic, images.bfloat16())
    assert inside.dtype == torch.float32
    torch.testing.assert_close(inside, reference, rtol=1e-2, atol=1e-2)  # the input was rounded to bf16


def test_full_precision_layers_compute_in_fp32_under_autocast():
    @full_precision
    class Kept(nn.Linear):
        pass

    layer, plain = Kept(3, 3), nn.Linear(3, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert layer(torch.randn(2, 3).bfloat16()).dtype == torch.float32
        assert plain(torch.randn(2, 3)).dtype == torch.bfloat16
    assert set(layer.state_dict()) == {"weight", "bias"}  # parameter names unchanged


class TinyGAN(nn.Module):
    """Two linear 'networks' and a loss per phase: enough to step a PhaseRunner."""

    phases = (Phase("D", "D", critic=True), Phase("G", "G"))
    inference_networks = ("G",)

    def __init__(self):
        super().__init__()
        self.G, self.D = nn.Linear(4, 4), nn.Linear(4, 1)

    def configure_optimizers(self):
        return {"D": torch.optim.SGD(self.D.parameters(), lr=0.1), "G": torch.optim.SGD(self.G.parameters(), lr=0.1)}

    def phase_loss(self, phase, batch, ctx):
        fake = self.G(batch["image"])
        logits = self.D(fake.detach() if phase.name == "D" else fake)
        loss = logits.float().square().mean() * 1e5  # large enough that an fp16 scale of 2**16 overflows
        return PhaseLoss(loss, {"dtype": torch.tensor(float(logits.dtype == torch.float32))})


def test_fp16_scaler_skips_overflowing_steps_and_lowers_its_scale():
    torch.manual_seed(0)
    model = TinyGAN()
    optimizers = model.configure_optimizers()
    precision = Precision("fp16", torch.device("cpu"))
    runner = PhaseRunner(model, optimizers, model.phases, precision=precision)
    before = copy.deepcopy(model.state_dict())
    logs = []
    runner.step(0, lambda: {"image": torch.randn(8, 4)}, logs.append)
    assert precision.scaler.get_scale() < 2.0**16, "an overflow must lower the scale"
    assert logs[0]["dtype"] == 0.0, "the phase ran under fp16 autocast"
    for key, value in before.items():  # the overflowing steps were skipped, not applied as inf/nan
        assert torch.isfinite(model.state_dict()[key]).all()
        assert torch.equal(model.state_dict()[key], value), key
    for _ in range(40):
        runner.step(0, lambda: {"image": torch.randn(8, 4)}, lambda logs: None)
    assert any(not torch.equal(model.state_dict()[k], v) for k, v in before.items()), "later steps apply"
    state = precision.state_dict()
    again = Precision("fp16", torch.device("cpu"))
    again.load_state_dict(state)
    assert again.scaler.get_scale() == precision.scaler.get_scale()


def test_an_fp16_run_checkpoints_its_scaler_and_resumes_exactly(tmp_path):
    args = ["train", "dcgan", *TINY, "--precision", "fp16", "--out", tmp_path]
    assert run_cli(*args, "--steps", 6, "--name", "ref", "--checkpoint-every", 3).returncode == 0
    first = run_cli(*args, "--steps", 3, "--name", "b")
    assert first.returncode == 0, first.stderr
    resumed = run_cli("train", "--resume", tmp_path / "b", "--steps", 6)
    assert resumed.returncode == 0, resumed.stderr
    ref, _ = load_checkpoint(tmp_path / "ref" / "checkpoints" / "step-00000006.safetensors")
    got, _ = load_checkpoint(tmp_path / "b" / "checkpoints" / "step-00000006.safetensors")
    assert "scale" in got["grad_scaler"]
    assert got["grad_scaler"]["scale"] == ref["grad_scaler"]["scale"]
    for key in ref["model"]:
        assert torch.equal(ref["model"][key], got["model"][key]), key
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert config["training"]["precision"] == "fp16"
    assert "(fp16)" in (tmp_path / "b" / "log.txt").read_text().splitlines()[0]


# -- compiling ------------------------------------------------------------------------------


def test_compiled_networks_keep_their_names_and_run_eagerly_inside_double_backward():
    torch.manual_seed(0)
    holder = nn.Module()
    holder.D = Critic()
    names = compile_networks(holder, "default")
    assert names == ["D"] and "net.0.weight" in holder.D.state_dict()
    assert holder.D._compiled_call_impl is not None
    with eager_networks():
        assert holder.D._compiled_call_impl is None
    with double_backward():  # a penalty: no compiling at all (torch.compile has no double backward)
        assert holder.D._compiled_call_impl is None
        penalty = input_gradients(holder.D, torch.randn(2, 1, 4, 4)).square().sum()
    penalty.backward()
    assert holder.D.net[0].weight.grad is not None
    assert holder.D._compiled_call_impl is not None, "restored after the block"


def test_train_with_compile_and_bf16_reports_its_compile_time(tmp_path):
    result = run_cli(
        "train", "dcgan", *TINY, "--precision", "bf16", "--compile", "--steps", 4, "--out", tmp_path, "--name", "c"
    )
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    log = (tmp_path / "c" / "log.txt").read_text()
    assert "(bf16, compiled)" in log.splitlines()[0]
    assert "compiled G, D in" in log and "not counted in img/s" in log
    rows = [json.loads(line) for line in (tmp_path / "c" / "metrics.jsonl").read_text().splitlines()]
    assert all(row["loss_D"] == row["loss_D"] for row in rows)  # finite, not NaN
    generated = run_cli("generate", tmp_path / "c", "--n", 4, "--out", tmp_path / "gen")
    assert generated.returncode == 0, generated.stderr


# -- the batch feed ---------------------------------------------------------------------------


def _images(count=40):
    pixels = torch.arange(count * 16, dtype=torch.int64).remainder(256).to(torch.uint8).reshape(count, 1, 4, 4)
    return TensorImages(
        pixels,
        DataInfo(kind="images", channels=1, resolution=4, size=count, classes=tuple("ab")),
        labels=torch.arange(count) % 2,
    )


@pytest.mark.parametrize("mode", ["prefetch", "device"])
def test_prefetched_and_device_batches_equal_direct_ones_and_resume_at_the_batch_used(mode):
    data = _images()
    assert isinstance(data, GathersRows)
    direct = BatchFeed(data, ShuffledIndices(len(data), 8, seed=1), torch.device("cpu"), "direct")
    fast = BatchFeed(data, ShuffledIndices(len(data), 8, seed=1), torch.device("cpu"), mode)
    for _ in range(7):  # across an epoch boundary (5 batches an epoch)
        a, b = direct.next(), fast.next()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert fast.state_dict() == direct.state_dict() and fast.epoch == direct.epoch
    saved = fast.state_dict()
    expected = [direct.next() for _ in range(3)]
    fresh = BatchFeed(data, ShuffledIndices(len(data), 8, seed=1), torch.device("cpu"), mode)
    fresh.load_state_dict(saved)
    for want in expected:
        got = fresh.next()
        assert all(torch.equal(want[k], got[k]) for k in want)
    fast.close(), fresh.close()


def test_data_on_device_choices():
    data, cpu = _images(), torch.device("cpu")
    # a CPU run: nothing to upload, and a prefetch thread would take a core from the step
    assert choose_mode("auto", data, cpu, "x") == "direct"
    assert choose_mode("yes", data, cpu, "x") == "device"
    assert choose_mode("no", data, cpu, "x") == "direct"
    assert choose_mode("no", data, torch.device("cuda"), "x") == "prefetch"  # on a GPU: prefetched
    assert data.nbytes() == 40 * 16 + 40 * 8

    class Drawing:  # batches with random draws (inpainting masks): read in order, on the loop's thread
        def __len__(self):
            return 4

    assert choose_mode("auto", Drawing(), cpu, "x") == "direct"
    with pytest.raises(UsageError, match="draws random numbers"):
        choose_mode("yes", Drawing(), cpu, "masks")


def test_data_on_device_yes_trains_like_the_default(tmp_path):
    for name, extra in (("default", []), ("uploaded", ["--data-on-device", "yes"])):
        result = run_cli("train", "dcgan", *TINY, "--steps", 4, "--out", tmp_path, "--name", name, *extra)
        assert result.returncode == 0, result.stderr
    a, _ = load_checkpoint(tmp_path / "default" / "checkpoints" / "step-00000004.safetensors")
    b, _ = load_checkpoint(tmp_path / "uploaded" / "checkpoints" / "step-00000004.safetensors")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    bad = run_cli("train", "exgan", "--data-on-device", "yes", "--steps", 1, "--out", tmp_path, "--name", "x")
    assert bad.returncode == 2 and "draws random numbers" in bad.stderr
    assert_no_traceback(bad)


# -- EMA without host synchronisation --------------------------------------------------------


def test_ema_matches_averaged_model_and_loads_its_state():
    torch.manual_seed(0)
    model = nn.Module()
    model.G = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    ema = GeneratorEMA(model, ("G",), WarmedDecay(0.9), start=0)

    def ramped(averaged, current, n):  # the old update, through torch's AveragedModel
        weight = 1.0 - torch.clamp((1.0 + n) / (10.0 + n), max=0.9)
        for avg, cur in zip(averaged, current):
            avg.lerp_(cur, weight)

    reference = AveragedModel(model.G, multi_avg_fn=ramped, use_buffers=False)
    for step in range(30):
        with torch.no_grad():
            for p in model.G.parameters():
                p.add_(torch.randn_like(p))
        model.G(torch.randn(8, 3))  # moves the BatchNorm statistics
        ema.update(model, step)
        reference.update_parameters(model.G)
    ours = ema.state_dict()["G"]
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(ours[key], value, rtol=1e-6, atol=1e-6)
    again = GeneratorEMA(model, ("G",), WarmedDecay(0.9), start=0)
    again.load_state_dict({"G": reference.state_dict()})  # a checkpoint written before this EMA
    assert int(again.n_averaged["G"]) == 30


# -- layers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pad", [1, 3])
def test_reflection_by_slices_equals_reflection_padding(pad):
    x = torch.randn(2, 3, 9, 7, requires_grad=True)
    want = torch.nn.functional.pad(x, (pad,) * 4, mode="reflect")
    got = reflect_by_slices(x, pad)
    assert torch.equal(want, got)
    upstream = torch.randn_like(want)
    torch.testing.assert_close(torch.autograd.grad(want, x, upstream)[0], torch.autograd.grad(got, x, upstream)[0])
    assert torch.equal(ReflectionPad2d(pad)(x), want)


# -- benchmarks -------------------------------------------------------------------------------


def test_bench_compare_reports_both_loops_and_their_ratio():
    result = run_cli(
        "bench",
        "dcgan",
        "--resolution",
        16,
        "--batch-size",
        8,
        "--steps",
        2,
        "--compare",
        "--no-compile",
        "--device",
        "cpu",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["gflop_per_step"] > 0
    for timing in (report["plain"], report["fast"]):
        assert timing["images_per_second"] > 0 and timing["ms_per_step"] > 0 and timing["tflops"] > 0
        assert timing["peak_memory_mb"] > 0
    assert report["speedup"] == pytest.approx(  # the speedup is rounded to 0.01: abs for slow, small ratios
        report["fast"]["images_per_second"] / report["plain"]["images_per_second"], rel=0.02, abs=0.006
    )


def test_bench_train_times_the_loop_against_the_step_alone():
    result = run_cli(
        "bench", "train", "dcgan", "--resolution", 16, "--batch-size", 16, "--steps", 30, "--device", "cpu", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dataset"] == "digits" and report["data_path"] == "direct"
    assert report["loop_images_per_second"] > 0 and report["step_images_per_second"] > 0
    assert report["loop_share"] == pytest.approx(
        report["loop_images_per_second"] / report["step_images_per_second"], rel=0.02
    )
    missing = run_cli("bench", "train")
    assert missing.returncode == 2 and "ganzoo bench train MODEL" in missing.stderr


# -- on a GPU ---------------------------------------------------------------------------------


@cuda
@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_a_cuda_step_never_waits_for_the_host(precision):
    """Whole training steps (batch gather on the device, phases, optimizer steps, guard, logs,
    EMA) with torch's sync debug mode set to error: any host synchronisation fails the test.
    (fp16 is not here: its scaler reads one overflow flag per phase, as docs/speed.md says.)"""
    from ganzoo.training.guard import DivergenceGuard
    from ganzoo.training.logs import LogAverager
    from ganzoo_dcgan.options import DCGANOptions
    from ganzoo_dcgan.recipe import DCGAN

    device = torch.device("cuda")
    model = DCGAN(DCGANOptions(ngf=8, ndf=8), DataInfo(kind="images", channels=1, resolution=16, size=40))
    model.to(device).to(memory_format=torch.channels_last)
    optimizers = model.configure_optimizers()
    guard, logs = DivergenceGuard(("D", "G"), device), LogAverager()
    ema = GeneratorEMA(model, ("G",), WarmedDecay(0.99), start=0)
    pixels = torch.randint(0, 256, (40, 1, 16, 16), dtype=torch.uint8)
    data = TensorImages(pixels, DataInfo(kind="images", channels=1, resolution=16, size=40))
    feed = BatchFeed(data, ShuffledIndices(40, 8, seed=0), device, "device", channels_last=True)
    runner = PhaseRunner(model, optimizers, model.phases, observe=guard.observe, precision=Precision(precision, device))
    for step in range(3):  # warm-up: allocations, cuDNN
        runner.step(step, feed.next, logs.add), ema.update(model, step + 1)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(3, 8):
            runner.step(step, feed.next, logs.add)
            ema.update(model, step + 1)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    guard.check(model)
    assert all(v == v for v in logs.pop_means().values())


@cuda
def test_deterministic_cuda_runs_repeat_bitwise(tmp_path):
    for name in ("a", "b"):
        result = run_cli(
            "train",
            "cyclegan",
            "--resolution",
            32,
            "--set",
            "ngf=8",
            "--set",
            "ndf=8",
            "--steps",
            6,
            "--deterministic",
            "--device",
            "cuda",
            "--out",
            tmp_path,
            "--name",
            name,
        )
        assert result.returncode == 0, result.stderr
    a, _ = load_checkpoint(tmp_path / "a" / "checkpoints" / "step-00000006.safetensors")
    b, _ = load_checkpoint(tmp_path / "b" / "checkpoints" / "step-00000006.safetensors")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


@cuda
def test_compiled_cuda_graphs_train(tmp_path):
    result = run_cli(
        "train",
        "dcgan",
        *TINY,
        "--compile",
        "--compile-mode",
        "reduce-overhead",
        "--steps",
        6,
        "--device",
        "cuda",
        "--out",
        tmp_path,
        "--name",
        "g",
    )
    assert result.returncode == 0, result.stderr
    assert "data on device" in (tmp_path / "g" / "log.txt").read_text().splitlines()[0]


def test_half_life_average_follows_the_stylegan2_schedule():
    """beta = 0.5 ** (batch / min(half-life, rampup x images seen)): a copy at the first update,
    then the reference's closed form (stylegan2-ada-pytorch's training loop)."""
    schedule = HalfLife(half_life_images=10_000.0, images_per_step=32, rampup=0.05)
    assert schedule.beta(1) == 0.0  # no images seen yet: the average is the live weights
    assert schedule.beta(101) == pytest.approx(0.5 ** (32 / (100 * 32 * 0.05)))  # ramping: 160 images
    assert schedule.beta(100_000) == pytest.approx(0.5 ** (32 / 10_000.0))  # the half-life itself
    assert HalfLife(10_000.0, 32).beta(1) == pytest.approx(0.5 ** (32 / 10_000.0))  # no ramp-up

    torch.manual_seed(0)
    model = nn.Module()
    model.G = nn.Linear(2, 2)
    ema = GeneratorEMA(model, ("G",), schedule, start=0)
    expected = model.G.weight.detach().clone()
    for step in range(1, 6):
        with torch.no_grad():
            model.G.weight.add_(torch.randn_like(model.G.weight))
        ema.update(model, step)
        beta = schedule.beta(step)
        expected = beta * expected + (1 - beta) * model.G.weight.detach()
    torch.testing.assert_close(ema.copies["G"].weight, expected)


def test_the_benchmarked_steps_tell_the_model_the_batch_size_as_training_does():
    """Schedules defined per image (R3GAN's decays) read StepContext.batch_size: the plain step of
    `ganzoo bench --compare` and the engine's must both give it."""
    from ganzoo.bench.model import plain_iteration
    from ganzoo.plugin import Phase, PhaseLoss
    from ganzoo.training.phases import PhaseRunner

    class Recorder(torch.nn.Module):
        phases = (Phase("D", optimizer="D"),)

        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(()))
            self.seen: list[int] = []

        def phase_loss(self, phase, batch, ctx):
            self.seen.append(ctx.batch_size)
            return PhaseLoss(self.weight * batch["image"].mean(), {})

    model = Recorder()
    optimizers = {"D": torch.optim.SGD(model.parameters(), lr=0.1)}
    batch = {"image": torch.ones(6, 1, 4, 4)}
    plain_iteration(model, optimizers, model.phases, batch, 6)(0)
    PhaseRunner(model, optimizers, model.phases, batch_size=6).step(1, lambda: batch, lambda logs: None)
    assert model.seen == [6, 6]
