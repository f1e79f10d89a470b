"""Each dataset parser against fixture files written in its official layout and archive
format, the prepared cache (reuse, invalidation, damage), bad input, loader augmentation."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo_datasets.cifar as cifar
import ganzoo_datasets.mnist as mnist
import ganzoo_datasets.translation as translation
from conftest import assert_no_traceback, run_cli
from ganzoo import load_dataset
from ganzoo.augment import augment_batch
from ganzoo.data.archives import extract
from ganzoo.data.cache import data_home
from ganzoo.errors import DataError, UsageError
from test_data import Handler, idx_bytes, server  # noqa: F401 (fixture)


def save(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)
    return path


def solid(h: int, w: int, rgb, channels: int = 3) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8)[:channels], (h, w, channels)).copy()


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt)
    return buffer.getvalue()


# --- Fashion-MNIST ---------------------------------------------------------------------


def test_fashion_mnist_checks_the_published_gz_checksums(tmp_path, monkeypatch):
    images, labels = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28), np.array([0, 9, 3], np.uint8)
    gz = {
        "train-images-idx3-ubyte": gzip.compress(idx_bytes(images)),
        "train-labels-idx1-ubyte": gzip.compress(idx_bytes(labels)),
    }
    for name, data in gz.items():
        (tmp_path / f"{name}.gz").write_bytes(data)
    table = {"train": tuple((name, None, hashlib.md5(data).hexdigest()) for name, data in gz.items())}
    monkeypatch.setitem(mnist.FASHION_MNIST, "files", table)
    data = mnist.load_fashion_mnist(root=tmp_path, resolution=32)
    assert torch.equal(data.images[:, 0, 2:30, 2:30], torch.from_numpy(images)) and data.labels.tolist() == [0, 9, 3]
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels), mtime=1) + b"")
    monkeypatch.setitem(
        mnist.FASHION_MNIST, "files", {"train": (table["train"][0], ("train-labels-idx1-ubyte", None, "0" * 32))}
    )
    with pytest.raises(DataError, match="not the official file"):
        mnist.load_fashion_mnist(root=tmp_path)


# --- CIFAR-10 --------------------------------------------------------------------------


def cifar_batch(count: int, label_offset: int) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(label_offset)
    pixels = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
    labels = (np.arange(count) + label_offset) % 10
    records = np.concatenate([labels[:, None].astype(np.uint8), pixels.reshape(count, -1)], axis=1)
    return records.tobytes(), pixels


def test_cifar10_downloads_extracts_and_parses_the_binary_version(server, monkeypatch):
    files, train_pixels = {}, []
    for i in range(1, 6):
        data, pixels = cifar_batch(4, i)
        files[f"cifar-10-batches-bin/data_batch_{i}.bin"] = data
        train_pixels.append(pixels)
    files["cifar-10-batches-bin/test_batch.bin"], test_pixels = cifar_batch(3, 0)
    archive = tar_gz(files)
    Handler.files["/cifar.tgz"] = archive
    monkeypatch.setattr(cifar, "URL", f"{server}/cifar.tgz")
    monkeypatch.setattr(cifar, "MD5", hashlib.md5(archive).hexdigest())
    train = load_dataset("cifar10")
    assert train.images.shape == (20, 3, 32, 32) and torch.equal(
        train.images, torch.from_numpy(np.concatenate(train_pixels))
    )
    test = load_dataset("cifar10", split="test", resolution=16)
    assert test.images.shape == (3, 3, 16, 16) and test.labels.tolist() == [0, 1, 2]
    assert not list(data_home().rglob("*.part")) and not list(data_home().rglob("*.extracting-*"))


def test_cifar10_rejects_a_wrong_archive_and_a_damaged_batch(server, monkeypatch, tmp_path):
    Handler.files["/cifar.tgz"] = tar_gz({"x.bin": b"1"})
    monkeypatch.setattr(cifar, "URL", f"{server}/cifar.tgz")
    monkeypatch.setattr(cifar, "MD5", "0" * 32)
    with pytest.raises(DataError, match="checksum mismatch"):
        load_dataset("cifar10")
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        (folder / name).write_bytes(cifar_batch(2, 0)[0][:-5])
    with pytest.raises(DataError, match="not a CIFAR-10 binary batch"):
        load_dataset("cifar10", root=str(tmp_path))


# --- CelebA ----------------------------------------------------------------------------


@pytest.fixture
def celeba_root(tmp_path):
    root = tmp_path / "celeba"
    names = [f"{i:06d}.jpg" for i in range(1, 7)]
    for i, name in enumerate(names):
        face = solid(218, 178, (200, 40 * i, 10))
        face[:55], face[163:] = 0, 0  # outside the centre 108x108 box: black
        face[:, :35], face[:, 143:] = 0, 0
        save(root / "img_align_celeba" / name, face)
    (root / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in zip(names, [0, 0, 0, 0, 1, 2])))
    header = f"{len(names)}\nSmiling Young\n"
    (root / "list_attr_celeba.txt").write_text(
        header + "".join(f"{n}  {1 if i % 2 else -1} 1\n" for i, n in enumerate(names))
    )
    (root / "identity_CelebA.txt").write_text("".join(f"{n} {100 + i}\n" for i, n in enumerate(names)))
    return root


def test_celeba_splits_crop_and_annotations(celeba_root):
    train = load_dataset("celeba", root=str(celeba_root), resolution=16)
    assert len(train) == 4 and train.images.shape == (4, 3, 16, 16)
    assert train.images[:, 0].float().mean() > 190  # the 108 crop keeps only the face colour, no black border
    assert train.info.attributes == ("Smiling", "Young")
    assert train.batch([0, 1, 2, 3])["attributes"].tolist() == [[0, 1], [1, 1], [0, 1], [1, 1]]  # -1/1 as 0/1
    assert train.identities.tolist() == [100, 101, 102, 103] and train.labels is None  # identities are no labels
    assert len(load_dataset("celeba", root=str(celeba_root), split="test", resolution=16)) == 1
    whole = load_dataset("celeba", root=str(celeba_root), resolution=16, crop=0)
    assert whole.images[:, 0].float().mean() < 190  # without the crop, the black border is in


def test_celeba_missing_folder_says_what_to_fetch(tmp_path):
    with pytest.raises(DataError, match="img_align_celeba.*mmlab"):
        load_dataset("celeba", root=str(tmp_path))


# --- Cartoon Set -----------------------------------------------------------------------


def cartoon(folder: Path, name: str, colour) -> None:
    avatar = np.zeros((50, 50, 4), dtype=np.uint8)
    avatar[15:35, 15:35] = (*colour, 255)  # an opaque face on a transparent background
    save(folder / f"{name}.png", avatar, "RGBA")
    (folder / f"{name}.csv").write_text('"eye_angle", 2, 3\n"face_color", 7, 11\n')


def test_cartoonset_composites_background_and_reads_attributes(tmp_path):
    for i in range(3):
        cartoon(tmp_path / "cartoonset10k", f"cs{i:03d}", (0, 0, 200))
    data = load_dataset("cartoonset", root=str(tmp_path), resolution=10, background="#00ff00")
    corner, centre = data.images[0, :, 0, 0].tolist(), data.images[0, :, 5, 5].tolist()
    assert corner == [0, 255, 0] and centre[2] > 150 and centre[1] < 60
    assert data.info.attributes == (*(f"eye_angle={v}" for v in range(3)), *(f"face_color={v}" for v in range(11)))
    assert data.batch([0])["attributes"].nonzero()[:, 1].tolist() == [2, 3 + 7]  # one-hot
    with pytest.raises(UsageError, match="not a colour"):
        load_dataset("cartoonset", root=str(tmp_path), background="nocolour")


def test_cartoonset100k_reads_its_ten_folders(tmp_path):
    for folder in range(3):
        cartoon(tmp_path / "cartoonset100k" / str(folder), f"cs{folder}", (10, 10, 10))
    assert len(load_dataset("cartoonset100k", root=str(tmp_path), resolution=8)) == 3


# --- anime -----------------------------------------------------------------------------


def test_anime_recognises_both_layouts(tmp_path):
    faces = tmp_path / "faces"
    for i, size in enumerate((90, 120, 100)):
        save(faces / "images" / f"{i}_2000.jpg", solid(size, size, (255, 100, 100)))
    assert len(load_dataset("anime", root=str(faces), resolution=16)) == 3
    characters = tmp_path / "chars" / "animeface-character-dataset" / "thumb"
    for character, count in (("000_hatsune_miku", 2), ("001_kinomoto_sakura", 1)):
        for k in range(count):
            save(characters / character / f"face_{k}.png", solid(40, 30, (k * 50, 0, 0)))
    data = load_dataset("anime", root=str(tmp_path / "chars"), resolution=16)
    assert data.labels.tolist() == [0, 0, 1]
    assert data.info.classes == ("000_hatsune_miku", "001_kinomoto_sakura")
    with pytest.raises(DataError, match="neither anime layout"):
        load_dataset("anime", root=str(tmp_path / "faces"), layout="animeface-character")


# --- Pix2Pix / CycleGAN sets, paired and unpaired -------------------------------------


def test_pix2pix_set_downloads_and_splits_ab_images(server, monkeypatch):
    ab = np.concatenate([solid(32, 32, (255, 0, 0)), solid(32, 32, (0, 0, 255))], axis=1)
    files = {f"facades/{split}/{i}.jpg": png_bytes(ab, "JPEG") for split in ("train", "val", "test") for i in range(3)}
    Handler.files["/facades.tar.gz"] = tar_gz(files)
    monkeypatch.setattr(translation, "PIX2PIX_URL", f"{server}/{{name}}.tar.gz")
    load, _ = translation.pix2pix_set("facades")
    monkeypatch.setattr(translation.loaders, "facades", load)
    data = load_dataset("facades", resolution=16)
    batch = data.batch([0, 1])
    assert data.info.kind == "paired" and batch["A"].shape == (2, 3, 16, 16)
    assert batch["A"][:, 0].float().mean() > 240 and batch["B"][:, 2].float().mean() > 240
    assert len(load_dataset("facades", split="val", resolution=16)) == 3


def test_paired_folders_must_match_and_not_be_modified(tmp_path):
    for name in ("a.png", "b.png"):
        save(tmp_path / "A" / name, solid(20, 20, (255, 0, 0)))
        save(tmp_path / "B" / name, solid(20, 20, (0, 255, 0)))
    before = tree_digest(tmp_path)
    data = load_dataset("paired", root=str(tmp_path), resolution=8)
    assert len(data) == 2 and data.batch([1])["B"][0, 1].float().mean() > 240
    save(tmp_path / "A" / "c.png", solid(20, 20, (0, 0, 0)))
    with pytest.raises(DataError, match="1 A image.*without a B.*A/c.png"):
        load_dataset("paired", root=str(tmp_path), resolution=8)
    (tmp_path / "A" / "c.png").unlink()
    assert tree_digest(tmp_path) == before


def test_unpaired_draws_each_domain_from_its_own_restorable_order(tmp_path):
    for side, count in (("A", 3), ("B", 5)):
        for i in range(count):
            save(tmp_path / f"train{side}" / f"{i}.png", solid(12, 12, (i * 40, 0 if side == "A" else 255, 0)))
    data = load_dataset("unpaired", root=str(tmp_path), resolution=8)
    assert len(data) == 5 and data.info.kind == "unpaired"
    order = data.make_order(batch_size=2, seed=1)
    first = [order.next() for _ in range(3)]
    state = order.state_dict()
    later = [order.next() for _ in range(4)]
    again = data.make_order(batch_size=2, seed=1)
    again.load_state_dict(state)
    assert all(torch.equal(x[k], y[k]) for x, y in zip(later, [again.next() for _ in range(4)]) for k in "AB")
    batch = data.batch(first[0])
    assert batch["A"].shape == (2, 3, 8, 8) and batch["B"][:, 1].float().mean() > 240
    with pytest.raises(DataError, match="testA"):
        load_dataset("unpaired", root=str(tmp_path), split="test")


def test_cyclegan_set_from_its_zip(server, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for side in ("trainA", "trainB", "testA", "testB"):
            for i in range(2):
                archive.writestr(f"horse2zebra/{side}/n{i}.jpg", png_bytes(solid(24, 24, (i, 9, 9)), "JPEG"))
    Handler.files["/horse2zebra.zip"] = buffer.getvalue()
    monkeypatch.setattr(translation, "CYCLEGAN_URL", f"{server}/{{name}}.zip")
    load, _ = translation.cyclegan_set("horse2zebra")
    monkeypatch.setattr(translation.loaders, "horse2zebra", load)
    data = load_dataset("horse2zebra", resolution=16)
    assert data.info.kind == "unpaired" and data.batch([0, 1])["A"].shape == (2, 3, 16, 16)


# --- archives --------------------------------------------------------------------------


def test_archives_with_members_outside_their_folder_are_refused(tmp_path):
    evil_tar = tmp_path / "evil.tar.gz"
    evil_tar.write_bytes(tar_gz({"../escaped.txt": b"x"}))
    with pytest.raises(DataError, match="cannot extract"):
        extract(evil_tar, tmp_path / "out")
    evil_zip = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil_zip, "w") as archive:
        archive.writestr("../escaped.txt", "x")
    with pytest.raises(DataError, match="outside its folder"):
        extract(evil_zip, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "out").exists()


# --- the prepared cache ----------------------------------------------------------------


def manifest_of(data) -> dict:
    return json.loads((data.cache_path / "manifest.json").read_text())


def test_cache_is_reused_rebuilt_on_change_and_keyed_by_settings(tmp_path):
    for i in range(4):
        save(tmp_path / f"{i}.png", solid(20, 30, (i * 60, 0, 0)))
    first = load_dataset("folder", root=str(tmp_path), resolution=8)
    assert first.cache_built and len(first) == 4
    again = load_dataset("folder", root=str(tmp_path), resolution=8)
    assert not again.cache_built and again.cache_path == first.cache_path
    save(tmp_path / "0.png", solid(20, 30, (0, 0, 255)))  # the source changes
    os.utime(tmp_path / "0.png", ns=(1, 1))
    rebuilt = load_dataset("folder", root=str(tmp_path), resolution=8)
    assert rebuilt.cache_built and rebuilt.images[0, 2].float().mean() > 240
    padded = load_dataset("folder", root=str(tmp_path), resolution=8, fit="pad")
    assert padded.cache_path != first.cache_path and padded.images[0, 2, 0].max() == 0  # letterbox rows
    (first.cache_path / "image.u8").write_bytes(b"short")  # damaged cache: rebuilt, not read
    assert load_dataset("folder", root=str(tmp_path), resolution=8).cache_built


def test_bad_files_are_skipped_counted_in_the_manifest_and_source_untouched(tmp_path, capsys):
    save(tmp_path / "good.png", solid(10, 10, (1, 2, 3)))
    save(tmp_path / "grey16.png", (np.arange(100, dtype=np.uint16).reshape(10, 10) * 600))
    save(tmp_path / "palette.gif", solid(10, 10, (9, 9, 9)))
    (tmp_path / "zero.jpg").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "cut.jpg").write_bytes(png_bytes(solid(64, 64, (5, 5, 5)), "JPEG")[:200])
    before = tree_digest(tmp_path)
    data = load_dataset("folder", root=str(tmp_path), resolution=8)
    manifest = manifest_of(data)
    assert len(data) == 3 and manifest["skipped_count"] == 3
    assert {Path(s["file"]).name for s in manifest["skipped"]} == {"zero.jpg", "text.png", "cut.jpg"}
    warning = capsys.readouterr().err
    assert warning.count("\n") == 1 and "skipped 3 of 6" in warning and "zero.jpg: empty file" in warning
    assert tree_digest(tmp_path) == before


def test_prepare_in_parallel_gives_the_same_cache(tmp_path, monkeypatch):
    for i in range(300):
        save(tmp_path / f"{i:03d}.png", solid(6, 9, (i % 256, 0, 0)))
    (tmp_path / "150.png").write_bytes(b"broken")
    monkeypatch.setenv("GANZOO_WORKERS", "2")
    parallel = load_dataset("folder", root=str(tmp_path), resolution=4).images.clone()
    monkeypatch.setenv("GANZOO_WORKERS", "1")
    monkeypatch.setenv("GANZOO_DATA", str(tmp_path.parent / "serial-cache"))
    serial = load_dataset("folder", root=str(tmp_path), resolution=4).images
    assert parallel.shape[0] == 299 and torch.equal(parallel, serial)


# --- loader augmentation ---------------------------------------------------------------


def test_flip_moves_input_and_target_together():
    a = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4) / 100 - 0.5
    batch = {"A": a, "B": a.clone() * -1}
    torch.manual_seed(3)
    out = augment_batch(batch, ("flip", "translation", "cutout", "color"))
    assert out["A"].shape == a.shape
    torch.manual_seed(3)
    flipped = augment_batch(batch, ("flip",))
    for i in range(2):
        same = torch.equal(flipped["A"][i], a[i])
        assert same == torch.equal(flipped["B"][i], -a[i])
        assert same or torch.equal(flipped["A"][i], a[i].flip(2))


# --- CLI -------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_prepare_make_edges_and_info(tmp_path):
    photos = tmp_path / "photos"
    for i in range(10):
        image = solid(40, 40, (255, 255, 255))
        image[10 + i : 30, 10:30] = (20 * i, 50, 200)
        save(photos / f"p{i}.jpg", image)
    result = run_cli("data", "make-edges", photos, tmp_path / "pairs", "--resolution", "32")
    assert result.returncode == 0, result.stderr
    assert "wrote 9 train and 1 val pairs" in result.stdout
    pair = np.asarray(Image.open(tmp_path / "pairs" / "train" / "p0.png"))
    assert pair.shape == (32, 64, 3) and (pair[:, :32] == 0).any() and (pair[:, :32] == 255).mean() > 0.5
    result = run_cli("data", "prepare", "paired", "--data-root", tmp_path / "pairs", "--resolution", "16")
    assert result.returncode == 0 and "9 examples at 16px, prepared" in result.stdout, result.stderr
    result = run_cli("data", "prepare", "paired", "--data-root", tmp_path / "pairs", "--resolution", "16")
    assert "cache up to date" in result.stdout
    for bad in (
        ("data", "prepare", "cartoonset", "--data-set", "colour=red"),
        ("data", "make-edges", photos, photos / "inside"),
        ("data", "prepare", "paired", "--data-root", tmp_path / "nowhere"),
    ):
        result = run_cli(*bad)
        assert result.returncode in (1, 2) and result.stderr.count("\n") == 1, result.stderr
        assert_no_traceback(result)
    info = run_cli("info", "cartoonset").stdout
    assert "cartoonset10k.tgz" in info and "background" in info and "CC BY 4.0" in info


@pytest.mark.slow
def test_bench_data_reports_every_measurement(tmp_path):
    result = run_cli("bench", "data", "--jpegs", "150", "--sizes", "300,600", "--workdir", tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["prepare_images_per_s"] > 0 and report["cache_images_per_s"] > 0
    assert report["imagefolder_images_per_s"] > 0 and set(report["rss_mb"]) == {"300", "600"}


def test_digits_are_scaled_up_by_whole_pixels_unless_asked_to_smooth():
    """Nearest-neighbour blocks shrink back to the 8x8 original exactly; bilinear gives the soft
    strokes that made models draw blurred digits (docs/benchmarks.md)."""
    original = load_dataset("digits", resolution=8).images.float()
    blocks = load_dataset("digits", resolution=16).images.float()
    assert torch.equal(torch.nn.functional.avg_pool2d(blocks, 2), original)
    assert torch.equal(blocks, original.repeat_interleave(2, 2).repeat_interleave(2, 3))
    smooth = load_dataset("digits", resolution=16, upscale="bilinear").images
    levels = lambda images: len(images.unique())  # noqa: E731
    assert levels(blocks) == levels(original) == 17 and levels(smooth) > 17
    with pytest.raises(Exception, match="upscale"):
        load_dataset("digits", upscale="bicubic")
