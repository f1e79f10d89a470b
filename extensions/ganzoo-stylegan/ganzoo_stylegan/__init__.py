"""ganzoo-stylegan: StyleGAN2 (Karras et al., CVPR 2020) as a ganzoo plugin, in pure PyTorch.

Built only on ganzoo's public API: a ModelSpec, an options dataclass, a recipe with four
phases, and the sampling protocols. `pip install ganzoo-stylegan` and `ganzoo list` shows it."""

from ganzoo.plugin import ModelSpec, hookimpl

__version__ = "0.1.0"

#: What the unconditional and the class-conditional model have in common.
SHARED = dict(
    options="ganzoo_stylegan.options:StyleGAN2Options",
    paper="https://arxiv.org/abs/1912.04958",
    default_dataset="digits",
    resolutions=(16, 32, 64, 128, 256),
    default_steps=1500,
    default_batch_size=32,
    ema_start_fraction=0.0,  # the reference averages from the first step (its ramp-up, not a late start)
    tiny_options={"z_dim": 8, "w_dim": 8, "mapping_layers": 1, "channel_base": 64, "channel_max": 8},
)


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="stylegan2",
            summary="StyleGAN2: mapping network, modulated convolutions, lazy R1 and path-length regularisation",
            task="unconditional",
            build="ganzoo_stylegan.recipe:StyleGAN2",
            **SHARED,
        )
    )
    register(
        ModelSpec(
            name="stylegan2-cond",
            summary="class-conditional StyleGAN2: label embedding into the mapping network, projection in D",
            task="class-conditional",
            build="ganzoo_stylegan.recipe:ConditionalStyleGAN2",
            **SHARED,
        )
    )
