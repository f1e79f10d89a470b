"""Built-in plugin: CycleGAN (Zhu, Park, Isola & Efros, 2017) and its offline demo domains."""

from ganzoo.plugin import DatasetSpec, ModelSpec, hookimpl


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="cyclegan",
            summary="Unpaired translation: two ResNet generators, two PatchGANs, LSGAN + cycle + identity losses",
            task="unpaired-translation",
            build="ganzoo_cyclegan.recipe:CycleGAN",
            options="ganzoo_cyclegan.options:CycleGANOptions",
            paper="https://arxiv.org/abs/1703.10593",
            tiny_options={"ngf": 4, "ndf": 4, "n_blocks": 1, "n_layers": 1, "pool_size": 2},
            default_dataset="china2flower",
            resolutions=(16, 32, 64, 128, 256, 512),
            default_steps=1000,
            default_batch_size=1,
            lr_schedule="linear-decay",
        )
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="china2flower",
            summary="random crops of scikit-learn's two sample photos (a Chinese temple; a flower), 400 per domain: offline demo",
            kind="unpaired",
            channels=3,
            resolution=427,
            default_resolution=32,
            embedded=True,
            splits=("train", "test"),
            load="ganzoo_cyclegan.demo:load_china2flower",
            license="the images' own terms as shipped by scikit-learn (china.jpg: public domain; flower.jpg: CC BY 2.0)",
        )
    )
