"""A run made into a shared model's folder (the format of :mod:`ganzoo.shared_models`): what
``ganzoo push`` uploads and what the pretrained models are."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from ganzoo._version import __version__
from ganzoo.data.download import file_digest
from ganzoo.errors import UsageError
from ganzoo.protocols import SamplesConditionally
from ganzoo.shared_models import FORMAT, WEIGHTS
from ganzoo.sharing.card import model_card
from ganzoo.training.artifacts import read_metrics
from ganzoo.training.checkpoint import save_checkpoint
from ganzoo.training.config_file import RECORDED
from ganzoo.training.inference import LoadedRun, class_choices, load_run
from ganzoo.training.samples import generated, save_grid

OUTPUT_RANGE = "images in [-1, 1] (float), channels first; ganzoo maps them to 0-255 by (x + 1) * 127.5"


def package_run(
    run: str | Path,
    folder: Path,
    checkpoint: str | Path | None = None,
    with_discriminator: bool = False,
    half: bool = False,
    name: str | None = None,
) -> Path:
    """Write ``run`` as a shared model into ``folder`` (made; must be new or empty)."""
    loaded = load_run(run, torch.device("cpu"), checkpoint=checkpoint, ema=True)
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"'{folder}' is not empty: a shared model is written into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    model: Any = loaded.model  # (nn.Module's attribute typing hides what every model declares)
    networks: tuple[str, ...] = tuple(model.inference_networks)
    state = model.state_dict()
    kept = {k: v for k, v in state.items() if with_discriminator or k.split(".", 1)[0] in networks}
    if half:
        kept = {k: v.half() if v.is_floating_point() else v for k, v in kept.items()}
    save_checkpoint(folder / WEIGHTS, {"model": kept}, {"run_id": loaded.config.get("run_id"), "step": loaded.step})
    config = shared_config(loaded, networks, with_discriminator, half, file_digest(folder / WEIGHTS))
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (folder / "ganzoo.toml").write_text(run_toml(loaded.config))
    metrics = shared_metrics(loaded)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    samples = write_samples(loaded, folder / "samples.png")
    (folder / "README.md").write_text(model_card(config, metrics, samples is not None, name or folder.name))
    return folder


def shared_config(
    loaded: LoadedRun, networks: tuple[str, ...], with_discriminator: bool, half: bool, sha256: str
) -> dict[str, Any]:
    config, provider = loaded.config, loaded.model_entry.provider
    options = config["options"]
    latent = next((options[key] for key in ("nz", "z_dim", "latent_dim") if isinstance(options.get(key), int)), None)
    data = config["data"]
    return {
        "format": FORMAT,
        "model": config["model"],
        "plugin": {"name": provider.plugin, "package": provider.distribution, "version": provider.version},
        "ganzoo_version": __version__,
        "options": options,
        "data": data,
        "dataset": config.get("dataset"),
        "resolution": data.get("resolution"),
        "channels": data.get("channels"),
        "latent_size": latent,
        "data_kind": data.get("kind"),
        "inference": config.get("inference", []),
        "networks": list(networks) + (["discriminators"] if with_discriminator else []),
        "weights": {"file": WEIGHTS, "sha256": sha256, "dtype": "float16" if half else "float32"},
        "output_range": OUTPUT_RANGE,
        "run_id": config.get("run_id"),
        "step": loaded.step,
        "training": config.get("training", {}),
    }


def run_toml(config: dict[str, Any]) -> str:
    """The run's settings as a config file for ``ganzoo train --config`` (values that are unset
    are left out: TOML has no null)."""
    import tomli_w  # lazy: part of the hub extra, and only a shared model's ganzoo.toml needs it

    training = config.get("training", {})
    document: dict[str, Any] = {
        key: training[key] for key in RECORDED if key in training and training[key] not in (None, [], {}, "")
    }
    document.pop("data_options", None)
    document["model"] = {"name": config["model"], **config["options"]}
    document["dataset"] = {"name": config["dataset"], **training.get("data_options", {})}
    return "# the settings of the run this model was trained by: ganzoo train --config ganzoo.toml\n" + tomli_w.dumps(
        document
    )


def shared_metrics(loaded: LoadedRun) -> dict[str, Any]:
    """The run's evaluations (the last of each kind) with their protocol."""
    records = [r for r in read_metrics(loaded.run_dir.metrics_path) if isinstance(r.get("eval"), dict)]
    last = records[-1] if records else None
    return {
        "evaluations": records,
        "latest": last,
        "protocol": None
        if last is None
        else {
            "samples": last.get("n"),
            "real_images": last.get("real"),
            "split": last.get("split"),
            "feature_extractor": last.get("extractor"),
            "checkpoint": last.get("checkpoint"),
            "ema": last.get("ema"),
        },
    }


def write_samples(loaded: LoadedRun, path: Path) -> Path | None:
    """A grid from the shared weights (seed 0; one row per class for a conditional model), or
    the run's last sample grid for a model that does not sample from noise."""
    if "sample" in loaded.config.get("inference", []):
        choices = class_choices(loaded, ["all"]) if isinstance(loaded.model, SamplesConditionally) else None
        n = 8 if choices else 64
        images = torch.cat(list(generated(loaded.model, n, 0, choices)))
        save_grid(images, path, nrow=n if choices else None)
        return path
    grids = sorted(loaded.run_dir.samples.glob("step-*.png"))
    if grids:
        shutil.copyfile(grids[-1], path)
        return path
    return None
