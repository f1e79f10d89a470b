"""ExGAN exemplar inpainting end to end: data pairing, composite exactness, learning, resume,
`ganzoo inpaint`, evaluation with the exemplar gain, CelebA eyes in the official layout."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
from conftest import assert_no_traceback, list_json, run_cli
from ganzoo.errors import DataError
from ganzoo.training.checkpoint import load_checkpoint

# Trains models for tens of seconds: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


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


def test_exgan_is_listed_with_its_task():
    models = {row["name"]: row for row in list_json("models")}
    assert models["exgan"]["task"] == "inpainting"
    datasets = {row["name"]: row for row in list_json("datasets")}
    assert datasets["digits-inpaint"]["type"] == "inpainting" and datasets["celeba-eyes"]["type"] == "inpainting"


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


def test_training_masks_are_drawn_from_the_checkpointed_stream():
    data = ganzoo.load_dataset("digits-inpaint")
    torch.manual_seed(5)
    first = data.batch(torch.arange(16))
    torch.manual_seed(5)
    second = data.batch(torch.arange(16))
    third = data.batch(torch.arange(16))
    assert torch.equal(first["mask"], second["mask"]) and torch.equal(first["exemplar"], second["exemplar"])
    assert not torch.equal(second["mask"], third["mask"])


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


def test_a_short_run_learns_and_the_right_exemplar_helps(trained):
    run = trained
    loaded = run.model()
    test = ganzoo.load_dataset("digits-inpaint", split="test", resolution=32)
    untrained = ganzoo.create_model("exgan", channels=1, resolution=32, data_kind="inpainting").eval()
    before, after = hole_l1(untrained, test), hole_l1(loaded.model, test)
    assert after < 0.6 * before, (before, after)
    wrong = hole_l1(loaded.model, test, test.mismatched_exemplars(torch.arange(len(test))))
    assert after < wrong, (after, wrong)
    logged = [m["L1_hole"] for m in run.metrics() if "L1_hole" in m]
    assert logged[-1] < logged[0]


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


@pytest.mark.parametrize(
    "case, message",
    [
        ("small-mask", "is 20x20 but its image"),
        ("empty-mask", "has no hole: white (1) marks the hole; use --invert-mask"),
        ("no-exemplar", "fills holes from an exemplar: give --exemplar"),
        ("missing-mask", "have no file of the same name: b.png (mask)"),
    ],
)
def test_inpaint_bad_inputs_are_one_line_errors(trained, tmp_path, case, message):
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
        args += ["--exemplar", tmp_path / "images"]
    result = run_cli(*args)
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result)
    assert message in " ".join(result.stderr.split()), result.stderr
    assert not (tmp_path / "out").exists()


def test_api_inpaint_composites_bytes(trained):
    test = ganzoo.load_dataset("digits-inpaint", split="test", resolution=32)
    batch = test.batch(torch.arange(4))
    filled = trained.inpaint(batch["image"], batch["mask"] // 255, batch["exemplar"])
    outside = batch["mask"].expand_as(batch["image"]) == 0
    assert filled.dtype == torch.uint8 and torch.equal(filled[outside], batch["image"][outside])


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


def test_celeba_eyes_refuses_a_person_in_two_splits(tmp_path):
    root = write_celeba(tmp_path / "celeba", overlap=True)
    with pytest.raises(DataError, match="person 4 appears in the splits"):
        ganzoo.load_dataset("celeba-eyes", root=str(root), resolution=64)


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


def test_labelled_inpaint_over_any_labelled_dataset():
    train = ganzoo.load_dataset("labelled-inpaint", source="digits", resolution=32)
    test = ganzoo.load_dataset("labelled-inpaint", source="digits", resolution=32, split="test")
    assert (len(train), len(test)) == (1617, 180)  # digits has no test split: its last tenth is held out
    partner = test._exemplars(torch.arange(len(test)))
    assert (test.groups[partner] == test.groups[torch.arange(len(test))]).all()
    with pytest.raises(DataError, match="holds paired data, not labelled images"):
        ganzoo.load_dataset("labelled-inpaint", source="edges2digits")
