"""Built-in plugin: the standard datasets."""

from ganzoo import DatasetSpec, hookimpl


@hookimpl
def register_datasets(register):
    register(DatasetSpec(
        name="digits",
        summary="scikit-learn's 8x8 handwritten digits (1,797 images), embedded: no download",
        kind="images",
        load="ganzoo_datasets.digits:load",
        channels=1,
        resolution=8,
        default_resolution=16,
        license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits), shipped by scikit-learn",
        homepage="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        embedded=True,
    ))
