"""Extracting downloaded archives safely and atomically.

An archive is extracted into a temporary folder beside the target and renamed into place only
when every member is out, so a folder with the final name is always complete. Members that
would land outside the folder (absolute paths, ``..``, links out) are refused.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from ganzoo.errors import DataError


def extract(archive: Path, target: Path) -> Path:
    """Extract ``archive`` (.zip, .tar, .tar.gz, .tgz) so its content is in ``target``."""
    if target.is_dir():
        return target
    temporary = target.with_name(f"{target.name}.extracting-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as handle:
                for member in handle.namelist():
                    _check_inside(temporary, member, archive)
                handle.extractall(temporary)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as handle:
                handle.extractall(temporary, filter="data")  # refuses members outside the folder
        else:
            raise DataError(f"'{archive}' is not a zip or tar archive (delete it and download again)")
        if not any(temporary.iterdir()):  # e.g. a file of zeros, which tarfile reads as an empty tar
            raise DataError(f"'{archive}' holds no files: it is not a valid archive (delete it and download again)")
        os.replace(temporary, target)
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot extract '{archive}': {exc} (delete it and download again)") from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return target


def _check_inside(folder: Path, member: str, archive: Path) -> None:
    resolved = (folder / member).resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise DataError(f"'{archive}' holds '{member}', which points outside its folder: refused")
