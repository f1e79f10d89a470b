"""ExGAN's inpainting datasets: each an InpaintingView (image, mask, exemplar) over images
grouped by identity or class.

- ``digits-inpaint`` (embedded): scikit-learn's digits; a box over part of each digit's ink;
  the exemplar is another digit of the same class. The last 197 digits are the ``test`` split.
- ``celeba-eyes``: CelebA aligned faces (whole image, centre square) with a box over each eye
  placed from the landmarks and sized by the distance between the eyes; the exemplar is another
  photo of the same person in the same split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganzoo.plugin import DataError, DataInfo, UnknownNameError, datakit, load_dataset, option

DIGITS_TEST = 197  # as edges2digits: the last 197 digits are held out
GENERATED = tuple(kind for kind in datakit.MASK_KINDS if kind != "eyes")


@dataclass
class DigitsInpaintOptions:
    mask: str = option(
        "digit", "holes: digit (a box over part of the digit's ink) or a generated kind: " + ", ".join(GENERATED)
    )


@dataclass
class CelebAEyesOptions:
    jitter: float = option(
        0.1, "training only: eye boxes move and resize by up to this fraction of the eye distance", min=0.0, max=0.5
    )
    box_width: float = option(0.6, "eye box width, as a fraction of the distance between the eyes", min=0.1, max=1.5)
    box_height: float = option(0.4, "eye box height, as a fraction of the distance between the eyes", min=0.1, max=1.5)


def _mask_source(mask: str, boxes):
    if mask in GENERATED:
        return mask
    if mask in ("digit", "eyes") and boxes is not None:
        return boxes
    raise UnknownNameError("mask", mask, GENERATED)


def load_digits_inpaint(
    root=None, resolution: int = 32, split: str = "train", mask: str = "digit"
) -> datakit.InpaintingView:
    # The smooth scaling this demo was measured with (docs/models/exgan.md); not yet re-measured
    # on the whole-pixel digits that the image models now train on.
    digits = load_dataset("digits", resolution=resolution, upscale="bilinear")
    chosen = slice(None, -DIGITS_TEST) if split == "train" else slice(-DIGITS_TEST, None)
    images, labels = digits.images[chosen], digits.labels[chosen]
    source = datakit.TensorImages(images, digits.info, labels=labels)
    return datakit.InpaintingView(
        source, labels, "digits-inpaint", _mask_source(mask, InkBoxes(images)), fixed=split != "train"
    )


class InkBoxes:
    """A box over part of each digit's ink: 50-70 % of its ink's width and height, centred near
    the ink's centre, so the hole always takes away part of the digit."""

    def __init__(self, images: torch.Tensor):
        ink = images[:, 0] > 64
        rows, cols = ink.any(2), ink.any(1)
        first = lambda flags: flags.float().argmax(1)  # noqa: E731
        last = lambda flags: flags.shape[1] - 1 - flags.flip(1).float().argmax(1)  # noqa: E731
        self.bounds = torch.stack([first(cols), first(rows), last(cols) + 1, last(rows) + 1], 1).float()

    def __call__(self, indices: torch.Tensor, generator: torch.Generator | None) -> list:
        x0, y0, x1, y1 = self.bounds[indices].unbind(1)
        u = torch.rand(len(indices), 4, generator=generator)
        width, height = (x1 - x0) * (0.5 + 0.2 * u[:, 0]), (y1 - y0) * (0.5 + 0.2 * u[:, 1])
        cx = (x0 + x1) / 2 + (u[:, 2] - 0.5) * 0.3 * (x1 - x0)
        cy = (y0 + y1) / 2 + (u[:, 3] - 0.5) * 0.3 * (y1 - y0)
        return [
            [(float(a - w / 2), float(b - h / 2), float(a + w / 2), float(b + h / 2))]
            for a, b, w, h in zip(cx, cy, width, height)
        ]


@dataclass
class LabelledInpaintOptions:
    source: str = option("mnist", "the labelled image dataset to inpaint (its --data-root is this one's)")
    mask: str = option("box", "hole kind: " + ", ".join(GENERATED))
    group: str = option(
        "",
        "datasets with attributes instead of classes (cartoonset): pair images that share "
        "this attribute's value, e.g. face_shape",
    )


HELD_OUT_FRACTION = 0.1  # of a source without a test split, its last tenth is held out


def load_labelled_inpaint(
    root=None, resolution: int = 32, split: str = "train", source: str = "mnist", mask: str = "box", group: str = ""
) -> datakit.InpaintingView:
    """Any labelled image dataset as inpainting data: the exemplar is another image of the same
    class (or attribute value). Its ``test`` split is held out, or else its training split's
    last tenth."""
    spec = datakit.dataset_spec(source)
    if spec.kind != "images":
        raise DataError(f"--data-set source={source} holds {spec.kind} data, not labelled images")
    # a source that labels only on request (a folder: one class per subfolder) is asked to
    wanted: dict[str, Any] = {"classes": True} if "classes" in datakit.dataset_option_names(source) else {}
    if "test" in spec.splits:
        data, only = load_dataset(source, root=root, resolution=resolution, split=split, **wanted), None
    else:
        data = load_dataset(source, root=root, resolution=resolution, split="train", **wanted)
        cut = len(data) - max(1, round(len(data) * HELD_OUT_FRACTION))
        only = torch.arange(cut) if split == "train" else torch.arange(cut, len(data))
    groups = _groups(data, source, group)
    return datakit.InpaintingView(
        data, groups, f"{source}-inpaint", _mask_source(mask, None), fixed=split != "train", only=only
    )


def _groups(data, source: str, group: str) -> torch.Tensor:
    """Each example's class, or the value of the attribute ``group`` (one-hot columns NAME=VALUE)."""
    if not group:
        if data.info.classes:
            return data.labels
        raise DataError(
            f"'{source}' has no classes"
            + (
                f"; pair by an attribute with --data-set group=NAME (e.g. {data.info.attributes[0].split('=')[0]})"
                if data.info.attributes
                else ""
            )
        )
    columns = [k for k, name in enumerate(data.info.attributes) if name.split("=")[0] == group]
    if not columns:
        known = sorted({name.split("=")[0] for name in data.info.attributes})
        raise UnknownNameError(f"attribute of '{source}'", group, known)
    return data.attributes[:, columns].argmax(1)


@dataclass
class InpaintFolderOptions:
    mask: str = option("box", "holes when the folder has no masks/: " + ", ".join(GENERATED))
    invert_mask: bool = option(False, "black (0) marks the hole in masks/ (the other convention)")


def load_inpaint_folder(
    root=None,
    resolution: int = 64,
    split: str = "train",
    fit: str = "crop",
    mask: str = "box",
    invert_mask: bool = False,
) -> datakit.InpaintingView:
    """Your images: ``ROOT/images/`` (one subfolder per person, ``images/anna/1.jpg``, pairs
    images of one person), optional ``ROOT/masks/`` and ``ROOT/exemplars/`` with the images'
    relative names (white = hole; an exemplar per image instead of pairing by subfolder)."""
    folder = datakit.given_root(root, "inpaint-folder")
    if folder is None or not (folder / "images").is_dir():
        raise DataError("inpaint-folder: --data-root must hold images/ (and optionally masks/ and exemplars/)")
    files = datakit.find_images(folder / "images")
    if not files:
        raise DataError(f"no image files under '{folder / 'images'}'")
    relative = [path.relative_to(folder / "images") for path in files]

    def partners(kind: str) -> list[Path] | None:
        if not (folder / kind).is_dir():
            return None
        try:
            found = [datakit.same_name_file(folder / kind, r) for r in relative]
        except ValueError as exc:
            raise DataError(f"inpaint-folder: {exc}: keep one") from None
        lacking = [str(r) for r, f in zip(relative, found) if f is None]
        if lacking:
            raise DataError(
                f"inpaint-folder: {len(lacking)} image(s) have no file of the same name in {kind}/: "
                f"{', '.join(lacking[:3])}"
            )
        return [f for f in found if f is not None]  # all of them, after the check above

    def read(paths: list[Path], decode) -> torch.Tensor:
        try:
            return torch.from_numpy(np.stack([decode(p) for p in paths]))
        except datakit.SkippedImage as exc:
            raise DataError(f"inpaint-folder: {exc}") from None

    images = read(files, lambda p: datakit.load_square(p, resolution, fit)).permute(0, 3, 1, 2).contiguous()
    info = DataInfo(kind="images", channels=3, resolution=resolution, size=len(files), name="inpaint-folder")
    source = datakit.TensorImages(images, info)
    exemplar_files, mask_files = partners("exemplars"), partners("masks")
    exemplars = None
    if exemplar_files is not None:
        pictures = read(exemplar_files, lambda p: datakit.load_square(p, resolution, fit)).permute(0, 3, 1, 2)
        exemplars = datakit.TensorImages(pictures.contiguous(), info)
    people = [r.parts[0] if len(r.parts) > 1 else str(r) for r in relative]  # a loose file is its own person
    groups = torch.tensor([sorted(set(people)).index(p) for p in people])
    if exemplars is None and len(set(people)) == len(people):
        raise DataError(
            "inpaint-folder: every image needs an exemplar: put images of one person in one subfolder "
            "(images/anna/...), or give exemplars/ with the images' names"
        )
    holes = None
    if mask_files is not None:  # the same crop or letterbox as the image; a pixel touched by the hole is hole

        def hole(path: Path) -> np.ndarray:
            square = datakit.fit_square(datakit.open_as(path, "RGB"), resolution, fit)[..., 0]
            return ((square <= 127) if invert_mask else (square > 0)).astype(np.uint8) * 255

        holes = read(mask_files, hole)[:, None]
        empty = [str(r) for r, h in zip(relative, holes) if not h.any()]
        if empty:
            raise DataError(
                f"inpaint-folder: masks/ of {', '.join(empty[:3])} have no hole (white = hole; "
                "--data-set invert_mask=true for the other convention)"
            )
    return datakit.InpaintingView(
        source,
        groups,
        "inpaint-folder",
        _mask_source(mask, None),
        fixed=split != "train",
        fixed_masks=holes,
        exemplar_images=exemplars,
    )


def load_celeba_eyes(
    root=None,
    resolution: int = 128,
    split: str = "train",
    jitter: float = 0.1,
    box_width: float = 0.6,
    box_height: float = 0.4,
) -> datakit.InpaintingView:
    """The registered ``celeba`` (whole image, with its landmarks, identities required and kept
    apart by the splits) with a box over each eye and another photo of the same person."""
    data = load_dataset(
        "celeba", root=root, resolution=resolution, split=split, crop=0, landmarks=True, identities=True
    )
    eyes = EyeBoxes(
        torch.as_tensor(data.extras["landmarks"]).float(),
        resolution,
        jitter if split == "train" else 0.0,
        box_width,
        box_height,
    )
    return datakit.InpaintingView(data, data.identities, "celeba-eyes", eyes, fixed=split != "train")


class EyeBoxes:
    """One box per eye, from the aligned landmarks: the whole 178x218 image centre-cropped to
    178x178 (rows 20..197) and scaled to the resolution; sized by the distance between the eyes,
    moved and resized by up to ``jitter`` of that distance."""

    def __init__(self, landmarks: torch.Tensor, resolution: int, jitter: float, width: float, height: float):
        scale = resolution / 178
        self.eyes = torch.stack([landmarks[:, 0:2], landmarks[:, 2:4]], 1) * scale  # (N, 2 eyes, x y)
        self.eyes[..., 1] -= 20 * scale
        self.distance = (self.eyes[:, 1] - self.eyes[:, 0]).norm(dim=1)
        self.jitter, self.width, self.height = jitter, width, height

    def __call__(self, indices: torch.Tensor, generator: torch.Generator | None) -> list:
        eyes, distance = self.eyes[indices], self.distance[indices][:, None]
        u = torch.rand(len(indices), 2, 4, generator=generator) * 2 - 1  # per eye: dx, dy, dw, dh
        shift = eyes + u[..., :2] * self.jitter * distance[..., None]
        width = distance * self.width * (1 + u[..., 2] * self.jitter)
        height = distance * self.height * (1 + u[..., 3] * self.jitter)
        return [
            [
                (float(x - w / 2), float(y - h / 2), float(x + w / 2), float(y + h / 2))
                for (x, y), w, h in zip(centres, widths, heights)
            ]
            for centres, widths, heights in zip(shift, width, height)
        ]


def download_celeba_eyes(root: Path | None = None, progress=None) -> list[Path]:
    """celeba's files: its download includes the landmarks the eye boxes are placed from."""
    return datakit.download_dataset("celeba", root, progress=progress)
