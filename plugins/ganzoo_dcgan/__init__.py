"""Built-in plugin: DCGAN (Radford, Metz & Chintala, 2016) and its class-conditional variant."""

from ganzoo.plugin import ModelSpec, hookimpl

#: What dcgan and cdcgan share: the networks' sizes, the digits demo budget, Gaussian noise.
SHARED = dict(default_dataset="digits", resolutions=(16, 32, 64, 128), default_steps=3000, default_batch_size=64)


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="dcgan",
            summary="Deep convolutional GAN: strided convolutions, BatchNorm, noise to image",
            task="unconditional",
            build="ganzoo_dcgan.recipe:DCGAN",
            options="ganzoo_dcgan.options:DCGANOptions",
            paper="https://arxiv.org/abs/1511.06434",
            tiny_options={"nz": 8, "ngf": 4, "ndf": 4},
            **SHARED,
        )
    )
    register(
        ModelSpec(
            name="cdcgan",
            summary="Class-conditional DCGAN: conditional BatchNorm generator, projection discriminator",
            task="class-conditional",
            build="ganzoo_dcgan.recipe:CDCGAN",
            options="ganzoo_dcgan.options:CDCGANOptions",
            paper="https://arxiv.org/abs/1802.05637",
            tiny_options={"nz": 8, "ngf": 4, "ndf": 4, "embed_dim": 4},
            **SHARED,
        )
    )
