"""A CAL500 ten-fold board from `harness score --fold all --record` on the real registry (needs ../shared)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import open_dataset

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO.parent / "shared" / "reference" / "cal500"
pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(
        not (ROOT / "hardAnnotations.txt").is_file(), reason=f"licensed CAL500 annotations not found at {ROOT}"
    ),
]


def test_ten_fold_board(tmp_path: Path, isolated_paths: Path) -> None:
    dataset = open_dataset("cal500", ROOT)
    rng = np.random.default_rng(0)
    files = []
    for k in range(10):
        labels = dataset.split(f"fold-{k}", "test").labels
        path = tmp_path / f"fold-{k}.npy"
        np.save(path, np.clip(labels * 0.3 + rng.random(labels.shape) * 0.7, 0, 1))
        files.append(str(path))
    runner = CliRunner()
    scored = runner.invoke(
        app,
        [
            "score",
            *files,
            "--dataset",
            "cal500",
            "--root",
            str(ROOT),
            "--fold",
            "all",
            "--thresholds-on-test",
            "--record",
            "--name",
            "me/noisy-oracle",
        ],
    )
    assert scored.exit_code == 0, scored.output
    assert "mean ± std" in scored.output
    built = runner.invoke(app, ["leaderboard", "build"])
    assert built.exit_code == 0, built.output
    page = (isolated_paths / "site" / "cal500.html").read_text()
    assert "noisy-oracle" in page and "±" in page
    assert "of 10 folds" not in page  # all ten folds recorded: no incomplete badge
