"""ganzoo plugin: a fully connected GAN. This module only registers; nothing heavy is imported."""

from ganzoo.plugin import ModelSpec, hookimpl


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="mlpgan",
            summary="Fully connected GAN (Goodfellow et al. 2014): MLP generator and discriminator",
            task="unconditional",
            build="ganzoo_mlpgan.model:MLPGAN",
            options="ganzoo_mlpgan.model:MLPGANOptions",
            paper="https://arxiv.org/abs/1406.2661",
            default_dataset="digits",
            resolutions=(8, 16, 32),
            default_steps=1000,
            tiny_options={"nz": 8, "hidden": 16},
        )
    )
