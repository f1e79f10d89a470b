"""Labels (``label``) and attributes (``attributes``) in dataset batches and DataInfo: each
labelled dataset against a fixture in its official layout, through the prepared cache and
back out of it on a second open; identities kept apart; `ganzoo info` shows the names."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import ganzoo.data.prepare as prepare
import ganzoo_datasets.mnist as mnist
from conftest import run_cli
from ganzoo import load_dataset
from ganzoo.data import TensorImages
from ganzoo.data.loading import dataset_options, open_dataset
from ganzoo.errors import DataError
from ganzoo.plugins import load_plugins
from ganzoo.protocols import DataInfo
from ganzoo_datasets.official import CELEBA_ATTRIBUTES, CIFAR10_CLASSES, DIGITS, FASHION_CLASSES
from test_data import idx_bytes
from test_datasets import cartoon, celeba_root, cifar_batch, save, solid  # noqa: F401 (fixture)


def opened_twice(name: str, **kwargs):
    """The dataset as first prepared, then as read back from its cache."""
    first, again = load_dataset(name, **kwargs), load_dataset(name, **kwargs)
    assert first.cache_built and not again.cache_built and again.cache_path == first.cache_path
    return first, again


def assert_labels(data, truth, indices=(2, 0, 1)) -> None:
    label = data.batch(list(indices))["label"]
    assert label.dtype == torch.int64 and label.tolist() == [truth[i] for i in indices]


# --- fixed class names -----------------------------------------------------------------


def test_digits_labels_are_sklearn_targets():
    from sklearn.datasets import load_digits

    data = load_dataset("digits", resolution=8)
    assert data.info.classes == DIGITS == tuple("0123456789") and data.info.num_classes == 10
    assert_labels(data, load_digits().target, indices=(0, 1, 1796, 5))


@pytest.mark.parametrize(
    "name, table, classes", [("mnist", mnist.MNIST, DIGITS), ("fashion-mnist", mnist.FASHION_MNIST, FASHION_CLASSES)]
)
def test_idx_datasets_give_their_labels_and_class_names(name, table, classes, tmp_path, monkeypatch):
    truth = np.array([3, 9, 0, 7], np.uint8)
    raw = {
        "train-images-idx3-ubyte": idx_bytes(np.zeros((4, 28, 28), np.uint8)),
        "train-labels-idx1-ubyte": idx_bytes(truth),
    }
    for stem, data in raw.items():
        (tmp_path / stem).write_bytes(data)
    monkeypatch.setitem(table, "files", {"train": tuple((stem, None, None) for stem in raw)})  # no checksums
    data = load_dataset(name, root=str(tmp_path))
    assert data.info.classes == classes and classes[9] in ("9", "Ankle boot")
    assert_labels(data, truth, indices=(1, 3, 0))


def test_cifar10_labels_and_names(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    truth = {}
    for name, offset in [(f"data_batch_{i}.bin", i) for i in range(1, 6)] + [("test_batch.bin", 0)]:
        (folder / name).write_bytes(cifar_batch(3, offset)[0])
        truth[name] = (np.arange(3) + offset) % 10
    data = load_dataset("cifar10", root=str(tmp_path))
    assert data.info.classes == CIFAR10_CLASSES and data.info.classes[0] == "airplane"
    assert_labels(data, np.concatenate([truth[f"data_batch_{i}.bin"] for i in range(1, 6)]), indices=(14, 0, 4))
    test = load_dataset("cifar10", root=str(tmp_path), split="test", resolution=16)
    assert_labels(test, truth["test_batch.bin"])


# --- classes from folders --------------------------------------------------------------


def test_anime_character_folders_are_classes_through_the_cache(tmp_path):
    thumb = tmp_path / "animeface-character-dataset" / "thumb"
    truth = []
    for label, (character, count) in enumerate(
        (("000_hatsune_miku", 2), ("001_kinomoto_sakura", 1), ("002_suzumiya_haruhi", 2))
    ):
        for k in range(count):
            save(thumb / character / f"face_{k}.png", solid(20, 16, (k * 50, label * 60, 0)))
            truth.append(label)
    for data in opened_twice("anime", root=str(tmp_path), resolution=8):
        assert data.info.classes == ("000_hatsune_miku", "001_kinomoto_sakura", "002_suzumiya_haruhi")
        assert_labels(data, truth, indices=(4, 2, 0, 3))


def test_anime_face_layout_has_no_labels(tmp_path):
    for i in range(2):
        save(tmp_path / "images" / f"{i}_2000.jpg", solid(24, 24, (200, 100, 100)))
    data = load_dataset("anime", root=str(tmp_path), resolution=8)
    assert data.info.classes == () and data.labels is None and set(data.batch([0, 1])) == {"image"}


@pytest.fixture
def class_folders(tmp_path):
    root = tmp_path / "pets"
    truth = {}
    for label, kind in enumerate(("bird", "cat", "dog")):
        for k in range(2):
            path = save(root / kind / ("nested" if k else "") / f"{kind}{k}.png", solid(12, 10, (label * 80, k, 0)))
            truth[path.relative_to(root).as_posix()] = label
    return root, [truth[name] for name in sorted(truth)]  # the dataset's order: sorted paths


def test_folder_classes_option(class_folders):
    root, truth = class_folders
    spec = load_plugins().datasets.get("folder")
    options = dataset_options(spec, ["classes=true"])  # --data-set classes=true
    assert options == {"classes": True}
    for data in (
        open_dataset(spec, root=str(root), resolution=8, options=options),
        load_dataset("folder", root=str(root), resolution=8, classes=True),
    ):
        assert data.info.classes == ("bird", "cat", "dog")  # first-level folders only: nested/ is no class
        assert_labels(data, truth, indices=(5, 0, 3, 2))
    plain = load_dataset("folder", root=str(root), resolution=8)
    assert plain.info.classes == () and plain.labels is None and "label" not in plain.batch([0])
    assert plain.cache_path != data.cache_path


def test_folder_classes_refuse_images_lying_in_the_root(class_folders):
    root, _ = class_folders
    save(root / "stray.png", solid(8, 8, (1, 2, 3)))
    with pytest.raises(DataError, match=r"one class per subfolder.*1 image\(s\) lie directly in it \(stray.png\)"):
        load_dataset("folder", root=str(root), classes=True)
    assert len(load_dataset("folder", root=str(root), resolution=8)) == 7  # fine without classes


# --- attributes ------------------------------------------------------------------------


def test_celeba_attributes_are_0_1_and_identities_are_not_labels(celeba_root):
    truth = [[0.0, 1.0], [1.0, 1.0], [0.0, 1.0], [1.0, 1.0]]  # the fixture's -1/1 Smiling, 1 Young
    for data in opened_twice("celeba", root=str(celeba_root), resolution=8):
        batch = data.batch([3, 0, 1])
        assert data.info.attributes == ("Smiling", "Young") and data.info.classes == ()
        assert batch["attributes"].dtype == torch.float32 and batch["attributes"].tolist() == [
            truth[i] for i in (3, 0, 1)
        ]
        assert "label" not in batch and data.labels is None
        assert data.identities.dtype == torch.int64 and data.identities.tolist() == [100, 101, 102, 103]
    test = load_dataset("celeba", root=str(celeba_root), split="test", resolution=8)
    assert test.identities.tolist() == [105] and test.batch([0])["attributes"].tolist() == [[1.0, 1.0]]


def test_celeba_spec_lists_the_official_attributes():
    spec = load_plugins().datasets.get("celeba")
    assert spec.attributes == CELEBA_ATTRIBUTES and len(spec.attributes) == 40 and spec.classes == ()


def test_cartoonset_attributes_are_one_hot_through_the_cache(tmp_path):
    folder = tmp_path / "cartoonset10k"
    chosen = [(0, 10), (2, 0), (1, 3)]
    for i, (eye, face) in enumerate(chosen):
        cartoon(folder, f"cs{i}", (0, 0, 200))
        (folder / f"cs{i}.csv").write_text(f'"eye_angle", {eye}, 3\n"face_color", {face}, 11\n')
    for data in opened_twice("cartoonset", root=str(tmp_path), resolution=8):
        names = data.info.attributes
        assert data.info.num_attributes == 3 + 11 and names[0] == "eye_angle=0" and names[3 + 10] == "face_color=10"
        values = data.batch([1, 2, 0])["attributes"]
        assert values.dtype == torch.float32 and values.sum(1).tolist() == [2.0, 2.0, 2.0]
        assert [[names[k] for k in row.nonzero()[:, 0]] for row in values] == [
            [f"eye_angle={chosen[i][0]}", f"face_color={chosen[i][1]}"] for i in (1, 2, 0)
        ]


def test_cartoonset_csv_that_disagrees_is_an_error(tmp_path):
    folder = tmp_path / "cartoonset10k"
    for i in range(2):
        cartoon(folder, f"cs{i}", (0, 0, 200))
    (folder / "cs1.csv").write_text('"eye_angle", 5, 3\n"face_color", 7, 11\n')  # variant 5 of 3
    with pytest.raises(DataError, match="cs1.csv' does not list"):
        load_dataset("cartoonset", root=str(tmp_path), resolution=8)


# --- the cache and the contract --------------------------------------------------------


def test_caches_with_extras_of_an_older_version_are_rebuilt(tmp_path, monkeypatch):
    save(tmp_path / "images" / "0_2000.jpg", solid(16, 16, (9, 9, 9)))
    save(tmp_path / "thumb" / "000_a" / "x.png", solid(16, 16, (9, 9, 9)))
    with monkeypatch.context() as patched:
        patched.setattr(prepare, "EXTRAS_VERSION", 1)
        old = load_dataset("anime", root=str(tmp_path), resolution=8, layout="animeface-character")
        faces = load_dataset("anime", root=str(tmp_path), resolution=8, layout="anime-face")
    new = load_dataset("anime", root=str(tmp_path), resolution=8, layout="animeface-character")
    assert new.cache_built and new.cache_path != old.cache_path  # labelled caches: another key
    assert not load_dataset("anime", root=str(tmp_path), resolution=8, layout="anime-face").cache_built
    assert faces.cache_path.is_dir()  # caches without extras are not invalidated


def test_datasets_check_labels_against_data_info():
    images = torch.zeros(3, 1, 4, 4, dtype=torch.uint8)
    info = DataInfo(kind="images", channels=1, resolution=4, classes=("a", "b"))
    assert TensorImages(images, info, labels=[1, 0, 1]).batch([2, 1])["label"].tolist() == [1, 0]
    with pytest.raises(ValueError, match="exactly when"):
        TensorImages(images, info)  # classes named, no labels
    with pytest.raises(ValueError, match="index the 2 classes"):
        TensorImages(images, info, labels=[0, 2, 1])
    with pytest.raises(ValueError, match=r"shape \(3, 1\)"):
        TensorImages(images, DataInfo("images", 1, 4, attributes=("x",)), attributes=torch.ones(3, 2))


def test_translation_batches_have_no_labels(tmp_path):
    for name in ("a.png", "b.png"):
        save(tmp_path / "A" / name, solid(8, 8, (255, 0, 0)))
        save(tmp_path / "B" / name, solid(8, 8, (0, 255, 0)))
    data = load_dataset("paired", root=str(tmp_path), resolution=8)
    assert set(data.batch([0, 1])) == {"A", "B"} and data.info.classes == () == data.info.attributes


def test_info_shows_class_names():
    text = run_cli("info", "cifar10")
    assert text.returncode == 0, text.stderr
    assert "classes (10, batch key 'label')" in text.stdout and "airplane, automobile, bird" in text.stdout
    described = json.loads(run_cli("info", "cifar10", "--json").stdout)
    assert described[0]["classes"] == list(CIFAR10_CLASSES)
