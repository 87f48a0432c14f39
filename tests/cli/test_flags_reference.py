"""Scores on CAL500exp's segment-random folds carry the leaky flag into JSON and the store (needs ../shared)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import open_dataset
from harness.results.store import ResultsStore

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
ROOT = REFERENCE / "cal500exp"
pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(not (ROOT / "SegLabelHard").is_dir(), reason=f"licensed CAL500exp labels not found at {ROOT}"),
]


@pytest.mark.parametrize(("fold", "leaky"), [("segment-random-0", True), ("fold-0", False)])
def test_leaky_flag_travels(tmp_path: Path, isolated_paths: Path, fold: str, leaky: bool) -> None:
    part = open_dataset("cal500exp", ROOT).split(fold, "test")
    preds = tmp_path / "preds.npy"
    np.save(preds, np.random.default_rng(0).random(part.labels.shape))
    result = CliRunner().invoke(
        app,
        [
            "score",
            str(preds),
            "--dataset",
            "cal500exp",
            "--fold",
            fold,
            "--root",
            str(ROOT),
            "--json",
            "--record",
            "--name",
            "me/random",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert any(f.startswith("leaky") for f in doc["flags"]) is leaky
    record = ResultsStore(isolated_paths / "runs" / "results.sqlite").get(doc["run_id"])
    assert any(f.startswith("leaky") for f in record.provenance["flags"]) is leaky


def test_cal500_is_scored_with_the_cal500_set(tmp_path: Path) -> None:
    root = REFERENCE / "cal500"
    part = open_dataset("cal500", root).split("fold-0", "test")
    preds = tmp_path / "preds.npy"
    np.save(preds, np.random.default_rng(1).random(part.labels.shape))
    result = CliRunner().invoke(
        app,
        [
            "score",
            str(preds),
            "--dataset",
            "cal500",
            "--fold",
            "fold-0",
            "--root",
            str(root),
            "--json",
            "--thresholds-on-test",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in ("F-score-macro", "hamming-loss", "one-error", "coverage-error", "ranking-loss", "LRAP", "PR-AUC-macro"):
        assert key in doc, key
