"""ExGAN exemplar inpainting end to end: data pairing, composite exactness, learning, resume,
`ganzoo inpaint`, evaluation with the exemplar gain, CelebA eyes in the official layout; and (quick,
not slow) the objective's terms from the paper's formulas on fixed tensors, and the code mode's
wiring of the paper's figure (D sees the inpainted output's code, the encoder learns through G)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
from conftest import assert_no_traceback, list_json, run_cli
from ganzoo.errors import DataError, UsageError
from ganzoo.training.checkpoint import load_checkpoint

# The tests that train models or run the CLI take tens of seconds: `make test` runs them, `make
# check` leaves them out. The loss-formula and wiring tests at the end take a second and are not slow.
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A short exgan run on the digits demo (reference mode), from Python."""
    out = tmp_path_factory.mktemp("exgan")
    return ganzoo.train(
        "exgan",
        steps=150,
        batch_size=32,
        out=str(out),
        name="digits",
        log_every=25,
        sample_every=150,
        checkpoint_every=150,
        seed=1,
    )


def hole_l1(model, data, exemplars: torch.Tensor | None = None) -> float:
    from ganzoo.data.convert import to_model_range

    batch = data.batch(torch.arange(len(data)))
    if exemplars is not None:
        batch["exemplar"] = exemplars
    batch = to_model_range(batch, torch.device("cpu"), masks={"mask"})
    with torch.no_grad():
        output = model.inpaint(batch["image"], batch["mask"], batch["exemplar"])
    error = (output - batch["image"]).abs() * batch["mask"]
    return float(error.sum() / batch["mask"].sum())


@slow
def test_exgan_is_listed_with_its_task():
    models = {row["name"]: row for row in list_json("models")}
    assert models["exgan"]["task"] == "inpainting"
    datasets = {row["name"]: row for row in list_json("datasets")}
    assert datasets["digits-inpaint"]["type"] == "inpainting" and datasets["celeba-eyes"]["type"] == "inpainting"


@slow
def test_digits_pairing_exemplars_of_the_same_class_and_fixed_held_out():
    train = ganzoo.load_dataset("digits-inpaint", split="train")
    test = ganzoo.load_dataset("digits-inpaint", split="test")
    assert (len(train), len(test)) == (1600, 197) and train.info.kind == "inpainting"
    index = torch.arange(len(train))
    partner = train._exemplars(index)
    assert (partner != index).all() and (train.groups[partner] == train.groups[index]).all()
    batch = test.batch(torch.arange(50))
    assert set(batch) >= {"image", "mask", "exemplar"} and batch["mask"].dtype == torch.uint8
    assert set(batch["mask"].unique().tolist()) == {0, 255}
    again = test.batch(torch.arange(50))
    assert all(torch.equal(batch[k], again[k]) for k in batch)  # held out: the same task every time
    assert not torch.equal(batch["exemplar"], batch["image"])
    # a hole always takes away part of the digit
    ink = batch["image"][:, 0] > 64
    assert ((batch["mask"][:, 0] > 0) & ink).flatten(1).any(1).all()
    wrong = test.mismatched_exemplars(torch.arange(len(test)))
    assert wrong.shape == test.batch(torch.arange(len(test)))["exemplar"].shape


@slow
def test_training_masks_are_drawn_from_the_checkpointed_stream():
    data = ganzoo.load_dataset("digits-inpaint")
    torch.manual_seed(5)
    first = data.batch(torch.arange(16))
    torch.manual_seed(5)
    second = data.batch(torch.arange(16))
    third = data.batch(torch.arange(16))
    assert torch.equal(first["mask"], second["mask"]) and torch.equal(first["exemplar"], second["exemplar"])
    assert not torch.equal(second["mask"], third["mask"])


@slow
@pytest.mark.parametrize("mode", ["reference", "code", "none"])
def test_every_mode_builds_fills_and_composites_exactly(mode):
    model = ganzoo.create_model("exgan", channels=3, resolution=64, data_kind="inpainting", exemplar=mode).eval()
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    masks = torch.zeros(2, 1, 64, 64)
    masks[:, :, 20:40, 10:30] = 1
    exemplars = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        out = model.inpaint(images, masks, exemplars if mode != "none" else None)
    assert out.shape == images.shape and model.needs_exemplar == (mode != "none")
    outside = masks.expand_as(images) == 0
    assert torch.equal(out[outside], images[outside])  # bitwise
    assert not torch.equal(out[~outside], images[~outside])


@slow
def test_a_short_run_learns_and_the_right_exemplar_helps(trained):
    run = trained
    model = run.model()
    assert isinstance(model, torch.nn.Module) and not model.training  # what docs/python-api.md promises
    test = ganzoo.load_dataset("digits-inpaint", split="test", resolution=32)
    untrained = ganzoo.create_model("exgan", channels=1, resolution=32, data_kind="inpainting").eval()
    before, after = hole_l1(untrained, test), hole_l1(model, test)
    assert after < 0.6 * before, (before, after)
    wrong = hole_l1(model, test, test.mismatched_exemplars(torch.arange(len(test))))
    assert after < wrong, (after, wrong)
    logged = [m["L1_hole"] for m in run.metrics() if "L1_hole" in m]
    assert logged[-1] < logged[0]


@slow
def test_eval_reports_pixel_scores_fid_and_a_positive_exemplar_gain(trained):
    result = run_cli("eval", trained.path, "--metric", "fid", "--feature-extractor", "digits", "--n", "197", "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)["eval"]
    assert {
        "l1",
        "l1_hole",
        "psnr",
        "ssim",
        "fid",
        "l1_hole_wrong_exemplar",
        "exemplar_gain_l1_hole",
        "exemplar_gain_fid",
    } <= set(scores)
    assert scores["exemplar_gain_l1_hole"] > 0
    assert scores["l1"] < scores["l1_hole"]  # outside the hole nothing changes


@slow
def test_inpaint_cli_keeps_size_and_every_pixel_outside_the_hole(trained, tmp_path):
    rng = np.random.default_rng(0)
    for folder in ("images", "masks", "exemplars"):
        (tmp_path / folder).mkdir()
    original = rng.integers(0, 256, (61, 45), dtype=np.uint8)  # 45 wide, 61 high
    Image.fromarray(original).save(tmp_path / "images" / "odd.png")
    hole = np.zeros((61, 45), dtype=np.uint8)
    hole[20:35, 10:30] = 255
    Image.fromarray(hole).save(tmp_path / "masks" / "odd.png")
    Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(tmp_path / "exemplars" / "odd.jpg")
    result = run_cli(
        "inpaint",
        trained.path,
        "--image",
        tmp_path / "images",
        "--mask",
        tmp_path / "masks",
        "--exemplar",
        tmp_path / "exemplars",
        "--out",
        tmp_path / "out",
        "--grid",
        tmp_path / "grid.png",
    )
    assert result.returncode == 0, result.stderr
    output = np.array(Image.open(tmp_path / "out" / "odd.png"))
    assert output.shape == original.shape
    assert np.array_equal(output[hole == 0], original[hole == 0])
    assert not np.array_equal(output[hole > 0], original[hole > 0])
    assert Image.open(tmp_path / "grid.png").size[0] > 3 * 32

    inverted = run_cli(
        "inpaint",
        trained.path,
        "--image",
        tmp_path / "images" / "odd.png",
        "--mask",
        tmp_path / "masks" / "odd.png",
        "--exemplar",
        tmp_path / "exemplars",
        "--invert-mask",
        "--out",
        tmp_path / "inverted",
    )
    assert inverted.returncode == 0, inverted.stderr
    output = np.array(Image.open(tmp_path / "inverted" / "odd.png"))
    assert np.array_equal(output[hole > 0], original[hole > 0])  # now the black part was the hole


@slow
@pytest.mark.parametrize(
    "case, message",
    [
        ("small-mask", "is 20x20 but its image"),
        ("empty-mask", "has no hole: white (1) marks the hole; use --invert-mask"),
        ("no-exemplar", "fills holes from an exemplar: give --exemplar"),
        ("missing-mask", "have no file of the same name: b.png (mask)"),
        ("truncated-second-image", "cannot read '"),  # its header reads; its pixels do not
        ("bad-second-exemplar", "exemplars/b.png"),
        (
            "huge-image",
            "images/a.png': decompression bomb: over the limit of 89,478,485 pixels",
        ),  # a decompression bomb
        ("huge-mask", "masks/a.png' cannot be read as an image (decompression bomb: over the limit of"),
        ("huge-exemplar", "exemplars/a.png': decompression bomb: over the limit of"),
    ],
)
def test_inpaint_bad_inputs_are_one_line_errors(trained, tmp_path, case, message):
    """Also: every input is decoded before anything is written, so a bad second file leaves no
    output of the first one (a rerun would be refused because it exists)."""
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "images" / "a.png")
    mask = (
        np.zeros((40, 40), np.uint8)
        if case == "empty-mask"
        else np.full((20 if case == "small-mask" else 40,) * 2, 255, np.uint8)
    )
    mask[:5] = 0
    Image.fromarray(mask).save(tmp_path / "masks" / "a.png")
    if case == "missing-mask":
        Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "images" / "b.png")
    exemplars = tmp_path / "images"
    if case in ("truncated-second-image", "bad-second-exemplar"):
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40), np.uint8)).save(tmp_path / "b.png")
        whole = (tmp_path / "b.png").read_bytes()
        (tmp_path / "images" / "b.png").write_bytes(whole[: len(whole) // 2] if case.startswith("trunc") else whole)
        (tmp_path / "masks" / "b.png").write_bytes((tmp_path / "masks" / "a.png").read_bytes())
        if case == "bad-second-exemplar":
            exemplars = tmp_path / "exemplars"
            exemplars.mkdir()
            shutil.copy(tmp_path / "images" / "a.png", exemplars / "a.png")
            (exemplars / "b.png").write_bytes(b"not an image")
    if case.startswith("huge-"):  # 100 million pixels, past Pillow's limit; a small 1-bit file
        folder = {"image": "images", "mask": "masks", "exemplar": "exemplars"}[case.removeprefix("huge-")]
        if folder == "exemplars":
            exemplars = tmp_path / "exemplars"
            exemplars.mkdir()
        Image.new("1", (10000, 10000)).save(tmp_path / folder / "a.png")
    args = [
        "inpaint",
        trained.path,
        "--image",
        tmp_path / "images",
        "--mask",
        tmp_path / "masks",
        "--out",
        tmp_path / "out",
    ]
    if case != "no-exemplar":
        args += ["--exemplar", exemplars]
    result = run_cli(*args)
    assert result.returncode == (2 if case.startswith("huge-") else 1), result.stderr  # past a limit: a usage error
    assert_no_traceback(result)
    assert message in " ".join(result.stderr.split()), result.stderr
    assert not (tmp_path / "out").exists()


@slow
def test_api_inpaint_composites_bytes(trained):
    test = ganzoo.load_dataset("digits-inpaint", split="test", resolution=32)
    batch = test.batch(torch.arange(4))
    filled = trained.inpaint(batch["image"], batch["mask"] // 255, batch["exemplar"])
    outside = batch["mask"].expand_as(batch["image"]) == 0
    assert filled.dtype == torch.uint8 and torch.equal(filled[outside], batch["image"][outside])
    images, holes, exemplars = batch["image"], batch["mask"] // 255, batch["exemplar"]
    for wrong, message in (
        (
            (images.float() / 255, holes, exemplars),
            r"images must be a uint8 tensor \(N, 1, 32, 32\), got torch.float32",
        ),
        ((images, holes, exemplars.float()), r"exemplars must be a uint8 tensor \(4, 1, 32, 32\), got torch.float32"),
        ((images, holes, exemplars[:2]), "exemplars must be .*: one per image, got 2"),
        ((images, batch["mask"], exemplars), "masks must hold 0 .* and 1 .* only"),
        ((images, holes[:, :, :16], exemplars), r"masks must be a tensor \(4, 1, 32, 32\)"),
        ((images[:, :, :16], holes, exemplars), r"images must be .*, got torch.uint8 \(4, 1, 16, 32\)"),
    ):
        with pytest.raises(UsageError, match=message):
            trained.inpaint(*wrong)


@slow
def test_an_interrupted_exgan_run_resumes_exactly(tmp_path):
    common = [
        "--batch-size",
        "8",
        "--log-every",
        "5",
        "--sample-every",
        "10",
        "--seed",
        "2",
        "--deterministic",
        "--out",
        tmp_path,
    ]
    whole = run_cli("train", "exgan", "--steps", "10", "--name", "whole", "--checkpoint-every", "10", *common)
    part = run_cli("train", "exgan", "--steps", "5", "--name", "part", *common)
    assert whole.returncode == 0 and part.returncode == 0, whole.stderr + part.stderr
    resumed = run_cli("train", "--resume", tmp_path / "part", "--steps", "10")
    assert resumed.returncode == 0, resumed.stderr
    a, _ = load_checkpoint(tmp_path / "whole" / "checkpoints" / "step-00000010.safetensors")
    b, _ = load_checkpoint(tmp_path / "part" / "checkpoints" / "step-00000010.safetensors")
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key


@slow
def test_data_masks_writes_pngs(tmp_path):
    result = run_cli("data", "masks", "--kind", "strokes", "--n", "5", "--resolution", "64", "--out", tmp_path / "m")
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "m").glob("mask-*.png"))
    assert len(files) == 5
    values = np.unique(np.concatenate([np.array(Image.open(f)).ravel() for f in files]))
    assert set(values.tolist()) == {0, 255}
    again = run_cli("data", "masks", "--kind", "strokes", "--n", "5", "--resolution", "64", "--out", tmp_path / "m")
    assert again.returncode != 0 and "--overwrite" in again.stderr
    unknown = run_cli("data", "masks", "--kind", "stroke", "--out", tmp_path / "x")
    assert unknown.returncode == 2 and "Did you mean 'strokes'" in unknown.stderr


# -- CelebA eyes, on a fixture in the official layout --------------------------------------------


def write_celeba(root, overlap: bool = False):
    """Eight 178x218 'faces' of four people: train holds persons 1-2, valid 3, test 4."""
    folder = root / "img_align_celeba"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    people = {1: 0, 2: 0, 3: 1, 4: 2}
    names, identities, partition, landmarks = [], [], [], []
    for index in range(8):
        person = index // 2 + 1
        name = f"{index + 1:06d}.jpg"
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(folder / name)
        names.append(name)
        identities.append(f"{name} {person}")
        split = people[person] if not (overlap and index == 7) else 0
        partition.append(f"{name} {split}")
        landmarks.append(f"{name} 69 109 106 113 77 142 73 152 108 154")
    (root / "identity_CelebA.txt").write_text("\n".join(identities) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(partition) + "\n")
    (root / "list_landmarks_align_celeba.txt").write_text(
        "8\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x "
        "rightmouth_y\n" + "\n".join(landmarks) + "\n"
    )
    return root


@slow
def test_celeba_eyes_pairs_people_and_boxes_the_eyes(tmp_path):
    root = write_celeba(tmp_path / "celeba")
    data = ganzoo.load_dataset("celeba-eyes", root=str(root), resolution=64)
    assert len(data) == 4 and data.info.kind == "inpainting" and data.info.channels == 3
    index = torch.arange(4)
    partner = data._exemplars(index)
    assert (partner != index).all() and (data.groups[partner] == data.groups[index]).all()
    test = ganzoo.load_dataset("celeba-eyes", root=str(root), resolution=64, split="test")
    mask = test.batch([0])["mask"][0, 0] > 0
    # the eyes of the landmarks (69,109) and (106,113), moved to the 64 px square: columns ~25 and ~38
    scale = 64 / 178
    for x, y in ((69, 109), (106, 113)):
        assert mask[round((y - 20) * scale), round(x * scale)]
    assert not mask[:20].any() and not mask[45:].any()


@slow
def test_celeba_eyes_refuses_a_person_in_two_splits(tmp_path):
    root = write_celeba(tmp_path / "celeba", overlap=True)
    with pytest.raises(DataError, match="person 4 appears in the splits"):
        ganzoo.load_dataset("celeba-eyes", root=str(root), resolution=64)


@slow
def test_train_exgan_on_a_celeba_folder(tmp_path):
    root = write_celeba(tmp_path / "celeba")
    result = run_cli(
        "train",
        "exgan",
        "--dataset",
        "celeba-eyes",
        "--data-root",
        root,
        "--resolution",
        "32",
        "--steps",
        "2",
        "--batch-size",
        "2",
        "--out",
        tmp_path / "runs",
        "--name",
        "eyes",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "runs" / "eyes" / "samples" / "step-00000002.png").is_file()


# -- your own folder ---------------------------------------------------------------------------------


def write_folder(root, exemplars: bool = False, flat: bool = False):
    rng = np.random.default_rng(1)
    for person in ("anna", "ben"):
        for k in range(2):
            relative = f"{person}-{k}.png" if flat else f"{person}/{k}.png"
            for kind in ("images", "masks") + (("exemplars",) if exemplars else ()):
                (root / kind / relative).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / "images" / relative)
            hole = np.zeros((40, 40), np.uint8)
            hole[10:20, 5 + 10 * k : 15 + 10 * k] = 255
            Image.fromarray(hole).save(root / "masks" / relative)
            if exemplars:
                Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / "exemplars" / relative)
    return root


@slow
def test_inpaint_folder_pairs_by_subfolder_and_reads_the_masks(tmp_path):
    root = write_folder(tmp_path / "mine")
    data = ganzoo.load_dataset("inpaint-folder", root=str(root), resolution=40)
    assert len(data) == 4 and data.info.kind == "inpainting"
    batch = data.batch(torch.arange(4))
    expected = np.zeros((40, 40), bool)
    expected[10:20, 5:15] = True
    assert np.array_equal(batch["mask"][0, 0].numpy() > 0, expected)  # anna/0.png's own mask
    partner = data._exemplars(torch.arange(4))
    assert partner.tolist() == [1, 0, 3, 2]  # the other photo of the same person

    given = write_folder(tmp_path / "given", exemplars=True, flat=True)
    data = ganzoo.load_dataset("inpaint-folder", root=str(given), resolution=40)
    exemplar = np.array(Image.open(given / "exemplars" / "anna-0.png"))
    assert np.array_equal(data.batch([0])["exemplar"][0].permute(1, 2, 0).numpy(), exemplar)

    alone = write_folder(tmp_path / "alone", flat=True)
    with pytest.raises(DataError, match="every image needs an exemplar"):
        ganzoo.load_dataset("inpaint-folder", root=str(alone), resolution=40)
    (root / "masks" / "ben" / "1.png").unlink()
    with pytest.raises(DataError, match=r"1 image\(s\) have no file of the same name in masks/: ben/1.png"):
        ganzoo.load_dataset("inpaint-folder", root=str(root), resolution=40)
    for other in ("1.bmp", "1.jpg"):  # two masks for ben/1.png, neither of its exact name
        Image.open(root / "masks" / "anna" / "0.png").save(root / "masks" / "ben" / other)
    with pytest.raises(DataError, match=r"2 files in .* are named like '1.png': 1.bmp, 1.jpg: keep one"):
        ganzoo.load_dataset("inpaint-folder", root=str(root), resolution=40)


@slow
def test_eval_every_works_for_inpainting_runs(tmp_path):
    result = run_cli(
        "train",
        "exgan",
        "--steps",
        "4",
        "--batch-size",
        "8",
        "--eval-every",
        "2",
        "--eval-n",
        "40",
        "--eval-extractor",
        "digits",
        "--out",
        tmp_path,
        "--name",
        "r",
    )
    assert result.returncode == 0, result.stderr
    evals = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines() if "eval" in line]
    assert [e["step"] for e in evals] == [2, 4] and "exemplar_gain_l1_hole" in evals[0]["eval"]
    assert (tmp_path / "r" / "checkpoints" / "best.safetensors").is_file()


@slow
def test_labelled_inpaint_over_any_labelled_dataset():
    train = ganzoo.load_dataset("labelled-inpaint", source="digits", resolution=32)
    test = ganzoo.load_dataset("labelled-inpaint", source="digits", resolution=32, split="test")
    assert (len(train), len(test)) == (1617, 180)  # digits has no test split: its last tenth is held out
    partner = test._exemplars(torch.arange(len(test)))
    assert (test.groups[partner] == test.groups[torch.arange(len(test))]).all()
    with pytest.raises(DataError, match="holds paired data, not labelled images"):
        ganzoo.load_dataset("labelled-inpaint", source="edges2digits")


# -- the objective from the paper's formulas, and code mode's wiring (quick: not slow) ----------------


def tiny_exgan(mode: str, **options):
    """A tiny exgan at 32 px in eval mode (spectral norm's power iteration then stands still, so
    the same input gives the same logits on every call) and a fixed batch of 4."""
    torch.manual_seed(0)
    model = ganzoo.create_model(
        "exgan",
        channels=1,
        resolution=32,
        data_kind="inpainting",
        exemplar=mode,
        ngf=4,
        ndf=4,
        blocks=1,
        code_dim=8,
        **options,
    ).eval()
    g = torch.Generator().manual_seed(3)
    image = torch.rand(4, 1, 32, 32, generator=g) * 2 - 1
    exemplar = torch.rand(4, 1, 32, 32, generator=g) * 2 - 1
    mask = torch.zeros(4, 1, 32, 32)
    for k, (top, left) in enumerate([(4, 6), (10, 3), (12, 14), (20, 8)]):
        mask[k, :, top : top + 8 - k, left : left + 10] = 1
    return model, {"image": image, "mask": mask, "exemplar": exemplar}


def run_phases(model, batch):
    """The D phase then the G phase of one step, sharing the step's scratch as the loop does."""
    from ganzoo.plugin import StepContext

    ctx = StepContext(step=0)
    d_phase, g_phase = model.phases
    return model.phase_loss(d_phase, batch, ctx), model.phase_loss(g_phase, batch, ctx), ctx.scratch


def softplus(x: torch.Tensor) -> torch.Tensor:
    return torch.log1p(torch.exp(-x.abs())) + x.clamp_min(0)  # log(1 + e^x), written out


@pytest.mark.parametrize("mode", ["reference", "code"])
def test_the_objective_terms_equal_the_papers_formulas_on_fixed_tensors(mode):
    """The three losses of the paper's figure, with ganzoo's weights: D: -log D(x | c) -
    log(1 - D(x^ | c)); G: the adversarial -log D(x^ | c) (the non-saturating GAN form) +
    lambda_l1 (L1 outside + hole_weight L1 inside the hole, 10 and 6) and, in code mode, the
    perceptual lambda_code mean |E(x^) - E(r)| (1). x^ is the composite, c the exemplar (its image
    in reference mode; in code mode its code E(r) and the judged image's code E(x), E(x^), as the
    figure feeds D). Every term is checked on its own, so a factor of two anywhere fails."""
    model, batch = tiny_exgan(mode)
    d_loss, g_loss, scratch = run_phases(model, batch)
    x, m, r = batch["image"], batch["mask"], batch["exemplar"]
    with torch.no_grad():
        code = model.E(r) if mode == "code" else None
        raw = model.G(x * (1 - m), m, exemplar=r if mode == "reference" else None, exemplar_code=code)
        filled = m * raw + (1 - m) * x
        assert torch.equal(filled, scratch["fake"].detach())

        def d_of(images):
            if mode == "code":
                return model.D(images, m, exemplar_code=code, image_code=model.E(images))
            return model.D(images, m, exemplar=r)

        real_logits, fake_logits = d_of(x), d_of(filled)
        expected_d = softplus(-real_logits).mean() + softplus(fake_logits).mean()
        expected_adv = softplus(-fake_logits).mean()
        error = (raw - x).abs()
        expected_hole = (error * m).sum() / m.sum()
        expected_outside = (error * (1 - m)).sum() / (1 - m).sum()
        expected_g = expected_adv + 10.0 * (expected_outside + 6.0 * expected_hole)
        if mode == "code":
            expected_code = (model.E(filled) - code).abs().mean()
            expected_g = expected_g + 1.0 * expected_code
            assert torch.allclose(g_loss.logs["code"], expected_code, rtol=1e-5), (g_loss.logs["code"], expected_code)
            assert expected_code > 1e-4  # the term is there to be checked
    assert torch.allclose(d_loss.loss, expected_d, rtol=1e-5), (d_loss.loss, expected_d)
    assert torch.allclose(g_loss.logs["loss_G_adv"], expected_adv, rtol=1e-5)
    assert torch.allclose(g_loss.logs["L1_hole"], expected_hole, rtol=1e-5)
    assert torch.allclose(g_loss.loss, expected_g, rtol=1e-5), (g_loss.loss, expected_g)
    assert g_loss.loss > 2 * expected_adv and expected_outside > 1e-3  # every term counts


def test_code_mode_d_sees_the_inpainted_outputs_code_and_the_encoder_learns_through_g():
    model, batch = tiny_exgan("code")
    seen: list[dict] = []
    model.D.register_forward_pre_hook(lambda module, args, kwargs: seen.append(dict(kwargs)), with_kwargs=True)
    d_loss, g_loss, scratch = run_phases(model, batch)
    fake = scratch["fake"].detach()
    with torch.no_grad():
        code, real_code, fake_code = model.E(batch["exemplar"]), model.E(batch["image"]), model.E(fake)
    assert len(seen) == 3  # D phase: real, fake; G phase: fake
    for call, judged in zip(seen, (real_code, fake_code, fake_code)):
        assert torch.allclose(call["image_code"], judged) and torch.allclose(call["exemplar_code"], code)
        assert not call["exemplar_code"].requires_grad  # the condition is a given, not a way to fool D
    assert seen[2]["image_code"].requires_grad  # G is judged through its output's code too

    # D's loss trains neither the encoder nor G
    d_loss.loss.backward(retain_graph=True)
    assert all(p.grad is None for p in [*model.E.parameters(), *model.G.parameters()])
    # G's adversarial term reaches the encoder, and only through G's code input
    model.options.lambda_l1 = model.options.lambda_code = 0.0
    _, adversarial_only, _ = run_phases(model, batch)
    adversarial_only.loss.backward()
    through_everything = torch.cat([p.grad.flatten() for p in model.E.parameters()])
    assert through_everything.abs().sum() > 0
    model.zero_grad(set_to_none=True)
    g_forward = model.G.forward
    model.G.forward = lambda *args, exemplar_code=None, **kwargs: g_forward(  # G's code input detached
        *args, exemplar_code=exemplar_code.detach(), **kwargs
    )
    _, cut, _ = run_phases(model, batch)
    cut.loss.backward()
    assert all(p.grad is None or not p.grad.any() for p in model.E.parameters())  # nothing left: all came via G


def test_code_mode_discriminator_refuses_to_judge_without_the_images_code():
    model, batch = tiny_exgan("code")
    with pytest.raises(ValueError, match="the code of the judged image"):
        model.D(batch["image"], batch["mask"], exemplar_code=torch.zeros(4, 8))
