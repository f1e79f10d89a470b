"""The `folder` dataset on a realistic mess: every image mode, EXIF rotation, bad files."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import ganzoo.data.images as images_module
from conftest import assert_no_traceback, run_cli
from ganzoo.errors import DataError
from ganzoo_datasets.folder import load


@pytest.fixture
def messy(tmp_path):
    root = tmp_path / "photos"
    (root / "nested" / "deeper").mkdir(parents=True)
    red = Image.new("RGB", (60, 40), (255, 0, 0))
    red.save(root / "wide.jpg", quality=95)
    Image.new("L", (30, 50), 200).save(root / "grey_tall.png")
    rgba = Image.new("RGBA", (32, 32), (0, 255, 0, 255))
    rgba.putpixel((0, 0), (0, 255, 0, 0))
    rgba.save(root / "nested" / "alpha.png")
    Image.new("P", (20, 20), 3).save(root / "nested" / "palette.gif")
    Image.fromarray(np.full((16, 16), 65535, dtype=np.uint16)).save(root / "nested" / "deeper" / "sixteen.png")
    # EXIF orientation 6 (rotate 90): a 40x20 landscape stored, a portrait displayed
    exif = Image.Exif()
    exif[0x0112] = 6
    half = Image.new("RGB", (40, 20), (0, 0, 255))
    half.paste((255, 255, 0), (0, 0, 20, 20))
    half.save(root / "rotated.jpg", exif=exif.tobytes(), quality=95)
    # bad files
    (root / "empty.png").write_bytes(b"")
    (root / "notes.png").write_text("this is not an image")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 9, 9)).save(buffer, format="JPEG")
    (root / "nested" / "truncated.jpg").write_bytes(buffer.getvalue()[:200])
    (root / "readme.txt").write_text("ignored: not an image suffix")
    return root


def test_every_mode_is_converted_and_bad_files_are_skipped(messy, capsys):
    before = {p: p.read_bytes() for p in messy.rglob("*") if p.is_file()}
    data = load(root=messy, resolution=16)
    assert data.images.shape == (6, 3, 16, 16) and data.info.channels == 3
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "skipped 3 of 9 files" in warning[0]
    assert "empty.png: empty file" in warning[0]
    assert {p: p.read_bytes() for p in messy.rglob("*") if p.is_file()} == before, "the source is never modified"


def test_exif_orientation_and_centre_crop(messy):
    data = load(root=messy, resolution=16)
    files = sorted(
        p.relative_to(messy).as_posix()
        for p in messy.rglob("*.*")
        if p.suffix in {".jpg", ".png", ".gif"} and p.name not in {"empty.png", "notes.png", "truncated.jpg"}
    )
    by_name = dict(zip(files, data.images))
    rotated = by_name["rotated.jpg"].float()
    # displayed upright the yellow half is on top: red+green high in the top rows, blue in the bottom ones
    assert rotated[0, :4].mean() > 200 and rotated[1, :4].mean() > 200
    assert rotated[2, -4:].mean() > 200 and rotated[0, -4:].mean() < 60
    assert by_name["wide.jpg"][0].float().mean() > 240  # red, cropped from the centre
    assert by_name["nested/deeper/sixteen.png"].float().mean() > 250  # 16-bit white stays white
    assert by_name["grey_tall.png"].float().mean() == pytest.approx(200, abs=1)


def test_decompression_bombs_are_skipped(messy, monkeypatch, capsys):
    monkeypatch.setattr(images_module, "MAX_PIXELS", 1000)  # 60x40 and 40x20 ... exceed it
    data = load(root=messy, resolution=16)
    assert "pixels is over the limit of 1,000 pixels" in capsys.readouterr().err
    assert len(data) < 6


def test_empty_or_unreadable_folders(tmp_path):
    with pytest.raises(DataError, match="needs --data-root"):
        load(root=None)
    with pytest.raises(DataError, match="no image files"):
        load(root=tmp_path)
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of the 1 image files"):
        load(root=tmp_path)


def test_train_on_a_messy_folder(messy, tmp_path):
    # batch size must fit the 6 usable images
    result = run_cli(
        "train",
        "dcgan",
        "--dataset",
        "folder",
        "--data-root",
        messy,
        "--resolution",
        16,
        "--batch-size",
        4,
        "--steps",
        5,
        "--set",
        "ngf=8",
        "--set",
        "ndf=8",
        "--out",
        tmp_path,
        "--name",
        "f",
    )
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "skipped 3 of 9 files" in result.stderr and "6 images at 16px" in result.stderr
