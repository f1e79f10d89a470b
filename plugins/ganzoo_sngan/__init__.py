"""Built-in plugin: SNGAN (Miyato et al. 2018), unconditional and with the projection
discriminator and conditional batch normalisation (Miyato & Koyama 2018), and SAGAN (Zhang et al.
2019), the same ResNets with self-attention, spectral norm in G too and the two time-scale rule."""

from ganzoo.plugin import ModelSpec, hookimpl

#: What sngan and sngan-cond share: the digits demo's budget (the CIFAR-10 recipe is in
#: examples/configs/sngan-cifar10.toml), 16 and 32 pixels (the paper's ResNets are for 32).
SHARED = dict(
    default_dataset="digits",
    resolutions=(16, 32),
    default_steps=1500,
    default_batch_size=64,
    paper="https://arxiv.org/abs/1802.05957",
    tiny_options={"z_dim": 8, "g_channels": 8, "d_channels": 8},
)


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="sngan",
            summary="Spectral normalisation GAN: ResNet G, spectrally normalised ResNet D, hinge loss",
            task="unconditional",
            build="ganzoo_sngan.recipe:SNGAN",
            options="ganzoo_sngan.options:SNGANOptions",
            **SHARED,
        )
    )
    register(
        ModelSpec(
            name="sngan-cond",
            summary="Class-conditional SNGAN: conditional BatchNorm generator, projection discriminator",
            task="class-conditional",
            build="ganzoo_sngan.recipe:ConditionalSNGAN",
            options="ganzoo_sngan.options:SNGANOptions",
            **SHARED,
        )
    )
    sagan = dict(SHARED, paper="https://arxiv.org/abs/1805.08318")
    register(
        ModelSpec(
            name="sagan",
            summary="Self-attention GAN: SNGAN's ResNets with self-attention, spectral norm in G and D, TTUR",
            task="unconditional",
            build="ganzoo_sngan.recipe:SAGAN",
            options="ganzoo_sngan.options:SAGANOptions",
            **sagan,
        )
    )
    register(
        ModelSpec(
            name="sagan-cond",
            summary="Class-conditional SAGAN: conditional BatchNorm generator, projection discriminator",
            task="class-conditional",
            build="ganzoo_sngan.recipe:ConditionalSAGAN",
            options="ganzoo_sngan.options:SAGANOptions",
            **sagan,
        )
    )
    register(
        ModelSpec(
            name="biggan",
            summary="BigGAN: shared class embedding, hierarchical latent, orthogonal regularisation, truncation",
            task="class-conditional",
            build="ganzoo_sngan.recipe:BigGAN",
            options="ganzoo_sngan.options:BigGANOptions",
            **dict(SHARED, paper="https://arxiv.org/abs/1809.11096", resolutions=(16, 32, 64, 128)),
        )
    )
