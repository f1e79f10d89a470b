"""Shared helpers: run the real CLI in a subprocess, make throwaway plugin distributions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from cli_server import CliServer

ROOT = Path(__file__).resolve().parent.parent

# Under pytest-xdist (`make test` runs one worker per core) each worker, and every CLI process it
# starts, uses one thread: two torch processes with two threads each on two cores run ~20x slower.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
_CLI_SERVER = CliServer()
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"


def run_cli(
    *args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    """``ganzoo ARGS`` as a user runs it: a new process, its exit code, stdout and stderr (forked
    from a warm interpreter that has imported torch already: tests/cli_server.py)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    if not os.environ.get("GANZOO_TEST_FRESH_PROCESS"):
        return _CLI_SERVER.run([str(a) for a in args], full_env, cwd, timeout)
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


def make_distribution(
    site: Path, dist_name: str, module_name: str, source: str, entry_name: str | None = None, version: str = "0.1"
) -> Path:
    """An installed-looking distribution on ``site``: a module plus dist-info with entry_points.txt."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module_name}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[ganzoo]\n{entry_name or module_name} = {module_name}\n")
    return site


def with_site(site: Path, extra: dict | None = None) -> dict:
    paths = [str(site), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p), **(extra or {})}


def list_json(*args: str, env: dict | None = None) -> list[dict]:
    result = run_cli("list", *args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def mnist_dir() -> Path:
    if not MNIST_DIR.is_dir():
        pytest.skip(f"official MNIST files not present at {MNIST_DIR}")
    return MNIST_DIR


@pytest.fixture(autouse=True)
def isolated_data_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test downloads and prepares into its own $GANZOO_DATA (inherited by run_cli), never
    the user's cache; tests that need a particular one set it themselves."""
    home = tmp_path_factory.mktemp("ganzoo-data")
    monkeypatch.setenv("GANZOO_DATA", str(home))
    return home


def assert_same_tensors(a, b, path="") -> None:
    """Every tensor and value of two nested checkpoint states is identical (bitwise)."""
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f"{path} differs"
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys differ"
        for key in a:
            assert_same_tensors(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list):
        assert len(a) == len(b)
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_tensors(x, y, f"{path}/{i}")
    elif path.endswith("elapsed"):
        return
    else:
        assert a == b, f"{path}: {a} != {b}"
