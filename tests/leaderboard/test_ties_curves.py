"""Rank bands from paired tests, and precision-recall curves, computed from the store alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score

from harness.datasets.splits import SplitData
from harness.leaderboard.boards import Board, Column
from harness.leaderboard.charts import pr_curve
from harness.leaderboard.ties import rank_bands
from harness.results.store import ResultsStore, RunRecord

BOARD = Board(
    name="b",
    title="B",
    dataset="d",
    fold="f",
    split="test",
    primary="PR-AUC-macro",
    columns=(Column(key="PR-AUC-macro", label="PR-AUC"),),
    description="d",
)


def _setup(tmp_path: Path) -> tuple[ResultsStore, list[RunRecord]]:
    rng = np.random.default_rng(0)
    labels = rng.random((300, 5)) < 0.3
    split = SplitData("d", "f", "test", tuple(f"i{i}" for i in range(300)), tuple("abcde"), labels)
    good = np.clip(labels + rng.normal(0, 0.5, labels.shape), 0, 1)
    twin = np.clip(good + rng.normal(0, 0.01, labels.shape), 0, 1)  # indistinguishable from good
    noise = rng.random(labels.shape)
    store = ResultsStore(tmp_path / "s.sqlite")
    runs = []
    for run_id, scores in (("good", good), ("twin", twin), ("noise", noise)):
        record = RunRecord(
            run_id=run_id,
            dataset="d",
            fold="f",
            split="test",
            submission=run_id,
            team="t",
            run_name=run_id,
            fingerprint=split.fingerprint,
            scores={"PR-AUC-macro": float(average_precision_score(labels, scores, average="macro"))},
        )
        store.record(record, predictions=scores, split=split)
        runs.append(record)
    runs.append(
        RunRecord(
            run_id="bare",
            dataset="d",
            fold="f",
            split="test",
            submission="bare",
            team="t",
            run_name="bare",
            fingerprint=split.fingerprint,
            scores={"PR-AUC-macro": 0.01},
        )
    )
    store.record(runs[-1])
    return store, sorted(runs, key=lambda r: -r.scores["PR-AUC-macro"])


def test_twins_share_a_band_and_a_clear_gap_does_not(tmp_path: Path) -> None:
    store, runs = _setup(tmp_path)
    order = [r.run_id for r in runs]
    bands = rank_bands(store, BOARD, runs, replicates=300)
    assert set(order[:2]) == {"good", "twin"}
    assert bands[order[0]] == 1 and bands[order[1]] == 1  # not significantly different
    assert bands["noise"] == 3  # significantly worse than the run above
    assert bands["bare"] == 4  # no predictions in the store: its own band


def test_pr_curve(tmp_path: Path) -> None:
    store, runs = _setup(tmp_path)
    good = next(r for r in runs if r.run_id == "good")
    points = pr_curve(store, good, max_points=50)
    assert points is not None and 2 <= len(points) <= 50
    assert all(0 <= r <= 1 and 0 <= p <= 1 for r, p in points)
    assert points[0][0] == 1.0 and points[-1] == (0.0, 1.0)  # scikit-learn's curve order: recall falls to 0
    assert pr_curve(store, next(r for r in runs if r.run_id == "bare")) is None


def test_p_values_are_cached_in_the_store(tmp_path: Path, monkeypatch) -> None:
    import harness.metrics.bootstrap as bootstrap

    store, runs = _setup(tmp_path)
    first = rank_bands(store, BOARD, runs, replicates=100)

    def fail(*args, **kwargs):
        raise AssertionError("the paired test ran again instead of coming from the cache")

    monkeypatch.setattr(bootstrap, "paired_bootstrap", fail)
    assert rank_bands(store, BOARD, runs, replicates=100) == first
    # kept in the store's file (it can be written), not only by the object: a later build reuses them
    assert rank_bands(ResultsStore(store.path), BOARD, runs, replicates=100) == first


def test_p_values_of_a_store_that_cannot_be_written_are_kept_in_memory(tmp_path: Path, monkeypatch) -> None:
    import hashlib

    import harness.metrics.bootstrap as bootstrap

    store, runs = _setup(tmp_path)
    before = hashlib.sha256(store.path.read_bytes()).hexdigest()

    def refuse_writes(*args, **kwargs):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(store, "_connect", _read_only_connect(store, refuse_writes))
    first = rank_bands(store, BOARD, runs, replicates=100)  # the build goes on
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == before

    def fail(*args, **kwargs):
        raise AssertionError("the paired test ran again instead of coming from the memory cache")

    monkeypatch.setattr(bootstrap, "paired_bootstrap", fail)
    assert rank_bands(store, BOARD, runs, replicates=100) == first


def _read_only_connect(store: ResultsStore, on_write):
    """The store's ``_connect`` with every writing connection refused, as on a read-only file."""
    connect = store._connect

    def guarded(*, write: bool, **kwargs):
        if write:
            on_write()
        return connect(write=write, **kwargs)

    return guarded


def test_a_store_from_before_the_cache_still_gets_ties(tmp_path: Path) -> None:
    import sqlite3

    store, runs = _setup(tmp_path)
    with sqlite3.connect(store.path) as db:
        db.execute("DROP TABLE paired_tests")
    bands = rank_bands(store, BOARD, runs, replicates=100)
    assert len(set(bands.values())) < len(bands)  # the twins still share a band


def test_a_primary_the_paired_test_cannot_score_gets_no_ties(tmp_path: Path, monkeypatch) -> None:
    import harness.metrics.bootstrap as bootstrap

    store, runs = _setup(tmp_path)

    def fail(*args, **kwargs):
        raise AssertionError("a paired test ran for a metric it cannot score from predictions")

    monkeypatch.setattr(bootstrap, "paired_bootstrap", fail)
    # a decision key (and its alias), keys the bootstrap engine cannot resample, then one no test knows
    for primary in ("F-score-macro", "F1-macro", "one-error", "LRAP", "mAP"):
        board = Board(
            name="b",
            title="B",
            dataset="d",
            fold="f",
            split="test",
            primary=primary,
            columns=(Column(key=primary, label=primary),),
            description="d",
        )
        assert rank_bands(store, board, runs) == {r.run_id: i for i, r in enumerate(runs, start=1)}
