"""Built-in plugin: Pix2Pix (Isola, Zhu, Zhou & Efros, 2017) and its offline demo data."""

from ganzoo.plugin import DatasetSpec, ModelSpec, hookimpl


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="pix2pix",
            summary="Paired image-to-image translation: U-Net generator, PatchGAN, adversarial + 100 x L1",
            task="paired-translation",
            build="ganzoo_pix2pix.recipe:Pix2Pix",
            options="ganzoo_pix2pix.options:Pix2PixOptions",
            paper="https://arxiv.org/abs/1611.07004",
            default_dataset="edges2digits",
            resolutions=(16, 32, 64, 128, 256, 512),
            default_steps=1500,
            tiny_options={"ngf": 4, "ndf": 4, "n_layers": 1},
            default_batch_size=1,
            lr_schedule="linear-decay",
        )
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="edges2digits",
            summary="edge maps | scikit-learn's digits (1,797 pairs), built on first use by the edge maker: offline demo",
            kind="paired",
            channels=3,
            resolution=8,
            default_resolution=32,
            embedded=True,
            splits=("train", "test"),
            load="ganzoo_pix2pix.demo:load_edges2digits",
            license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits), shipped by scikit-learn",
        )
    )
