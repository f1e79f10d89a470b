"""The IDX format of MNIST and Fashion-MNIST (LeCun et al.), gzipped or not."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

from ganzoo.errors import DataError

_DTYPES: dict[int, type[np.generic] | str] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed if it is gzip."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return Path(path).read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"'{path}' is corrupt or truncated ({exc})") from None


def content_md5(path: Path) -> str:
    """The MD5 of the file's content after decompression (MNIST publishes those)."""
    return hashlib.md5(read_bytes(path)).hexdigest()


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """An IDX byte string -> array; malformed data gets a DataError naming it."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DataError(f"{name} is not an IDX file (bad magic number)")
    dims = data[3]
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataError(f"{name} is truncated (incomplete header)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    dtype = np.dtype(_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(f"{name} is truncated or padded: {len(data) - header} bytes of data for shape {shape}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
