"""What the dataset loaders of this plugin share: finding a layout, fetching and extracting an
archive, the error for missing files, classes from subfolders. (Generic helpers, such as
``image_dataset``, ``given_root`` and ``resize_square``, are the core's: ``ganzoo.plugin.datakit``.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ganzoo.plugin import DataError, datakit


def find_layout(candidates: Sequence[Path], test: Callable[[Path], bool]) -> Path | None:
    """The first candidate folder that passes ``test``."""
    return next((folder for folder in candidates if folder.is_dir() and test(folder)), None)


def fetch_and_extract(
    name: str,
    url: str,
    archive_name: str,
    folder_name: str,
    *,
    md5: str | None = None,
    progress=None,
    mirrors: Sequence[str] = (),
) -> Path:
    """Download ``url`` to ``$GANZOO_DATA/name/archive_name`` (verified, resumable) and extract it
    there; returns the extracted folder holding ``folder_name``."""
    home = datakit.data_home() / name
    extracted = home / "extracted"
    if (extracted / folder_name).exists():
        return extracted
    archive = datakit.download([url, *mirrors], home / archive_name, md5=md5, progress=progress)
    datakit.extract(archive, extracted)
    if not (extracted / folder_name).exists():
        raise DataError(
            f"'{archive}' does not hold '{folder_name}': it is not the official archive "
            f"(delete {archive} and {extracted} and download again)"
        )
    return extracted


def missing(name: str, what: str, where: Path | None, how: str) -> DataError:
    """The error for a dataset whose files are not where they should be."""
    place = f"'{where}' does not hold {what}" if where else f"{name} is not downloaded"
    return DataError(f"{place}: {how}")


def class_per_subfolder(name: str, root: Path, files: list[Path]) -> Callable[[datakit.CacheWriter, dict], None]:
    """Extras for ``image_dataset`` labelling each image by its first-level subfolder of ``root``
    (classes sorted by folder name); an image lying directly in ``root`` has no class: an error."""
    loose = [path for path in files if len(path.relative_to(root).parts) < 2]
    if loose:
        shown = ", ".join(path.name for path in loose[:3]) + (f" and {len(loose) - 3} more" if len(loose) > 3 else "")
        raise DataError(
            f"dataset '{name}' takes one class per subfolder of '{root}', but {len(loose)} image(s) "
            f"lie directly in it ({shown}): move them into class folders"
        )
    classes = sorted({path.relative_to(root).parts[0] for path in files})
    index = {folder: label for label, folder in enumerate(classes)}

    def extras(writer: datakit.CacheWriter, kept: dict[str, list[str]]) -> None:
        writer.save_labels([index[Path(relative).parts[0]] for relative in kept["image"]], classes)

    return extras
