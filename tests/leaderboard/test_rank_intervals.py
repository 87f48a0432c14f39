"""Rank intervals from one joint bootstrap of a board's runs, and the run page's paired differences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from harness.datasets.splits import SplitData
from harness.leaderboard.boards import Board, Column
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.site_build import plan_site
from harness.leaderboard.ties import rank_bands
from harness.metrics.bootstrap import paired_bootstrap, resample_indices
from harness.metrics.rank_intervals import (
    MacroAPScorer,
    beat_shares,
    displayed_ranks,
    joint_replicates,
    replicate_ranks,
)
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


def chain_fixture() -> tuple[np.ndarray, list[np.ndarray]]:
    """Six runs, each a little worse than the one before (best first); first and last far apart."""
    rng = np.random.default_rng(1)
    labels = rng.random((300, 5)) < 0.3
    common = rng.normal(0, 0.5, labels.shape)
    runs = [labels * (1 - 0.03 * k) + common + rng.normal(0, 0.3, labels.shape) for k in range(6)]
    values = [average_precision_score(labels, s, average="macro") for s in runs]
    return labels, [runs[i] for i in np.argsort(values)[::-1]]


def store_runs(tmp_path: Path, labels: np.ndarray, runs: list[np.ndarray]) -> tuple[ResultsStore, list[RunRecord]]:
    n_items, n_tags = labels.shape
    split = SplitData(
        "d", "f", "test", tuple(f"i{i}" for i in range(n_items)), tuple(f"t{j}" for j in range(n_tags)), labels
    )
    store = ResultsStore(tmp_path / "s.sqlite")
    records = []
    for k, scores in enumerate(runs):
        record = RunRecord(
            run_id=f"r{k}",
            dataset="d",
            fold="f",
            split="test",
            submission=f"net{k}",
            team="t",
            run_name=f"run{k}",
            fingerprint=split.fingerprint,
            created=f"2026-01-0{k + 1}T00:00:00",
            scores={"PR-AUC-macro": float(average_precision_score(labels, scores, average="macro"))},
        )
        store.record(record, predictions=scores, split=split)
        records.append(record)
    return store, records


def test_chained_bands_would_merge_clearly_different_runs_rank_intervals_do_not(tmp_path: Path) -> None:
    labels, runs = chain_fixture()
    store, records = store_runs(tmp_path, labels, runs)
    # today's pairwise method: every neighbour pair is "not significant", so one band spans all six
    assert set(rank_bands(store, BOARD, records, replicates=300).values()) == {1}
    assert paired_bootstrap(labels, runs[0], runs[-1], n=300).p_value < 0.01  # first and last differ
    joint = joint_replicates(labels, runs, n=300, seed=0)
    shown = joint.shown_ranks()
    assert shown[0] == 1 and shown[-1] > 1 and shown[-1] != shown[0]
    low, high = joint.intervals()
    assert low[0] == 1 and high[-1] == 6 and low[-1] > high[0]  # the ends' intervals do not even overlap
    # on the board: the first and the last run get different ranks
    view = plan_site(CheckedStore(store), [BOARD]).board("b")
    rows = view["rows"]
    board_joint = joint_replicates(labels, [store.predictions(r.run_id) for r in records], n=1000, seed=0)
    assert [row["rank"] for row in rows] == board_joint.shown_ranks().tolist()
    assert rows[0]["rank"] == 1 and rows[-1]["rank"] > 1
    assert [row["rank_interval"] for row in rows] == [f"{a}–{b}" for a, b in zip(*board_joint.intervals())]
    assert view["has_rank_intervals"] and not view["has_bands"]


def slow_ranks(labels: np.ndarray, runs: list[np.ndarray], n: int, seed: int) -> np.ndarray:
    """Ranks per replicate with scikit-learn: each run's PR-AUC-macro on the same resampled rows."""
    out = np.empty((len(runs), n), dtype=int)
    for r, idx in enumerate(resample_indices(labels.shape[0], n, seed)):
        y = labels[idx]
        keep = y.any(axis=0)  # the official scorer leaves out tags without positives
        values = np.array([average_precision_score(y[:, keep], s[idx][:, keep], average="macro") for s in runs])
        out[:, r] = [1 + int(np.sum(values > v)) for v in values]
    return out


def test_rank_intervals_match_a_slow_reference_with_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    labels = rng.random((40, 4)) < 0.25
    runs = [labels * w + rng.random(labels.shape) for w in (0.6, 0.5, 0.45, 0.4, 0.2)]
    joint = joint_replicates(labels, runs, n=120, seed=7)
    ranks = slow_ranks(labels, runs, 120, 7)
    np.testing.assert_array_equal(joint.ranks(), ranks)
    low, high = joint.intervals()
    np.testing.assert_array_equal(low, np.quantile(ranks, 0.025, axis=1, method="lower"))
    np.testing.assert_array_equal(high, np.quantile(ranks, 0.975, axis=1, method="higher"))
    shares = np.array([[np.mean(ranks[j] < ranks[i]) for i in range(5)] for j in range(5)])
    np.testing.assert_array_equal(joint.shown_ranks(), 1 + (shares >= 0.975).sum(axis=0))


def test_the_displayed_rank_rule() -> None:
    # run 0 beats run 1 in 39 of 40 replicates (97.5%) and run 2 in 38 (95%); run 1 beats run 2 always
    values = np.array([np.r_[np.ones(39), 0.0], np.full(40, 0.5), np.r_[np.zeros(38), 2.0, 2.0] - 0.1])
    values[2, :38] = 0.1
    shares = beat_shares(values)
    assert shares[0, 1] == 0.975 and shares[0, 2] == 0.95 and shares[1, 2] == 0.95
    assert displayed_ranks(shares).tolist() == [1, 2, 1]  # 95% is not enough to count
    assert displayed_ranks(shares, 0.95).tolist() == [1, 2, 3]
    # lower is better: the order turns round
    assert replicate_ranks(np.array([[1.0], [2.0], [2.0]]), higher_is_better=False)[:, 0].tolist() == [1, 2, 2]
    assert replicate_ranks(np.array([[1.0], [2.0], [2.0]]))[:, 0].tolist() == [3, 1, 1]


def test_joint_replicates_pair_exactly_as_paired_bootstrap() -> None:
    labels, runs = chain_fixture()
    joint = joint_replicates(labels, runs, n=200, seed=5)
    for a, b in ((0, 1), (0, 5), (3, 2)):
        expected = paired_bootstrap(labels, runs[a], runs[b], n=200, seed=5)
        difference, low, high, p_value, n = joint.comparison(a, b)
        assert p_value == expected.p_value and n == expected.n
        assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-12)
        assert difference == pytest.approx(expected.difference, abs=1e-12)


def test_run_page_shows_paired_differences_against_the_leader_and_neighbours(tmp_path: Path) -> None:
    labels, runs = chain_fixture()
    store, records = store_runs(tmp_path, labels, runs)
    plan = plan_site(CheckedStore(store), [BOARD])
    middle = plan.runs["r3"]["paired"]
    assert len(middle) == 1 and middle[0]["board"] == "B" and middle[0]["metric"] == "PR-AUC-macro"
    rows = middle[0]["rows"]
    assert [row["relation"] for row in rows] == ["leader", "above", "below"]
    assert [row["href"] for row in rows] == ["runs/r0.html", "runs/r2.html", "runs/r4.html"]
    for row, other in zip(rows, (0, 2, 4)):
        expected = paired_bootstrap(labels, runs[3], runs[other], n=1000, seed=0)
        assert row["p_value"] == expected.p_value
        assert row["difference"] == pytest.approx(
            records[3].scores["PR-AUC-macro"] - records[other].scores["PR-AUC-macro"]
        )
    second = plan.runs["r1"]["paired"][0]["rows"]
    assert [row["relation"] for row in second] == ["leader and above", "below"]
    leader = plan.runs["r0"]["paired"][0]["rows"]
    assert [row["relation"] for row in leader] == ["below"]
    assert leader[0]["difference"] > 0 and leader[0]["difference_text"].startswith("+")


def test_the_lean_pr_auc_scorer_equals_scikit_learn_with_ties_and_odd_tags() -> None:
    rng = np.random.default_rng(11)
    labels = rng.random((30, 6)) < 0.3
    labels[:, 0] = False  # never a positive
    labels[:, 1] = True  # never a negative
    scores = np.round(rng.random(labels.shape), 1)  # many ties
    lean = MacroAPScorer(labels, scores)
    indices = resample_indices(30, 200, 2)
    counts = np.stack([np.bincount(idx, minlength=30) for idx in indices], axis=1).astype(float)
    values = lean.score(counts)
    for r, idx in enumerate(indices):
        y, s = labels[idx], scores[idx]
        keep = y.any(axis=0)
        if not (keep & ~y.all(axis=0)).any():
            assert np.isnan(values[r])  # the official scorer raises: no tag with both classes
        else:
            assert values[r] == pytest.approx(
                average_precision_score(y[:, keep], s[:, keep], average="macro"), abs=1e-12
            )


def test_other_keys_rank_through_the_general_engine() -> None:
    labels, runs = chain_fixture()
    joint = joint_replicates(labels, runs[:3], key="ROC-AUC-macro", n=100, seed=1)
    expected = paired_bootstrap(labels, runs[0], runs[2], key="ROC-AUC-macro", n=100, seed=1)
    assert joint.comparison(0, 2)[3] == expected.p_value and joint.key == "ROC-AUC-macro"
