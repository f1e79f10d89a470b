"""MNIST from official IDX files, and verified, resumable downloads from a local server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest
import torch

import ganzoo_datasets.mnist as mnist
from conftest import assert_no_traceback, run_cli
from ganzoo.data.download import download
from ganzoo.data.idx import parse_idx
from ganzoo.errors import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def fixture_mnist(tmp_path, monkeypatch):
    """Five 28x28 'digits' in the official layout, gzipped and raw, with their checksums."""
    rng = np.random.default_rng(0)
    images, labels = rng.integers(1, 256, (5, 28, 28), dtype=np.uint8), np.arange(5, dtype=np.uint8)
    raw = {"train-images-idx3-ubyte": idx_bytes(images), "train-labels-idx1-ubyte": idx_bytes(labels)}
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw["train-images-idx3-ubyte"]))
    (folder / "train-labels-idx1-ubyte").write_bytes(raw["train-labels-idx1-ubyte"])
    table = {"mirrors": ("http://127.0.0.1:9/",), "files": {"train": tuple((k, md5(v), None) for k, v in raw.items())}}
    monkeypatch.setitem(mnist.MNIST, "files", table["files"])
    return folder, images, labels, raw


def test_mnist_from_a_folder_gzipped_or_not(fixture_mnist):
    folder, images, labels, _ = fixture_mnist
    data = mnist.load_mnist(root=folder, resolution=32)
    assert data.images.shape == (5, 1, 32, 32) and data.images.dtype == torch.uint8
    assert torch.equal(data.images[:, 0, 2:30, 2:30], torch.from_numpy(images))  # padded, not resampled
    assert data.images[:, :, :2].max() == 0 and data.images[:, :, :, -2:].max() == 0
    assert torch.equal(data.labels, torch.from_numpy(labels.astype(np.int64)))
    assert mnist.load_mnist(root=folder, resolution=16).images.shape == (5, 1, 16, 16)


def test_mnist_wrong_or_missing_files(fixture_mnist):
    folder, _, _, _ = fixture_mnist
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(DataError, match="not the official file"):
        mnist.load_mnist(root=folder)
    (folder / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"lacks train-labels-idx1-ubyte\(.gz\): fetch it from http"):
        mnist.load_mnist(root=folder)
    with pytest.raises(DataError, match="not a folder"):
        mnist.load_mnist(root=folder / "nope")


def test_idx_parser_rejects_malformed_data():
    good = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    assert parse_idx(good).shape == (2, 3, 3)
    with pytest.raises(DataError, match="magic"):
        parse_idx(b"\x01\x02" + good[2:])
    with pytest.raises(DataError, match="truncated"):
        parse_idx(good[:-1])
    with pytest.raises(DataError, match="truncated"):
        parse_idx(good[:6])


def test_cli_error_for_a_wrong_data_root(tmp_path):
    result = run_cli("train", "dcgan", "--dataset", "mnist", "--data-root", tmp_path, "--steps", 1, "--out", tmp_path)
    assert result.returncode == 1 and "lacks train-images-idx3-ubyte(.gz)" in result.stderr
    assert_no_traceback(result)


# -- downloads against a server on 127.0.0.1 ------------------------------------------------
class Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    cut_once: set[str] = set()  # paths whose first response stops half-way

    def do_GET(self):  # noqa: N802 - http.server's naming
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if "Range" in self.headers:
            start = int(self.headers["Range"].removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path in self.cut_once:
            self.cut_once.discard(self.path)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.files, Handler.cut_once = {}, set()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


PAYLOAD = bytes(range(256)) * 1000


def test_download_success_and_checksum(server, tmp_path):
    Handler.files["/a.bin"] = PAYLOAD
    path = download([f"{server}/a.bin"], tmp_path / "a.bin", sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "a.bin.part").exists()


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    Handler.files["/a.bin"] = PAYLOAD
    with pytest.raises(DataError, match="checksum mismatch"):
        download([f"{server}/a.bin"], tmp_path / "a.bin", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_cut_connection_resumes_where_it_stopped(server, tmp_path):
    Handler.files["/a.bin"] = PAYLOAD
    Handler.cut_once = {"/a.bin"}
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    with pytest.raises(DataError, match="could not download"):
        download([f"{server}/a.bin"], tmp_path / "a.bin", sha256=digest)
    part = tmp_path / "a.bin.part"
    assert 0 < part.stat().st_size < len(PAYLOAD) and not (tmp_path / "a.bin").exists()
    download([f"{server}/a.bin"], tmp_path / "a.bin", sha256=digest)
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD and not part.exists()


def test_404_falls_back_to_the_next_mirror_and_explains_when_all_fail(server, tmp_path):
    Handler.files["/mirror2/a.bin"] = PAYLOAD
    download([f"{server}/missing/a.bin", f"{server}/mirror2/a.bin"], tmp_path / "a.bin")
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD
    with pytest.raises(DataError) as info:
        download([f"{server}/missing/b.bin"], tmp_path / "b.bin")
    message = str(info.value)
    assert "Not Found" in message and f"Fetch it by hand from {server}/missing/b.bin" in message
    assert str(tmp_path / "b.bin") in message


def test_mnist_downloads_missing_files_into_the_cache(server, tmp_path, monkeypatch, fixture_mnist):
    _, images, _, raw = fixture_mnist
    for stem, data in raw.items():
        Handler.files[f"/mnist/{stem}.gz"] = gzip.compress(data)
    monkeypatch.setitem(mnist.MNIST, "mirrors", (f"{server}/nowhere/", f"{server}/mnist/"))
    monkeypatch.setenv("GANZOO_DATA", str(tmp_path / "cache"))
    data = mnist.load_mnist(resolution=32)
    assert torch.equal(data.images[:, 0, 2:30, 2:30], torch.from_numpy(images))
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]


def test_real_mnist_trains(mnist_dir, tmp_path):
    result = run_cli(
        "train",
        "dcgan",
        "--dataset",
        "mnist",
        "--data-root",
        mnist_dir,
        "--steps",
        20,
        "--set",
        "ngf=8",
        "--set",
        "ndf=8",
        "--out",
        tmp_path,
        "--name",
        "m",
    )
    assert result.returncode == 0, result.stderr
    assert "60000 images at 32px" in result.stderr


def test_data_download_command(mnist_dir, tmp_path):
    for name, text in (("digits", "embedded"), ("folder", "no official files")):
        result = run_cli("data", "download", name)
        assert result.returncode == 0 and text in result.stdout
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in mnist_dir.glob("*.gz"):
        (copy / path.name).write_bytes(path.read_bytes())
    result = run_cli("data", "download", "mnist", "--root", copy)  # present files are verified, not fetched
    assert result.returncode == 0 and result.stdout.count("ok  ") == 4
    unknown = run_cli("data", "download", "mnsit")
    assert unknown.returncode == 2 and "Did you mean 'mnist'?" in unknown.stderr


def test_offline_download_names_file_source_and_destination(tmp_path, monkeypatch):
    monkeypatch.setitem(mnist.MNIST, "mirrors", ("http://127.0.0.1:9/mnist/",))  # nothing listens on port 9
    with pytest.raises(DataError) as info:
        mnist.download_mnist(tmp_path)
    message = str(info.value)
    assert "Fetch it by hand from http://127.0.0.1:9/mnist/train-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in message
    assert not any(tmp_path.iterdir())
