"""The store keeps a run's predictions and the labels of its split, for paired tests and curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.datasets.splits import SplitData
from harness.errors import BadInputError
from harness.results.store import ResultsStore, RunRecord


def _split() -> SplitData:
    labels = np.array([[1, 0], [0, 1], [1, 1]], dtype=bool)
    return SplitData("d", "f", "test", ("a", "b", "c"), ("x", "y"), labels)


def _record(split: SplitData, run_id: str = "r1") -> RunRecord:
    return RunRecord(
        run_id=run_id,
        dataset="d",
        fold="f",
        split="test",
        submission="s",
        team="t",
        run_name="r",
        fingerprint=split.fingerprint,
        scores={"PR-AUC-macro": 0.5},
    )


def test_round_trip(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "s.sqlite")
    split = _split()
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.6]])
    store.record(_record(split), predictions=scores, split=split)
    np.testing.assert_array_equal(store.predictions("r1"), scores.astype(np.float32))
    ids, tags, labels = store.split_labels(split.fingerprint)
    assert ids == split.item_ids and tags == split.tags and (labels == split.labels).all()
    store.record(_record(split, "r2"))  # without predictions: nothing kept, nothing broken
    assert store.predictions("r2") is None and store.split_labels("0" * 64) is None
    store.record(
        _record(split), predictions=scores[::-1], split=split, replace=True
    )  # replacing replaces the predictions
    np.testing.assert_array_equal(store.predictions("r1"), scores[::-1].astype(np.float32))


def test_mismatches_are_refused(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "s.sqlite")
    split = _split()
    with pytest.raises(BadInputError, match="do not match"):
        store.record(_record(split), predictions=np.zeros((2, 2)), split=split)
    with pytest.raises(BadInputError, match="both"):
        store.record(_record(split), predictions=np.zeros((3, 2)))
    assert store.list_runs() == []
    assert ResultsStore(tmp_path / "missing.sqlite").predictions("r1") is None
