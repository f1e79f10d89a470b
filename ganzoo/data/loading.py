"""Opening a registered dataset with the user's settings: split, resolution, fit, options."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from ganzoo.errors import UsageError
from ganzoo.options import build_options, parse_assignments
from ganzoo.protocols import Dataset, conforming
from ganzoo.specs import DatasetSpec, resolve

FITS = ("crop", "pad")


def dataset_options(
    spec: DatasetSpec, assignments: list[str] | None = None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The dataset's options (``--data-set KEY=VALUE``), typed and validated, as a dict."""
    if spec.options is None:
        if assignments or values:
            raise UsageError(f"--data-set: dataset '{spec.name}' has no options")
        return {}
    options_cls = resolve(spec.options)
    owner = f"dataset '{spec.name}'"
    merged = {**(values or {}), **parse_assignments(options_cls, assignments or [], owner, flag="--data-set")}
    return dataclasses.asdict(build_options(options_cls, merged, owner))


def open_dataset(
    spec: DatasetSpec,
    *,
    root: str | None = None,
    resolution: int | None = None,
    split: str = "train",
    fit: str = "crop",
    options: dict[str, Any] | None = None,
):
    """Load ``spec`` (preparing its cache when it decodes files) as a ganzoo Dataset."""
    if split not in spec.splits:
        raise UsageError(f"dataset '{spec.name}' has the split(s) {', '.join(spec.splits)}, not '{split}'")
    if fit not in FITS:
        raise UsageError(f"--fit must be one of {', '.join(FITS)}; got '{fit}'")
    load = resolve(spec.load)
    accepted = inspect.signature(load).parameters
    kwargs: dict[str, Any] = {"root": root, "resolution": resolution or spec.default_resolution, "split": split}
    if fit != "crop":
        if "fit" not in accepted:
            raise UsageError(f"--fit {fit}: the images of dataset '{spec.name}' are square already")
        kwargs["fit"] = fit
    kwargs.update(options or {})
    return conforming(load(**kwargs), Dataset, f"dataset '{spec.name}'")
