"""StyleGAN2's options (``--set KEY=VALUE``) and the configurations they start from.

``config`` picks a row: ``auto``, ``stylegan2``, ``paper256`` and ``cifar`` are the rows of the
``cfg_specs`` table in StyleGAN2-ADA's training script (NVlabs/stylegan2-ada-pytorch, train.py),
with its values; ``demo`` (the default) and ``low-shot`` are ganzoo's own. Every value a row sets
can be overridden with ``--set``: an option left at 0 (or -1, or '-', where 0 is a value) takes
the row's value. ``ganzoo info stylegan2`` lists the rows with their values (the ``config``
option's help)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from ganzoo.plugin import UsageError, option


class ConfigRow(TypedDict, total=False):
    """One configuration's values. ``minibatch`` is the row's batch size (ganzoo's ``--batch-size``
    is the engine's: pass it to train as the row does; auto's R1 gamma and EMA half-life come from
    the row's minibatch, not from ``--batch-size``, as in the reference)."""

    minibatch: int
    mbstd_group: int
    channel_base: int
    channel_max: int
    lr: float
    gamma: float
    ema_kimg: float
    ema_rampup: float | None
    mapping_layers: int
    z_dim: int
    w_dim: int
    augment: str
    pl_weight: float
    style_mixing: float
    d_architecture: str
    conv_clamp: float | None


#: The rows of StyleGAN2-ADA's cfg_specs that ganzoo's resolutions (16-256 px) can train, with
#: its values: fmaps x 32768 = channel_base (channel_max 512 in all), lr, R1 gamma, EMA
#: half-life (kimg) and ramp-up, mapping depth, minibatch-std group; conv_clamp 256 in all of
#: them; cifar also turns path length and style mixing off and uses the "orig" discriminator.
#: "auto" is derived from the resolution (:func:`auto_row`).
REFERENCE_ROWS: dict[str, ConfigRow] = {
    "auto": {"ema_rampup": 0.05, "mapping_layers": 2},  # the rest: auto_row(resolution)
    "stylegan2": {
        "minibatch": 32,
        "mbstd_group": 4,
        "channel_base": 32768,
        "lr": 0.002,
        "gamma": 10.0,
        "ema_kimg": 10.0,
        "ema_rampup": None,
        "mapping_layers": 8,
    },
    "paper256": {
        "minibatch": 64,
        "mbstd_group": 8,
        "channel_base": 16384,
        "lr": 0.0025,
        "gamma": 1.0,
        "ema_kimg": 20.0,
        "ema_rampup": None,
        "mapping_layers": 8,
    },
    "cifar": {
        "minibatch": 64,
        "mbstd_group": 32,
        "channel_base": 32768,
        "lr": 0.0025,
        "gamma": 0.01,
        "ema_kimg": 500.0,
        "ema_rampup": 0.05,
        "mapping_layers": 2,
        "pl_weight": 0.0,
        "style_mixing": 0.0,
        "d_architecture": "orig",
    },
}

#: What every reference row shares (train.py sets these for all of them; its num_fp16_res 4 is
#: a precision matter, left to ganzoo's --precision).
REFERENCE_COMMON: ConfigRow = {
    "channel_max": 512,
    "z_dim": 512,
    "w_dim": 512,
    "augment": "",
    "pl_weight": 2.0,
    "style_mixing": 0.9,
    "d_architecture": "resnet",
    "conv_clamp": 256.0,
}

#: ganzoo's own rows. ``demo``: small enough to train digits on a CPU in minutes (measured on
#: digits at 16 px, 1,500 steps, docs/models/stylegan2.md): no path length, and gamma 1, because
#: on the whole-pixel digits gamma 0.1 let D win and G collapse to one or two digits by step 600.
#: ``low-shot``: auto's networks with DiffAugment (Zhao et al. 2020), for a few thousand images.
GANZOO_ROWS: dict[str, ConfigRow] = {
    "demo": {
        "minibatch": 32,
        "mbstd_group": 4,
        "channel_base": 1024,
        "channel_max": 64,
        "lr": 0.0025,
        "gamma": 1.0,
        "ema_kimg": 2.0,
        "ema_rampup": None,
        "mapping_layers": 2,
        "z_dim": 64,
        "w_dim": 64,
        "augment": "",
        "pl_weight": 0.0,
        "style_mixing": 0.9,
        "d_architecture": "resnet",
        "conv_clamp": None,
    },
    "low-shot": {**REFERENCE_COMMON, **REFERENCE_ROWS["auto"], "augment": "color,translation,cutout"},
}

#: Every row, by name: ganzoo's demo first (the default), then the reference's, then low-shot.
CONFIGS: dict[str, ConfigRow] = {
    "demo": GANZOO_ROWS["demo"],
    **{name: {**REFERENCE_COMMON, **row} for name, row in REFERENCE_ROWS.items()},
    "low-shot": GANZOO_ROWS["low-shot"],
}

DERIVED_FROM_RESOLUTION = ("auto", "low-shot")  # rows whose networks and regularisation follow auto_row


def auto_row(resolution: int, gpus: int = 1) -> ConfigRow:
    """The reference's "auto" values for a resolution (train.py, on ``gpus`` GPUs; ganzoo trains
    on one device): minibatch max(min(gpus x min(4096 / res, 32), 64), gpus), group
    min(minibatch / gpus, 4), fmaps 1 from 512 px (else 0.5), lr 0.002 from 1024 px (else
    0.0025), R1 gamma 0.0002 res^2 / minibatch, EMA half-life minibatch x 10 / 32 kimg."""
    minibatch = max(min(gpus * min(4096 // resolution, 32), 64), gpus)
    return {
        "minibatch": minibatch,
        "mbstd_group": min(minibatch // gpus, 4),
        "channel_base": 32768 if resolution >= 512 else 16384,
        "lr": 0.002 if resolution >= 1024 else 0.0025,
        "gamma": 0.0002 * resolution**2 / minibatch,
        "ema_kimg": minibatch * 10 / 32,
    }


def config_row(name: str, resolution: int) -> ConfigRow:
    """Every value of row ``name`` at ``resolution``."""
    row: ConfigRow = {**CONFIGS[name]}
    if name in DERIVED_FROM_RESOLUTION:
        row.update(auto_row(resolution))
    return row


def _row_text(name: str) -> str:
    """One row as ``ganzoo info`` shows it."""
    row = CONFIGS[name]
    if name in DERIVED_FROM_RESOLUTION:
        sizes = "mb min(4096/res, 32) (32 to 128 px, 16 at 256 px), mbstd min(mb, 4), fmaps 0.5 (channel_base 16384"
        rates = "lr 0.0025, gamma 0.0002 res^2/mb (0.0016 at 16 px ... 0.8192 at 256 px), EMA mb x 10/32 kimg"
    else:
        base = row["channel_base"]
        sizes = f"mb {row['minibatch']}, mbstd {row['mbstd_group']}, fmaps {base / 32768:g} (channel_base {base}"
        rates = f"lr {row['lr']:g}, gamma {row['gamma']:g}, EMA {row['ema_kimg']:g} kimg"
    ramp = row.get("ema_rampup")
    clamp = row.get("conv_clamp")
    widths = f", channel_max {row['channel_max']}" + ("" if row.get("z_dim") == 512 else f", z/w {row['z_dim']}")
    parts = [
        sizes + widths + ")",
        rates,
        f"ramp-up {ramp:g}" if ramp else "no ramp-up",
        f"map {row['mapping_layers']}",
        f"pl {row['pl_weight']:g}",
        f"mixing {row['style_mixing']:g}",
        f"D {row['d_architecture']}",
        f"clamp {clamp:g}" if clamp else "no clamp",
    ]
    if row.get("augment"):
        parts.append(f"DiffAugment {row['augment']}")
    origin = "ganzoo's" if name in GANZOO_ROWS else "reference"
    return f"{name} ({origin}): " + ", ".join(parts)  # no square brackets: rich reads them as markup


def _config_help() -> str:
    return (
        "the configuration every 0/-1/'-' below comes from; reference = StyleGAN2-ADA's train.py "
        "cfg_specs, ganzoo's = ganzoo's own (demo: a CPU demo). Rows: " + "; ".join(map(_row_text, CONFIGS))
    )


@dataclass
class StyleGAN2Options:
    config: str = option("demo", _config_help(), choices=tuple(CONFIGS))
    z_dim: int = option(0, "length of z (0: the config's, 512; demo 64)", min=0)
    w_dim: int = option(0, "length of w (0: the config's, 512; demo 64)", min=0)
    mapping_layers: int = option(0, "depth of the mapping network (0: the config's)", min=0, max=16)
    mapping_lr: float = option(0.01, "learning-rate multiplier of the mapping network (the paper's 0.01)", min=0.0)
    channel_base: int = option(
        0, "feature maps: channels at resolution r are min(channel_base / r, channel_max) (0: the config's)", min=0
    )
    channel_max: int = option(0, "most channels of any layer (0: the config's)", min=0)
    mbstd_group: int = option(0, "minibatch standard deviation group size (0: the config's)", min=0)
    lr: float = option(0.0, "Adam learning rate of G and D (0: the config's); betas (0, 0.99)", min=0.0)
    gamma: float = option(-1.0, "R1 weight (-1: the config's; auto: 0.0002 x resolution^2 / the row's minibatch)")
    r1_every: int = option(16, "lazy R1: every this many steps (the paper's 16)", min=1)
    pl_weight: float = option(-1.0, "path-length regularisation weight (-1: the config's, 2; cifar and demo 0; 0: off)")
    pl_every: int = option(4, "lazy path-length regularisation: every this many steps (the paper's 4)", min=1)
    pl_decay: float = option(0.01, "decay of the path-length running mean (the paper's 0.01)", min=0.0, max=1.0)
    pl_batch_shrink: int = option(2, "the path-length batch is the batch divided by this (the paper's 2)", min=1)
    style_mixing: float = option(
        -1.0,
        "probability of mixing two styles in a generated batch (-1: the config's, the paper's 0.9; cifar 0)",
        min=-1.0,
        max=1.0,
    )
    ema_kimg: float = option(
        -1.0, "generator average half-life in thousands of images (-1: the config's; auto: minibatch x 10 / 32)"
    )
    ema_rampup: float = option(
        -1.0, "EMA ramp-up: half-life at most images seen x this (-1: the config's, auto and cifar 0.05; 0: none)"
    )
    conv_clamp: float = option(
        -1.0, "clamp every convolution's output to +-this (-1: the config's, 256; demo none; 0: none)"
    )
    d_architecture: str = option(
        "-",
        "discriminator blocks: resnet (with skips) or orig (without; cifar's) ('-': the config's)",
        choices=("-", "resnet", "orig"),
    )
    augment: str = option(
        "-", "DiffAugment policy of D's inputs: color, translation, cutout ('-': the config's, '' off)"
    )
    truncation_cutoff: int = option(0, "truncation applies to the first this many style layers (0: all)", min=0)


@dataclass(frozen=True)
class Resolved:
    """The numbers a model is built with, after the configuration and overrides."""

    minibatch: int  # the row's batch size (auto's gamma and EMA come from it)
    mbstd_group: int
    z_dim: int
    w_dim: int
    mapping_layers: int
    channel_base: int
    channel_max: int
    lr: float
    gamma: float
    ema_kimg: float
    ema_rampup: float | None
    augment: str
    pl_weight: float
    style_mixing: float
    d_architecture: str
    conv_clamp: float | None
    lazy_g: bool  # G's Adam gets the lazy-regularisation correction (the reference: even with pl off)


def resolve_options(options: StyleGAN2Options, resolution: int) -> Resolved:
    row = config_row(options.config, resolution)

    def pick(given, unset, name: str):
        return given if given != unset else row[name]  # type: ignore[literal-required]

    pl_weight = options.pl_weight if options.pl_weight >= 0 else row["pl_weight"]
    if options.ema_rampup >= 0:
        ema_rampup = options.ema_rampup or None
    else:
        ema_rampup = row["ema_rampup"]
    if options.conv_clamp >= 0:
        conv_clamp = options.conv_clamp or None
    else:
        conv_clamp = row["conv_clamp"]
    resolved = Resolved(
        minibatch=row["minibatch"],
        mbstd_group=pick(options.mbstd_group, 0, "mbstd_group"),
        z_dim=pick(options.z_dim, 0, "z_dim"),
        w_dim=pick(options.w_dim, 0, "w_dim"),
        mapping_layers=pick(options.mapping_layers, 0, "mapping_layers"),
        channel_base=pick(options.channel_base, 0, "channel_base"),
        channel_max=pick(options.channel_max, 0, "channel_max"),
        lr=pick(options.lr, 0.0, "lr"),
        gamma=options.gamma if options.gamma >= 0 else row["gamma"],
        ema_kimg=options.ema_kimg if options.ema_kimg >= 0 else row["ema_kimg"],
        ema_rampup=ema_rampup,
        augment=pick(options.augment, "-", "augment"),
        pl_weight=pl_weight,
        style_mixing=options.style_mixing if options.style_mixing >= 0 else row["style_mixing"],
        d_architecture=pick(options.d_architecture, "-", "d_architecture"),
        conv_clamp=conv_clamp,
        # the reference sets up G's lazy phase (and corrects G's Adam) whatever pl_weight is;
        # ganzoo's demo, without path length, trains G with the plain settings
        lazy_g=pl_weight > 0 or options.config not in GANZOO_ROWS,
    )
    if resolved.z_dim < 1 or resolved.w_dim < 1:
        raise UsageError("stylegan2: z_dim and w_dim must be positive")
    return resolved
