"""Installing and uninstalling the distribution: the model comes and goes, ganzoo keeps working.
It changes the environment, so `make test` runs it alone, after the other tests (marker "alone")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stylegan_helpers import isolated_data_home, run_cli, tiny_sets  # noqa: F401 (a fixture)

PACKAGE = Path(__file__).resolve().parent.parent


def models() -> dict:
    result = run_cli("list", "models", "--json")
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


@pytest.mark.alone
def test_uninstalled_the_model_is_gone_and_ganzoo_still_works(tmp_path):
    run = run_cli(
        "train", "stylegan2", "--steps", "1", "--batch-size", "4", "--out", tmp_path, "--name", "s", *tiny_sets()
    )
    assert run.returncode == 0, run.stderr
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "uninstall", "-y", "ganzoo-stylegan"], check=True)
    try:
        listed = models()
        assert "stylegan2" not in listed and "dcgan" in listed
        orphan = run_cli("generate", tmp_path / "s", "--n", "4")
        assert orphan.returncode == 2 and "unknown model 'stylegan2'" in orphan.stderr
        assert "Traceback" not in orphan.stderr
    finally:
        subprocess.run([*pip, "install", "--no-deps", "-e", str(PACKAGE)], check=True, capture_output=True)
    assert models()["stylegan2"]["distribution"] == "ganzoo-stylegan"
