"""Fixtures of the sweep tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def two_fold_toy(tiny_toy: Path) -> Path:
    """The tiny toy with two folds (a folds.tsv beside its registry): split-0 and split-1 test different items."""
    registry = tiny_toy / "toy" / "dataset.toml"
    toml = registry.read_text().replace(
        '[folds]\nnames = ["split-0"]', '[folds]\nnames = ["split-0", "split-1"]\n\n[source]\nfolds = "folds.tsv"'
    )
    assert "split-1" in toml
    registry.write_text(toml)
    parts = {
        "split-0": ["train"] * 6 + ["validation"] * 3 + ["test"] * 3,
        "split-1": ["test"] * 3 + ["validation"] * 3 + ["train"] * 6,
    }
    rows = [f"toy-{i:04d}\t{fold}\t{split}" for fold, splits in parts.items() for i, split in enumerate(splits)]
    (registry.parent / "folds.tsv").write_text("id\tfold\tsplit\n" + "\n".join(rows) + "\n")
    return tiny_toy
