"""The official files of the built-in datasets: URLs and checksums as their publishers give them.
Torch-free, so the plugin's registration can read it cheaply."""

from typing import TypedDict

DIGITS = tuple(str(digit) for digit in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# (file stem, MD5 of the decompressed content or None, MD5 of the official .gz or None)
IdxFile = tuple[str, str | None, str | None]


class IdxTable(TypedDict):
    """An IDX dataset's classes, download mirrors and (images, labels) files per split."""

    classes: tuple[str, ...]
    mirrors: tuple[str, ...]
    files: dict[str, tuple[IdxFile, IdxFile]]


MNIST: IdxTable = {
    "classes": DIGITS,
    "mirrors": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "files": {
        "train": (
            ("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb", None),
            ("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624", None),
        ),
        "test": (
            ("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea", None),
            ("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637", None),
        ),
    },
}
# Zalando publishes the MD5s of the gzipped files; raw files are checked by their structure.
FASHION_MNIST: IdxTable = {
    "classes": FASHION_CLASSES,
    "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "files": {
        "train": (
            ("train-images-idx3-ubyte", None, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            ("train-labels-idx1-ubyte", None, "25c81989df183df01b3e8a0aad5dffbe"),
        ),
        "test": (
            ("t10k-images-idx3-ubyte", None, "bef4ecab320f06d8554ea6380940ec79"),
            ("t10k-labels-idx1-ubyte", None, "bb300cfdad3c16e7a12a480ee83cd310"),
        ),
    },
}


CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

CELEBA_DRIVE = "https://drive.usercontent.google.com/download?export=download&confirm=t&id="
# (Google Drive id, MD5, file) as published by the CelebA authors
CELEBA_FILES = (
    ("0B7EVK8r0v71pZjFTYXZWM3FlRnM", "00d2c5bc6d35e252742224ab0c1e8fcb", "img_align_celeba.zip"),
    ("0B7EVK8r0v71pblRyaVFSWGxPY0U", "75e246fa4810816ffd6ee81facbd244c", "list_attr_celeba.txt"),
    ("1_ee_0u7vcNLOfNLegJRHmolfH5ICW-XS", "32bd1bd63d3c78cd57e08160ec5ed1e2", "identity_CelebA.txt"),
    ("0B7EVK8r0v71pY0NSMzRuSXJEVkk", "d32c9cbf5e040fd4025c592c306e6668", "list_eval_partition.txt"),
    # the aligned images' landmarks (eyes, nose, mouth corners), for --data-set landmarks=true (the
    # same Drive folder; id and md5 as torchvision lists them)
    ("0B7EVK8r0v71pd0FJY3Blby1HUTQ", "063ee6ddb681f96bc9ca28c6febb9d1a", "list_landmarks_align_celeba.txt"),
)
#: The 40 columns of list_attr_celeba.txt, in its order.
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)
