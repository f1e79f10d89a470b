"""The Python API: ``ganzoo.train``, ``ganzoo.load_run`` and :class:`Run`, the same engine as the
command line for notebooks and scripts. Errors are :class:`ganzoo.GanzooError` subclasses with
the CLI's one-line messages (``UsageError`` for a wrong name or value)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ganzoo.errors import CheckpointError, UsageError, did_you_mean
from ganzoo.metrics.eval_settings import EVAL_DEFAULTS, EvalSettings
from ganzoo.protocols import Truncates

if TYPE_CHECKING:
    import torch
    from PIL import Image


def train(
    model: str | None = None, dataset: str | None = None, *, config: str | Path | None = None, **settings: Any
) -> Run:
    """Train ``model`` (on its default dataset unless ``dataset`` is given) and return the run.

    ``settings`` are those of ``ganzoo train``, by keyword: ``steps=500``, ``batch_size=32``
    (or ``"batch-size"`` in a dict), ``out``, ``name``, ``seed``, ``device``, ``loggers=["tensorboard"]``...;
    model options as ``options={"ngf": 32}`` (or ``sets=["ngf=32"]``), dataset options as
    ``data_options={...}``. ``config`` is a TOML file or a run's config.json; keywords override it.
    Progress is shown as in a terminal (a live bar in Jupyter)."""
    from rich.console import Console  # lazy: import ganzoo stays light (no torch, no engine)

    from ganzoo.training.config_file import merged_settings
    from ganzoo.training.loop import train as train_loop

    given = _settings_by_name(settings)
    if dataset is not None:
        given["dataset"] = dataset
    path = train_loop(merged_settings(model, given, config), console=_console(Console), run_view=Run)
    return Run(path)


def load_run(path: str | Path) -> Run:
    """A run folder made by ``ganzoo train`` or :func:`train`."""
    return Run(path)


def load(reference: str | Path) -> Run:
    """A run folder, or a shared model: its folder, ``hf://OWNER/NAME[@REVISION]`` (downloaded
    into the Hub's cache on first use) or ``pretrained:NAME``. Shared models generate, translate,
    inpaint and evaluate as runs do; they have no checkpoints to choose and no training records."""
    from ganzoo.shared_models import resolve_reference  # lazy: import ganzoo stays light (no torch, no engine)

    return Run(resolve_reference(reference))


def _settings_by_name(settings: dict[str, Any]) -> dict[str, Any]:
    """Keywords -> setting names; ``options``/``data_options`` are typed model/dataset options."""
    from ganzoo.training.config_file import setting_keys  # lazy: import ganzoo stays light (no torch, no engine)
    from ganzoo.training.settings import declared_settings

    keys = setting_keys()
    repeatable = {declared.name for declared in declared_settings() if declared.repeatable}
    given: dict[str, Any] = {}
    for key, value in settings.items():
        if key == "options":
            given["option_values"] = dict(value)
        elif key == "data_options":
            given["data_options"] = dict(value)
        elif key in keys:
            name = keys[key]
            given[name] = [value] if name in repeatable and isinstance(value, str) else value
        else:
            known = sorted({k for k in keys if "-" not in k} | {"options", "data_options", "config"})
            raise UsageError(f"unknown setting '{key}'.{did_you_mean(key, known)}")
    return given


def _check_uint8_images(name: str, images: Any, shape: tuple[int, int, int], count: int | None = None) -> None:
    """``images`` are a uint8 tensor ``(N, *shape)`` (``count`` of them when given): floats would
    come back in a range of their own beside the model's uint8 pixels."""
    import torch  # lazy: import ganzoo stays light (no torch, no engine)

    wanted = f"a uint8 tensor ({count if count is not None else 'N'}, {', '.join(map(str, shape))})"
    if not isinstance(images, torch.Tensor):
        raise UsageError(f"{name} must be {wanted}, got {type(images).__name__}")
    if images.dtype != torch.uint8 or images.dim() != 4 or tuple(images.shape[1:]) != shape:
        raise UsageError(f"{name} must be {wanted}, got {images.dtype} {tuple(images.shape)}")
    if count is not None and len(images) != count:
        raise UsageError(f"{name} must be {wanted}: one per image, got {len(images)}")


def _console(console_cls):
    """Progress where the user looks: the notebook's output in Jupyter (a live bar with
    ipywidgets, ``ganzoo[notebook]``; else plain lines, where rich alone would show only a
    warning), or the terminal's stderr."""
    console = console_cls()
    if not console.is_jupyter:
        return console_cls(stderr=True)
    try:
        import ipywidgets  # noqa: F401  # lazy: only in Jupyter, where rich's live display is made of it
    except ImportError:
        return console_cls(force_jupyter=False, force_terminal=False, file=sys.stdout)
    return console


class Run:
    """A run folder: its configuration, records, samples, and its model for inference."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not (self.path / "config.json").is_file():
            raise CheckpointError(f"'{self.path}' is not a ganzoo run (it has no config.json)")
        self._loaded: dict[tuple, Any] = {}

    def __repr__(self) -> str:
        config = self.config
        return (
            f"Run('{self.path}', model={config.get('model')!r}, dataset={config.get('dataset')!r}, "
            f"state={self.status.get('state')!r}, step={self.status.get('step')!r})"
        )

    # -- records -------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """config.json: model, dataset, options, training settings (read afresh each time)."""
        from ganzoo.training.run_dir import RunDir  # lazy: import ganzoo stays light (no torch, no engine)

        return RunDir(self.path).read_config()

    @property
    def status(self) -> dict[str, Any]:
        """status.json: its state (running, finished, interrupted or diverged) and step."""
        try:
            return json.loads((self.path / "status.json").read_text())
        except (OSError, ValueError):
            return {}

    def metrics(self) -> list[dict]:
        """The records of metrics.jsonl: logged losses, learning rates, speed, evaluations."""
        from ganzoo.training.artifacts import read_metrics  # lazy: import ganzoo stays light (no torch, no engine)

        return read_metrics(self.path / "metrics.jsonl")

    def samples(self) -> list[Path]:
        """The sample grids written during training, oldest first."""
        return sorted((self.path / "samples").glob("step-*.png"))

    def _repr_png_(self) -> bytes | None:  # Jupyter shows the latest sample grid
        grids = self.samples()
        return grids[-1].read_bytes() if grids else None

    # -- inference -----------------------------------------------------------------------
    def model(self, checkpoint: str | Path | None = None, ema: bool = True, device: str = "auto"):
        """The run's model (an ``nn.Module`` in eval mode) with a checkpoint's weights: the
        newest by default, ``"best"``, or a file. Loaded once per checkpoint and device."""
        return self._loaded_run(checkpoint, ema, device).model

    def _loaded_run(self, checkpoint: str | Path | None, ema: bool, device: str):
        """The run loaded for inference (model, data facts, checkpoint), cached as model() says."""
        from ganzoo.shared_models import WEIGHTS, is_shared_model
        from ganzoo.training.devices import resolve_device  # lazy: import ganzoo stays light (no torch, no engine)
        from ganzoo.training.inference import load_run as load_weights
        from ganzoo.training.run_dir import RunDir

        resolved = resolve_device(device)
        shared = (self.path / WEIGHTS) if is_shared_model(self.config) else None
        file = checkpoint if checkpoint is not None else shared or RunDir(self.path).latest_checkpoint()
        key = (str(file), ema, str(resolved))
        if key not in self._loaded:
            self._loaded = {key: load_weights(self.path, resolved, checkpoint=checkpoint, ema=ema)}
        return self._loaded[key]

    def generate(
        self,
        n: int = 64,
        seed: int = 0,
        *,
        classes: list[str | int] | None = None,
        truncation: float | None = None,
        checkpoint: str | Path | None = None,
        ema: bool = True,
        device: str = "auto",
        batch_size: int = 256,
    ) -> torch.Tensor:
        """``n`` images (per class, with ``classes``) as a uint8 tensor ``(N, C, H, W)``: the same
        images as ``ganzoo generate RUN --seed SEED`` with the same arguments."""
        import torch  # lazy: import ganzoo stays light (no torch, no engine)

        from ganzoo.training.inference import class_choices, require_inference
        from ganzoo.training.samples import generated

        if n < 1:
            raise UsageError(f"n must be at least 1, got {n}")
        loaded = self._loaded_run(checkpoint, ema, device)
        require_inference(loaded, "sample")
        if truncation is not None and not (truncation > 0 and isinstance(loaded.model, Truncates)):
            raise UsageError(
                f"truncation {truncation}: model '{loaded.model_entry.name}' needs a positive value "
                "and support for truncation"
            )
        choices = class_choices(loaded, [str(c) for c in classes] if classes else None)
        return torch.cat(list(generated(loaded.model, n, seed, choices, truncation, batch_size)))

    def translate(
        self,
        images: torch.Tensor | Image.Image | str | Path | list,
        direction: str | None = None,
        *,
        checkpoint: str | Path | None = None,
        ema: bool = True,
        device: str = "auto",
    ) -> torch.Tensor | list:
        """Translate images (a uint8 tensor ``(N, 3, H, W)``, or PIL images or files) as
        ``ganzoo translate`` does: each at the model's resolution, returned at its own size; a
        tensor in gives a tensor out, anything else a list of uint8 ``(3, H, W)`` tensors."""
        import numpy as np  # lazy: import ganzoo stays light (no torch, no engine)
        import torch
        from PIL import Image

        from ganzoo.data.images import open_rgb
        from ganzoo.protocols import Translates
        from ganzoo.training.inference import require_inference
        from ganzoo.translate import translate_image

        if direction not in (None, "a2b", "b2a"):
            raise UsageError(f"direction must be a2b or b2a, not '{direction}'")
        loaded = self._loaded_run(checkpoint, ema, device)
        require_inference(loaded, "translate")
        direction = direction or cast(Translates, loaded.model).directions[0]  # its default (require_inference checked)
        as_tensor = isinstance(images, torch.Tensor)
        if isinstance(images, torch.Tensor):  # not `if as_tensor`: mypy narrows only on the isinstance itself
            if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
                raise UsageError(
                    f"images must be a uint8 tensor (N, 3, H, W), got {images.dtype} {tuple(images.shape)}"
                )
            pictures = [Image.fromarray(image.permute(1, 2, 0).cpu().numpy()) for image in images]
        else:
            items = images if isinstance(images, list) else [images]
            pictures = [
                item.convert("RGB") if isinstance(item, Image.Image) else open_rgb(Path(item)) for item in items
            ]
        resolution = loaded.config["data"]["resolution"]
        model_device = next(loaded.model.parameters()).device
        outputs = [
            torch.from_numpy(
                np.array(translate_image(loaded.model, picture, resolution, direction, model_device))
            ).permute(2, 0, 1)
            for picture in pictures
        ]
        return torch.stack(outputs) if as_tensor else outputs

    def inpaint(
        self,
        images: torch.Tensor,
        masks: torch.Tensor,
        exemplars: torch.Tensor | None = None,
        *,
        checkpoint: str | Path | None = None,
        ema: bool = True,
        device: str = "auto",
    ) -> torch.Tensor:
        """Fill the holes (mask value 1) of uint8 images ``(N, C, H, W)`` at the model's
        resolution, for models that inpaint; pixels outside the holes are returned unchanged.
        Masks are ``(N, 1, H, W)`` of 0 and 1; exemplars, where the model takes them, are uint8
        like the images. Anything else is a UsageError saying what was expected."""
        import torch  # lazy: import ganzoo stays light (no torch, no engine)

        from ganzoo.data.convert import to_model_range, to_uint8
        from ganzoo.training.inference import require_inference

        loaded = self._loaded_run(checkpoint, ema, device)
        require_inference(loaded, "inpaint")
        shape = (loaded.data.channels, loaded.data.resolution, loaded.data.resolution)
        _check_uint8_images("images", images, shape)
        if exemplars is not None:
            _check_uint8_images("exemplars", exemplars, shape, len(images))
        if not isinstance(masks, torch.Tensor) or tuple(masks.shape) != (len(images), 1, *shape[1:]):
            raise UsageError(f"masks must be a tensor ({len(images)}, 1, {shape[1]}, {shape[2]}), one per image")
        if not ((masks == 0) | (masks == 1)).all():
            raise UsageError("masks must hold 0 (kept) and 1 (the hole) only")
        model_device = next(loaded.model.parameters()).device
        given = {"image": images, **({"exemplar": exemplars} if exemplars is not None else {})}
        inputs = to_model_range(given, model_device)
        holes = masks.to(model_device).float().clamp(0, 1)  # 0/1 here, not the datasets' 0/255
        with torch.no_grad():
            filled = loaded.model.inpaint(inputs["image"], holes, inputs.get("exemplar"))
        filled = to_uint8(filled.clamp(-1, 1)).cpu()
        keep = masks.cpu().bool().logical_not().expand_as(images)
        return torch.where(keep, images.cpu(), filled)

    # -- more training and evaluation ------------------------------------------------------
    def resume(self, **budgets: Any) -> Run:
        """Continue the run from its newest checkpoint, exactly as ``ganzoo train --resume``;
        only budgets, cadence, loggers and the device may change (``steps=4000``)."""
        from rich.console import Console  # lazy: import ganzoo stays light (no torch, no engine)

        from ganzoo.training.loop import resume as resume_loop
        from ganzoo.training.settings import RESUMABLE

        given = _settings_by_name(budgets)
        fixed = sorted(set(given) - set(RESUMABLE))
        if fixed:
            raise UsageError(
                f"resume continues a run as it was configured; {', '.join(fixed)} cannot change it "
                "(budgets, cadence, loggers and the device can)"
            )
        resume_loop(self.path, given, console=_console(Console), run_view=Run)
        self._loaded = {}
        return self

    def evaluate(
        self,
        metrics: str | list[str] | tuple[str, ...] = EVAL_DEFAULTS.metrics,
        n: int = EVAL_DEFAULTS.n,
        *,
        extractor: str = EVAL_DEFAULTS.extractor,
        real: int | None = None,
        split: str | None = None,
        seed: int = EVAL_DEFAULTS.seed,
        checkpoint: str | Path | None = None,
        ema: bool = True,
        device: str = "auto",
        inception_weights: str | Path | None = None,
    ) -> dict[str, Any]:
        """Score the run as ``ganzoo eval`` does; returns the record it adds to metrics.jsonl
        (``record["eval"]`` maps each metric to its value)."""
        from ganzoo.metrics.runner import evaluate_run  # lazy: import ganzoo stays light (no torch, no engine)
        from ganzoo.training.devices import resolve_device

        names = tuple(m.strip() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip())
        if n < 2 or (real is not None and real < 2):
            raise UsageError("n and real need at least 2 images")
        settings = EvalSettings(
            metrics=names,
            n=n,
            real=real,
            split=split,
            extractor=extractor,
            seed=seed,
            inception_weights=str(inception_weights) if inception_weights else None,
        )
        return evaluate_run(self.path, settings, resolve_device(device), checkpoint=checkpoint, ema=ema)
