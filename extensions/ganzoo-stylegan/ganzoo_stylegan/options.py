"""StyleGAN2's options (``--set KEY=VALUE``) and the published configurations they start from.

``config`` picks a row of the StyleGAN2-ADA paper's configuration table (Karras et al. 2020b,
the ``cfg_specs`` of its training script); every value it sets can be overridden with
``--set``. An option left at 0 (or -1 where 0 is a value) takes the configuration's value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from ganzoo.plugin import UsageError, option


class ConfigRow(TypedDict, total=False):
    """One configuration's values; a key it leaves out is derived (auto) or takes the option's default."""

    channel_base: int
    channel_max: int
    lr: float
    gamma: float
    ema_kimg: float
    mapping_layers: int
    z_dim: int
    w_dim: int
    augment: str
    pl_weight: float


#: The configurations: feature-map scale (channel_base = fmaps x 32768), learning rate, R1
#: gamma, EMA half-life (kimg) and mapping depth; "auto" derives them from the resolution.
#: ``demo`` is ganzoo's own: small enough to train digits on a CPU in minutes.
CONFIGS: dict[str, ConfigRow] = {
    # demo: measured on digits at 16 px, 1,500 steps (docs/models/stylegan2.md): gamma 0.1 without path
    # length reached a digits FID of 85, the paper's regularisers at gamma 0.01 reached 160
    "demo": {
        "channel_base": 1024,
        "channel_max": 64,
        "lr": 0.0025,
        "gamma": 0.1,
        "ema_kimg": 2.0,
        "mapping_layers": 2,
        "z_dim": 64,
        "w_dim": 64,
        "augment": "",
        "pl_weight": 0.0,
    },
    "auto": {"channel_max": 512, "mapping_layers": 2, "augment": ""},  # the rest: from the resolution
    "cifar": {
        "channel_base": 32768,
        "channel_max": 512,
        "lr": 0.0025,
        "gamma": 0.01,
        "ema_kimg": 500.0,
        "mapping_layers": 2,
        "augment": "",
    },
    "paper256": {
        "channel_base": 16384,
        "channel_max": 512,
        "lr": 0.0025,
        "gamma": 1.0,
        "ema_kimg": 20.0,
        "mapping_layers": 8,
        "augment": "",
    },
    # ours, for a few thousand images: auto's networks with DiffAugment (Zhao et al. 2020)
    "low-shot": {"channel_max": 512, "mapping_layers": 2, "augment": "color,translation,cutout"},
}


@dataclass
class StyleGAN2Options:
    config: str = option(
        "demo",
        "the configuration every 0 below comes from: demo (a CPU demo), auto "
        "(derived from the resolution and batch), cifar, paper256, low-shot",
        choices=tuple(CONFIGS),
    )
    z_dim: int = option(0, "length of z (0: 512, demo 64)", min=0)
    w_dim: int = option(0, "length of w (0: 512, demo 64)", min=0)
    mapping_layers: int = option(0, "depth of the mapping network (0: the config's)", min=0, max=16)
    mapping_lr: float = option(0.01, "learning-rate multiplier of the mapping network (the paper's 0.01)", min=0.0)
    channel_base: int = option(
        0, "feature maps: channels at resolution r are min(channel_base / r, channel_max)", min=0
    )
    channel_max: int = option(0, "most channels of any layer (0: the config's)", min=0)
    mbstd_group: int = option(4, "minibatch standard deviation group size", min=1)
    lr: float = option(0.0, "Adam learning rate of G and D (0: the config's); betas (0, 0.99)", min=0.0)
    gamma: float = option(-1.0, "R1 weight (-1: the config's; auto: 0.0002 x resolution^2 / batch)")
    r1_every: int = option(16, "lazy R1: every this many steps (the paper's 16)", min=1)
    pl_weight: float = option(
        -1.0, "path-length regularisation weight (-1: the config's, the paper's 2; demo 0; 0: off)"
    )
    pl_every: int = option(4, "lazy path-length regularisation: every this many steps (the paper's 4)", min=1)
    pl_decay: float = option(0.01, "decay of the path-length running mean (the paper's 0.01)", min=0.0, max=1.0)
    pl_batch_shrink: int = option(2, "the path-length batch is the batch divided by this (the paper's 2)", min=1)
    style_mixing: float = option(
        0.9, "probability of mixing two styles in a generated batch (the paper's 0.9)", min=0.0, max=1.0
    )
    ema_kimg: float = option(
        -1.0, "generator average half-life in thousands of images (-1: the config's; auto: batch x 10 / 32)"
    )
    augment: str = option(
        "-", "DiffAugment policy of D's inputs: color, translation, cutout ('-': the config's, '' off)"
    )
    truncation_cutoff: int = option(0, "truncation applies to the first this many style layers (0: all)", min=0)


@dataclass(frozen=True)
class Resolved:
    """The numbers a model is built with, after the configuration and overrides."""

    z_dim: int
    w_dim: int
    mapping_layers: int
    channel_base: int
    channel_max: int
    lr: float
    gamma: float | None  # None: auto's 0.0002 x res^2 / batch, computed from the batch it trains on
    ema_kimg: float | None  # None: auto's batch x 10 / 32
    augment: str
    pl_weight: float


def resolve_options(options: StyleGAN2Options, resolution: int) -> Resolved:
    config = CONFIGS[options.config]
    auto = options.config in ("auto", "low-shot")

    def pick(name: str, given, unset, default):
        return given if given != unset else config.get(name, default)

    # auto: fmaps 0.5 below 512 px, else 1 (channel_base = fmaps x 32768)
    channel_base = pick("channel_base", options.channel_base, 0, 16384 if resolution < 512 else 32768)
    lr = pick("lr", options.lr, 0.0, 0.002 if auto and resolution >= 1024 else 0.0025)
    resolved = Resolved(
        z_dim=pick("z_dim", options.z_dim, 0, 512),
        w_dim=pick("w_dim", options.w_dim, 0, 512),
        mapping_layers=pick("mapping_layers", options.mapping_layers, 0, 8),
        channel_base=channel_base,
        channel_max=pick("channel_max", options.channel_max, 0, 512),
        lr=lr,
        gamma=options.gamma if options.gamma >= 0 else config.get("gamma"),
        ema_kimg=options.ema_kimg if options.ema_kimg >= 0 else config.get("ema_kimg"),
        augment=options.augment if options.augment != "-" else config["augment"],
        pl_weight=options.pl_weight if options.pl_weight >= 0 else config.get("pl_weight", 2.0),
    )
    if resolved.z_dim < 1 or resolved.w_dim < 1:
        raise UsageError("stylegan2: z_dim and w_dim must be positive")
    return resolved
