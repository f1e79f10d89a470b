"""Built-in plugin: ExGAN-style exemplar inpainting (Dolhansky & Canton Ferrer, CVPR 2018) and
its datasets: the offline digits demo and CelebA eyes."""

from ganzoo.plugin import DatasetSpec, ModelSpec, hookimpl


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="exgan",
            summary="Exemplar inpainting: fills a hole guided by another image of the same person or class",
            task="inpainting",
            build="ganzoo_exgan.recipe:ExGAN",
            options="ganzoo_exgan.options:ExGANOptions",
            paper="https://arxiv.org/abs/1712.03999",
            default_dataset="digits-inpaint",
            resolutions=(32, 64, 128, 256),
            default_steps=1000,
            tiny_options={"ngf": 4, "ndf": 4, "blocks": 1, "code_dim": 8},
            default_batch_size=32,
        )
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetSpec(
            name="digits-inpaint",
            summary="scikit-learn's digits with a hole over each digit and another digit of its class as exemplar: "
            "offline demo",
            kind="inpainting",
            channels=1,
            resolution=8,
            default_resolution=32,
            embedded=True,
            splits=("train", "test"),
            load="ganzoo_exgan.data:load_digits_inpaint",
            options="ganzoo_exgan.data:DigitsInpaintOptions",
            license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits), shipped by scikit-learn",
            homepage="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        )
    )
    register(
        DatasetSpec(
            name="labelled-inpaint",
            summary="any labelled image dataset (--data-set source=mnist, cifar10, anime, folder...) with holes, and "
            "another image of the same class as exemplar",
            kind="inpainting",
            channels=3,
            resolution=64,
            default_resolution=32,
            splits=("train", "test"),
            load="ganzoo_exgan.data:load_labelled_inpaint",
            options="ganzoo_exgan.data:LabelledInpaintOptions",
            labels="the source's classes (or one attribute's values with group=NAME) pair images with exemplars",
        )
    )
    register(
        DatasetSpec(
            name="inpaint-folder",
            summary="your images/ (one subfolder per person), optional masks/ (white = hole) and exemplars/ with the "
            "same names",
            kind="inpainting",
            channels=3,
            resolution=256,
            default_resolution=64,
            load="ganzoo_exgan.data:load_inpaint_folder",
            options="ganzoo_exgan.data:InpaintFolderOptions",
            offline="--data-root DIR holding images/, and optionally masks/ and exemplars/",
        )
    )
    register(
        DatasetSpec(
            name="celeba-eyes",
            summary="CelebA faces with a box over each eye (from the landmarks) and another photo of the same person "
            "as exemplar",
            kind="inpainting",
            channels=3,
            resolution=178,
            default_resolution=128,
            splits=("train", "valid", "test"),
            load="ganzoo_exgan.data:load_celeba_eyes",
            options="ganzoo_exgan.data:CelebAEyesOptions",
            download="ganzoo_exgan.data:download_celeba_eyes",
            license="CelebA: non-commercial research purposes only",
            homepage="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
            offline="img_align_celeba/ plus list_eval_partition.txt, identity_CelebA.txt and "
            "list_landmarks_align_celeba.txt beside it (the CelebA site, Img/ and Anno/)",
        )
    )
