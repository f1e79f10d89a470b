"""Helpers of the package's tests: they run the real `ganzoo` command with this plugin installed
(`make test` in the ganzoo repository installs it first). Not named conftest: ganzoo's own tests
have one, and both run in one pytest session."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):  # one thread per worker: workers share the cores
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)

#: Networks small enough for tests: what `--set` gives a run.
TINY = ("channel_base=256", "channel_max=32", "z_dim=32", "w_dim=32", "mapping_layers=2", "pl_weight=2.0")


def run_cli(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *map(str, args)], capture_output=True, text=True, env=full_env, timeout=600
    )


def tiny_sets() -> list[str]:
    return [arg for value in TINY for arg in ("--set", value)]


@pytest.fixture(autouse=True)
def isolated_data_home(tmp_path_factory, monkeypatch):
    """Every test prepares data into its own $GANZOO_DATA, never the user's cache (imported by
    each test module, which makes it apply there)."""
    monkeypatch.setenv("GANZOO_DATA", str(tmp_path_factory.mktemp("ganzoo-data")))
