"""Verified, resumable, atomic downloads.

A file is fetched into ``NAME.part`` (continuing a previous partial download with an HTTP
Range request), checked against its checksum, and only then renamed to ``NAME``, so a file
with the final name is always complete and verified. Without network, the error says exactly
which file to fetch from where and where to put it.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from ganzoo.errors import DataError

CHUNK = 1 << 16


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest (``hashlib`` algorithm name) of a file's bytes, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    urls: Sequence[str],
    dest: Path,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    verify: Callable[[Path], bool] | None = None,
    timeout: float = 30.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Fetch ``dest`` from the first of ``urls`` that works; verify it; rename into place.

    ``verify`` replaces the checksum test when the checksum is of the decompressed content.
    """
    dest = Path(dest)
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    errors = []
    for url in urls:
        try:
            _fetch(url, part, timeout, progress)
        except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
            errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
            continue
        if not _verified(part, sha256, md5, verify):
            part.unlink(missing_ok=True)
            errors.append(f"{url}: checksum mismatch (the file was removed)")
            continue
        os.replace(part, dest)
        return dest
    raise DataError(
        f"could not download {dest.name} ({'; '.join(errors)}). Fetch it by hand from {urls[0]} and put it at {dest}"
    )


def _fetch(url: str, part: Path, timeout: float, progress) -> None:
    done = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and done:  # the part file is already complete
            return
        raise
    with response:
        if done and response.status != 206:  # the server ignored Range: start over
            done = 0
        total = response.headers.get("Content-Length")
        total = int(total) + done if total is not None else None
        with open(part, "ab" if done else "wb") as handle:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                handle.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            handle.flush()
            os.fsync(handle.fileno())
    if total is not None and done < total:
        raise OSError(f"connection closed after {done} of {total} bytes (run again to resume)")


def _verified(path: Path, sha256: str | None, md5: str | None, verify) -> bool:
    if verify is not None:
        return verify(path)
    if sha256:
        return file_digest(path, "sha256") == sha256
    if md5:
        return file_digest(path, "md5") == md5
    return True
