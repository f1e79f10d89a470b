"""Built-in plugin: the standard datasets. Registration is pure data (no torch, no I/O); each
loader module is imported only when its dataset is used."""

from ganzoo.plugin import DatasetSpec, hookimpl
from ganzoo_datasets import official

PIX2PIX = {
    "facades": ("CMP Facades: 606 building facades | their architectural labels, 256x256", 256, "train val test"),
    "cityscapes": ("Cityscapes: 3,475 street photos | semantic label maps, 256x256", 256, "train val"),
    "maps": ("Google Maps: 2,194 aerial photos | map tiles of Manhattan, 600x600", 600, "train val"),
    "edges2shoes": ("UT Zappos50K: 50,025 shoe edge maps | photos, 256x256", 256, "train val"),
    "edges2handbags": ("137,000 handbag edge maps | photos (iGAN), 256x256", 256, "train val"),
    "night2day": ("Transient Attributes: 20,110 night | day photos of the same scenes, 256x256", 256, "train val test"),
}
CYCLEGAN = {
    "horse2zebra": "ImageNet horses (1,067) and zebras (1,334), 256x256",
    "apple2orange": "ImageNet apples (995) and oranges (1,019), 256x256",
    "summer2winter_yosemite": "Flickr Yosemite in summer (1,231) and winter (962), 256x256",
    "monet2photo": "Monet paintings (1,072) and landscape photos (6,287), 256x256",
    "cezanne2photo": "Cezanne paintings (525) and landscape photos (6,287), 256x256",
    "ukiyoe2photo": "Ukiyo-e prints (562) and landscape photos (6,287), 256x256",
    "vangogh2photo": "Van Gogh paintings (400) and landscape photos (6,287), 256x256",
    "iphone2dslr_flower": "Flower photos from iPhones (1,813) and DSLRs (3,316), 256x256",
}
BERKELEY_LICENCE = (
    "research use; each set keeps its source's terms (see the pix2pix/CycleGAN repository's datasets page)"
)


def _specs():
    yield DatasetSpec(
        name="digits",
        kind="images",
        channels=1,
        resolution=8,
        default_resolution=16,
        embedded=True,
        summary="scikit-learn's 8x8 handwritten digits (1,797 images), embedded: no download",
        load="ganzoo_datasets.digits:load",
        options="ganzoo_datasets.digits:DigitsOptions",
        classes=official.DIGITS,
        license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits), shipped by scikit-learn",
        homepage="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
    )
    for name, title, table, licence, homepage in (
        (
            "mnist",
            "MNIST handwritten digits: 60,000 + 10,000 grey 28x28 images (LeCun et al.)",
            official.MNIST,
            "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        (
            "fashion-mnist",
            "Fashion-MNIST: 60,000 + 10,000 grey 28x28 Zalando article images",
            official.FASHION_MNIST,
            "MIT (Zalando SE)",
            "https://github.com/zalandoresearch/fashion-mnist",
        ),
    ):
        module = name.replace("-", "_")
        files = tuple(
            {
                "name": f"{stem}.gz",
                "url": f"{table['mirrors'][0]}{stem}.gz",
                **({"md5 (decompressed)": content} if content else {"md5": gz}),
            }
            for entries in table["files"].values()
            for stem, content, gz in entries
        )
        yield DatasetSpec(
            name=name,
            kind="images",
            channels=1,
            resolution=28,
            default_resolution=32,
            splits=("train", "test"),
            summary=title,
            load=f"ganzoo_datasets.mnist:load_{module}",
            download=f"ganzoo_datasets.mnist:download_{module}",
            license=licence,
            homepage=homepage,
            files=files,
            offline="put the four .gz (or decompressed) IDX files in one folder and pass it as --data-root",
            classes=table["classes"],
        )
    yield DatasetSpec(
        name="cifar10",
        kind="images",
        channels=3,
        resolution=32,
        default_resolution=32,
        splits=("train", "test"),
        summary="CIFAR-10: 50,000 + 10,000 colour 32x32 images in 10 classes (Krizhevsky 2009)",
        load="ganzoo_datasets.cifar:load",
        download="ganzoo_datasets.cifar:download",
        license="no licence stated; free for research, cite Krizhevsky 2009",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        files=({"name": "cifar-10-binary.tar.gz", "url": official.CIFAR10_URL, "md5": official.CIFAR10_MD5},),
        offline="extract cifar-10-binary.tar.gz and pass the folder holding cifar-10-batches-bin/ as --data-root",
        classes=official.CIFAR10_CLASSES,
    )
    yield DatasetSpec(
        name="celeba",
        kind="images",
        channels=3,
        resolution=178,
        default_resolution=64,
        splits=("train", "valid", "test", "all"),
        summary="CelebA aligned faces: 202,599 JPEGs of 178x218, 40 attributes, 10,177 identities; centre 108 crop",
        load="ganzoo_datasets.celeba:load",
        download="ganzoo_datasets.celeba:download",
        options="ganzoo_datasets.celeba:CelebAOptions",
        license="non-commercial research only (CUHK MMLab CelebA agreement)",
        homepage="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
        files=tuple(
            {"name": name, "url": f"https://drive.google.com/uc?id={drive}", "md5": md5}
            for drive, md5, name in official.CELEBA_FILES
        ),
        offline="unzip img_align_celeba.zip; pass the folder holding img_align_celeba/ and the .txt files as --data-root",
        attributes=official.CELEBA_ATTRIBUTES,
        labels="the 40 attributes of list_attr_celeba.txt; identities (identity_CelebA.txt) are kept, not used as labels",
    )
    for name, count, folder in (
        ("cartoonset", "10,000", "cartoonset10k"),
        ("cartoonset100k", "100,000", "cartoonset100k"),
    ):
        yield DatasetSpec(
            name=name,
            kind="images",
            channels=3,
            resolution=500,
            default_resolution=64,
            summary=f"Google's Cartoon Set: {count} 500x500 avatars with 18 attributes, background composited",
            load=f"ganzoo_datasets.cartoonset:load_{folder[10:]}",
            download=f"ganzoo_datasets.cartoonset:download_{folder[10:]}",
            options="ganzoo_datasets.cartoonset:CartoonOptions",
            license="CC BY 4.0 (Google)",
            homepage="https://google.github.io/cartoonset/",
            files=(
                {
                    "name": f"{folder}.tgz",
                    "url": f"https://storage.googleapis.com/cartoonset_public_files/{folder}.tgz",
                    "md5": "not published (ganzoo checks the archive holds the PNGs)",
                },
            ),
            offline=f"extract {folder}.tgz and pass the folder holding {folder}/ as --data-root",
            labels="18 categorical attributes, one-hot: one attribute per variant, named like 'hair=42'",
        )
    yield DatasetSpec(
        name="anime",
        kind="images",
        channels=3,
        resolution=96,
        default_resolution=64,
        summary="anime faces: the Anime-Face-Dataset (~63,600 faces) or nagadomi's animeface-character-dataset",
        load="ganzoo_datasets.anime:load",
        download="ganzoo_datasets.anime:download",
        options="ganzoo_datasets.anime:AnimeOptions",
        license="images scraped from public sites: research use only, no licence granted",
        homepage="https://github.com/bchao1/Anime-Face-Dataset",
        files=(
            {
                "name": "animeface-character-dataset.zip",
                "url": "http://www.nurs.or.jp/~nagadomi/animeface-character-dataset/data/animeface-character-dataset.zip",
                "md5": "not published",
            },
        ),
        offline="Anime-Face-Dataset: download it from its GitHub page (Google Drive) or Kaggle "
        "('animefacedataset'), unzip, pass the folder holding images/ as --data-root",
        labels="one class per character folder (animeface-character layout); the Anime-Face-Dataset has none",
    )
    yield DatasetSpec(
        name="folder",
        kind="images",
        channels=3,
        resolution=0,
        default_resolution=64,
        license="yours",
        summary="any folder of your images (recursive; PNG, JPEG, BMP, GIF, WebP, TIFF), centre-cropped",
        load="ganzoo_datasets.folder:load",
        options="ganzoo_datasets.folder:FolderOptions",
        labels="one class per first-level subfolder with --data-set classes=true; none otherwise",
    )
    for name, (title, natural, splits) in PIX2PIX.items():
        yield DatasetSpec(
            name=name,
            kind="paired",
            channels=3,
            resolution=natural,
            default_resolution=256,
            splits=tuple(splits.split()),
            summary=f"Pix2Pix {title}",
            load=f"ganzoo_datasets.translation:loaders.{name}",
            download=f"ganzoo_datasets.translation:downloaders.{name}",
            license=BERKELEY_LICENCE,
            homepage="https://github.com/phillipi/pix2pix",
            files=(
                {
                    "name": f"{name}.tar.gz",
                    "url": f"http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz",
                    "md5": "not published (ganzoo checks the archive's layout)",
                },
            ),
            offline=f"extract {name}.tar.gz and pass the folder holding {name}/ as --data-root",
        )
    for name, title in CYCLEGAN.items():
        yield DatasetSpec(
            name=name,
            kind="unpaired",
            channels=3,
            resolution=256,
            default_resolution=256,
            splits=("train", "test"),
            summary=f"CycleGAN {title}",
            load=f"ganzoo_datasets.translation:loaders.{name}",
            download=f"ganzoo_datasets.translation:downloaders.{name}",
            license=BERKELEY_LICENCE,
            homepage="https://github.com/junyanz/CycleGAN",
            files=(
                {
                    "name": f"{name}.zip",
                    "url": f"http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip",
                    "md5": "not published (ganzoo checks the archive's layout)",
                },
            ),
            offline=f"unzip {name}.zip and pass the folder holding {name}/ as --data-root",
        )
    yield DatasetSpec(
        name="paired",
        kind="paired",
        channels=3,
        resolution=0,
        default_resolution=256,
        splits=("train", "val", "test"),
        summary="your paired images: side-by-side AB files, or A/ and B/ folders with matching names",
        load="ganzoo_datasets.translation:load_paired",
        license="yours",
    )
    yield DatasetSpec(
        name="unpaired",
        kind="unpaired",
        channels=3,
        resolution=0,
        default_resolution=256,
        splits=("train", "test"),
        summary="your two image domains: trainA/ and trainB/ (testA/, testB/)",
        load="ganzoo_datasets.translation:load_unpaired",
        license="yours",
    )


@hookimpl
def register_datasets(register):
    for spec in _specs():
        register(spec)
