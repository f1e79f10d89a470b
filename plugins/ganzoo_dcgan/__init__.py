"""Built-in plugin: DCGAN (Radford, Metz & Chintala, 2016)."""

from ganzoo import ModelSpec, hookimpl


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="dcgan",
        summary="Deep convolutional GAN: strided convolutions, BatchNorm, noise to image",
        task="unconditional",
        build="ganzoo_dcgan.recipe:DCGAN",
        options="ganzoo_dcgan.options:DCGANOptions",
        inference=("sample",),
        paper="https://arxiv.org/abs/1511.06434",
        default_dataset="digits",
        resolutions=(16, 32, 64, 128),
        default_steps=3000,
        default_batch_size=64,
        truncation=True,
    ))
