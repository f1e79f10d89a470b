"""`ganzoo inpaint`'s folders pair an image with its mask and exemplar by name, literally: a
file whose name merely starts like the image's, or matches it as a glob pattern, is never taken,
and two candidates are an error rather than a silent pick."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from ganzoo.data.images import same_name_file
from ganzoo.errors import DataError
from ganzoo.inpaint import match_files


def touch_image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (8, 8)).save(path)
    return path


def test_a_mask_pairs_by_its_literal_name_and_suffix_only(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    touch_image(images / "anna.jpg")
    touch_image(images / "photo[1].jpg")
    touch_image(images / "sub" / "ben.jpg")
    touch_image(masks / "anna.backup.png")  # sorts before anna.png: the old glob took it
    own = touch_image(masks / "anna.png")
    touch_image(masks / "photo1.png")  # what glob("photo[1].*") matches
    (masks / "anna.txt").write_text("not an image")
    exact = touch_image(masks / "sub" / "ben.jpg")

    assert same_name_file(masks, Path("anna.jpg")) == own
    assert same_name_file(masks, Path("photo[1].jpg")) is None
    assert same_name_file(masks, Path("sub/ben.jpg")) == exact
    assert same_name_file(masks, Path("nobody/ben.jpg")) is None

    with pytest.raises(DataError, match=r"1 image\(s\) have no file of the same name: photo\[1\].jpg \(mask\)"):
        match_files(images, masks, None, needs_exemplar=False)
    (images / "photo[1].jpg").unlink()
    root, jobs = match_files(images, masks, None, needs_exemplar=False)
    assert root == images and [(j.image.name, j.mask) for j in jobs] == [("anna.jpg", own), ("ben.jpg", exact)]


def test_two_candidates_are_an_error_naming_both(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    touch_image(images / "anna.jpg")
    touch_image(masks / "anna.png")
    touch_image(masks / "anna.PNG.webp")  # another stem: not a candidate
    touch_image(masks / "anna.bmp")
    with pytest.raises(
        DataError, match=r"2 files in '.*masks' are named like 'anna.jpg': anna.bmp, anna.png: keep one"
    ):
        match_files(images, masks, None, needs_exemplar=False)
    with pytest.raises(DataError, match="are named like 'anna.jpg'"):  # one image, a folder of masks
        match_files(images / "anna.jpg", masks, None, needs_exemplar=False)
