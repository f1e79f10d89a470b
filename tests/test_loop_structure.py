"""The training loop stays readable: no class in ganzoo/training/ grows past about 200 lines
(the step loop is the Trainer; what happens around the steps is its components')."""

from __future__ import annotations

import ast

import pytest

from conftest import ROOT

MAX_CLASS_LINES = 200
TRAINING = sorted((ROOT / "ganzoo" / "training").glob("*.py"))


@pytest.mark.parametrize("path", TRAINING, ids=lambda p: p.name)
def test_no_class_over_200_lines(path):
    classes = [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)]
    long = [
        f"{node.name} ({node.end_lineno - node.lineno} lines)"
        for node in classes
        if node.end_lineno - node.lineno > MAX_CLASS_LINES
    ]
    assert not long, f"{path.relative_to(ROOT)}: {', '.join(long)}: split it into components"


def test_rank_zero_alone_writing_is_decided_in_one_place():
    """Rank 0's listeners write the run folder; the loop asks `is_writer` only to hold the run's
    lock and to start them."""
    loop = (ROOT / "ganzoo" / "training" / "loop.py").read_text()
    components = [p for p in TRAINING if p.name not in ("loop.py", "distributed.py")]
    assert not [p.name for p in components if "is_writer" in p.read_text()]
    assert "ReadOnlyRunDir" not in "".join(p.read_text() for p in TRAINING)
    assert loop.count("is_writer") <= 5
