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
    register(DatasetSpec(
        name="mnist",
        summary="MNIST handwritten digits: 60,000 + 10,000 grey 28x28 images (LeCun et al.)",
        kind="images",
        load="ganzoo_datasets.mnist:load_mnist",
        download="ganzoo_datasets.mnist:download_mnist",
        channels=1,
        resolution=28,
        default_resolution=32,
        license="CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
        homepage="http://yann.lecun.com/exdb/mnist/",
        splits=("train", "test"),
        files=({"name": "train-images-idx3-ubyte.gz", "md5_uncompressed": "6bbc9ace898e44ae57da46a324031adb"},
               {"name": "train-labels-idx1-ubyte.gz", "md5_uncompressed": "a25bea736e30d166cdddb491f175f624"},
               {"name": "t10k-images-idx3-ubyte.gz", "md5_uncompressed": "2646ac647ad5339dbf082846283269ea"},
               {"name": "t10k-labels-idx1-ubyte.gz", "md5_uncompressed": "27ae3e4e09519cfbb04c329615203637"}),
    ))
    register(DatasetSpec(
        name="folder",
        summary="any folder of your images (recursive; PNG, JPEG, BMP, GIF, WebP, TIFF), centre-cropped",
        kind="images",
        load="ganzoo_datasets.folder:load",
        channels=3,
        resolution=0,
        default_resolution=64,
        license="yours",
    ))
