"""The seeded hole-mask generators: shape, the {0, 1} convention, each kind's hole-ratio bounds,
determinism from the torch.Generator, eye boxes, bounding boxes and the PNG writer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo.data.masks as masks_module
from ganzoo.data.masks import MASK_KINDS, bounding_boxes, make_masks, write_masks
from ganzoo.errors import DataError, UnknownNameError, UsageError

RANDOM_KINDS = [kind for kind in MASK_KINDS if kind != "eyes"]


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_every_documented_kind_has_sane_bounds_and_a_source():
    assert set(MASK_KINDS) == {"box", "eyes", "strokes", "thin", "medium", "thick"}
    for name, kind in MASK_KINDS.items():
        assert kind.name == name and kind.description and kind.source
        assert 0.0 <= kind.min_ratio < kind.max_ratio <= 1.0


@pytest.mark.parametrize("resolution", [32, 64, 128])
@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_masks_are_binary_holes_within_their_kinds_bounds(kind, resolution):
    masks = make_masks(kind, 64, resolution, generator(resolution))
    assert masks.shape == (64, 1, resolution, resolution)
    assert masks.dtype == torch.float32
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    ratios = masks.mean(dim=(1, 2, 3))
    spec = MASK_KINDS[kind]
    assert (ratios > 0).all() and (ratios < 1).all()  # never empty, never full
    assert (ratios >= spec.min_ratio).all() and (ratios <= spec.max_ratio).all(), (ratios.min(), ratios.max())
    assert len({tuple(m.flatten().tolist()) for m in masks}) > 32  # masks vary within a batch


@pytest.mark.parametrize("resolution", [16, 32, 128])
def test_draws_that_keep_missing_the_bounds_fall_back_to_one_box_inside_them(monkeypatch, resolution):
    full = lambda rng, size: np.ones((size, size), dtype=bool)  # noqa: E731 - always too many holes
    monkeypatch.setitem(masks_module._DRAWERS, "thin", full)
    masks = make_masks("thin", 16, resolution, generator())
    spec = MASK_KINDS["thin"]
    ratios = masks.mean(dim=(1, 2, 3))
    assert (ratios >= spec.min_ratio).all() and (ratios <= spec.max_ratio).all()
    for mask, (x0, y0, x1, y1) in zip(masks, bounding_boxes(masks).tolist()):
        assert mask.sum() == (x1 - x0) * (y1 - y0)  # a filled rectangle
    assert torch.equal(masks, make_masks("thin", 16, resolution, generator()))


def test_no_masks_is_an_empty_batch():
    assert make_masks("box", 0, 32, generator()).shape == (0, 1, 32, 32)


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_same_generator_state_gives_the_same_masks_and_advances_it(kind):
    first, second = generator(7), generator(7)
    state = first.get_state()
    a = make_masks(kind, 8, 64, first)
    assert not torch.equal(first.get_state(), state)  # the state moved on, so a checkpoint holds it
    assert torch.equal(a, make_masks(kind, 8, 64, second))
    assert not torch.equal(make_masks(kind, 8, 64, first), a)  # the next batch is new


def test_restoring_a_generator_state_replays_the_masks():
    g = generator(3)
    make_masks("strokes", 4, 32, g)
    saved = g.get_state()
    expected = make_masks("thick", 4, 32, g)
    g.set_state(saved)
    assert torch.equal(make_masks("thick", 4, 32, g), expected)


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_different_seeds_give_different_masks(kind):
    assert not torch.equal(make_masks(kind, 8, 64, generator(0)), make_masks(kind, 8, 64, generator(1)))


def test_the_first_masks_do_not_depend_on_how_many_follow():
    assert torch.equal(make_masks("medium", 3, 32, generator(5)), make_masks("medium", 10, 32, generator(5))[:3])


def test_eye_boxes_become_exactly_the_holes():
    boxes = [[(2, 3, 10, 8), (20, 3, 28, 8)], (5, 6, 7, 11)]  # two eyes, then a single rectangle
    masks = make_masks("eyes", 2, 32, generator(), boxes=boxes)
    expected = torch.zeros(2, 1, 32, 32)
    expected[0, 0, 3:8, 2:10] = 1
    expected[0, 0, 3:8, 20:28] = 1
    expected[1, 0, 6:11, 5:7] = 1
    assert torch.equal(masks, expected)
    tensor_boxes = torch.tensor([[[2, 3, 10, 8], [20, 3, 28, 8]]])
    assert torch.equal(make_masks("eyes", 1, 32, generator(), boxes=tensor_boxes), expected[:1])


def test_eye_boxes_cover_every_pixel_they_touch_and_are_clipped_to_the_image():
    masks = make_masks("eyes", 1, 16, generator(), boxes=[(1.5, 2.2, 3.1, 4.0)])
    assert torch.nonzero(masks[0, 0]).tolist() == [[y, x] for y in (2, 3) for x in (1, 2, 3)]
    clipped = make_masks("eyes", 1, 16, generator(), boxes=[(12, -4, 40, 3)])
    assert bounding_boxes(clipped).tolist() == [[12, 0, 16, 3]]


def test_eye_masks_refuse_missing_empty_or_full_boxes():
    with pytest.raises(UsageError, match="need boxes"):
        make_masks("eyes", 2, 32, generator())
    with pytest.raises(UsageError, match="each of the 2 samples"):
        make_masks("eyes", 2, 32, generator(), boxes=[(0, 0, 4, 4)])
    with pytest.raises(DataError, match="empty"):
        make_masks("eyes", 1, 32, generator(), boxes=[(40, 40, 50, 50)])
    with pytest.raises(DataError, match="full"):
        make_masks("eyes", 1, 32, generator(), boxes=[(0, 0, 32, 32)])
    with pytest.raises(UsageError, match="only used by 'eyes'"):
        make_masks("box", 1, 32, generator(), boxes=[(0, 0, 4, 4)])


def test_bounding_boxes_are_the_extent_of_the_holes():
    masks = torch.zeros(3, 1, 16, 16)
    masks[0, 0, 2:5, 7:9] = 1
    masks[1, 0, 0, 15] = 1
    masks[1, 0, 10, 3] = 1  # two separate holes: one box around both
    boxes = bounding_boxes(masks)
    assert boxes.dtype == torch.int64
    assert boxes.tolist() == [[7, 2, 9, 5], [3, 0, 16, 11], [0, 0, 16, 16]]  # empty -> whole image


def test_bounding_boxes_hold_every_hole_of_generated_masks():
    masks = make_masks("strokes", 16, 64, generator(2))
    for mask, (x0, y0, x1, y1) in zip(masks, bounding_boxes(masks).tolist()):
        inside = mask[0, y0:y1, x0:x1]
        assert inside.sum() == mask.sum()  # nothing outside the box
        assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()  # tight


def test_an_unknown_kind_is_a_usage_error_with_a_suggestion():
    with pytest.raises(UnknownNameError, match="unknown mask kind 'thik'.*'thick'") as caught:
        make_masks("thik", 1, 32, generator())
    assert isinstance(caught.value, UsageError)


def test_write_masks_round_trips_through_png(tmp_path):
    paths = write_masks("thin", 5, 32, tmp_path / "out", seed=4)
    assert [p.name for p in paths] == [f"mask-00{i}.png" for i in range(5)]
    expected = make_masks("thin", 5, 32, generator(4))
    for path, mask in zip(paths, expected):
        with Image.open(path) as image:
            assert image.mode == "L" and image.size == (32, 32)
            pixels = np.asarray(image)
        assert set(np.unique(pixels).tolist()) == {0, 255}  # white is the hole
        assert torch.equal(torch.from_numpy(pixels == 255).float(), mask[0])
    with pytest.raises(UsageError, match="landmarks"):
        write_masks("eyes", 1, 32, tmp_path, seed=0)
