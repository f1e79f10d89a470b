"""Built-in plugin: R3GAN (Huang, Gokaslan, Kuleshov and Tompkin, NeurIPS 2024, "The GAN is dead;
long live the GAN! A Modern GAN Baseline"): the relativistic pairing loss with R1 and R2, and a
plain ResNet of grouped, inverted-bottleneck blocks with no normalisation; unconditional and
class-conditional."""

from ganzoo.plugin import ModelSpec, hookimpl

SHARED = dict(
    options="ganzoo_r3gan.options:R3GANOptions",
    default_dataset="digits",
    resolutions=(16, 32, 64),
    default_steps=1000,
    default_batch_size=64,
    paper="https://arxiv.org/abs/2501.05441",
    ema_start_fraction=0.0,  # the average ramps up with the images seen, as the reference's
    tiny_options={"z_dim": 8, "width": 16, "blocks": 1},
)


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="r3gan",
            summary="R3GAN: relativistic pairing loss with R1 and R2, plain grouped-conv ResNets, no tricks",
            task="unconditional",
            build="ganzoo_r3gan.recipe:R3GAN",
            **SHARED,
        )
    )
    register(
        ModelSpec(
            name="r3gan-cond",
            summary="Class-conditional R3GAN: class embedding joined to z, projection discriminator",
            task="class-conditional",
            build="ganzoo_r3gan.recipe:ConditionalR3GAN",
            **SHARED,
        )
    )
