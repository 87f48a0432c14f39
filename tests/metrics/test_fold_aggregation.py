"""Ten-fold aggregation (mean, sample std) and pooled out-of-fold scores against numpy/sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import BadInputError, FormatError
from harness.metrics.folds import FoldSummary, aggregate_folds, pooled_scores
from harness.metrics.multilabel import cal500_scores
from harness.metrics.official import official_scores

_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    table=st.lists(st.lists(_values, min_size=3, max_size=3), min_size=2, max_size=12),
)
def test_mean_and_sample_std_equal_numpy(table):
    keys = ["PR-AUC-macro", "F1-macro", "one-error"]
    per_fold = {str(i): dict(zip(keys, row)) for i, row in enumerate(table)}
    summary = aggregate_folds(per_fold)
    assert isinstance(summary, FoldSummary)
    matrix = np.array(table, dtype=np.float64)
    assert list(summary.mean) == keys and list(summary.std) == keys
    for j, key in enumerate(keys):
        assert summary.mean[key] == float(np.mean(matrix[:, j]))
        assert summary.std[key] == float(np.std(matrix[:, j], ddof=1))
    assert summary.per_fold == per_fold
    assert summary.n_folds == len(table)
    assert summary.missing == {} and summary.warnings == ()


def test_std_is_the_sample_std():
    summary = aggregate_folds({"0": {"x": 1.0}, "1": {"x": 3.0}})
    assert summary.mean["x"] == 2.0
    assert summary.std["x"] == pytest.approx(np.sqrt(2.0))  # ddof=1; population std would be 1


def test_on_scored_folds():
    rng = np.random.default_rng(0)
    per_fold = {}
    for fold in range(10):
        labels = rng.random((50, 6)) < 0.3
        labels[0], labels[1] = True, False
        scores = rng.random((50, 6)) + 0.3 * labels
        decisions = rng.random((50, 6)) < 0.3
        per_fold[str(fold)] = cal500_scores(labels, scores, decisions).values
    summary = aggregate_folds(per_fold)
    for key in per_fold["0"]:
        column = [per_fold[str(f)][key] for f in range(10)]
        assert summary.mean[key] == float(np.mean(column))
        assert summary.std[key] == float(np.std(column, ddof=1))


def test_keys_missing_in_some_folds_are_reported_not_nan():
    summary = aggregate_folds({"0": {"a": 1.0, "b": 2.0}, "1": {"a": 3.0}, "2": {"a": 5.0, "c": 1.0}})
    assert summary.mean == {"a": 3.0}
    assert summary.std == {"a": 2.0}
    assert summary.missing == {"b": ("1", "2"), "c": ("0", "1")}
    assert any("b is missing in 2 of 3 folds (1, 2)" in w for w in summary.warnings)
    assert all(np.isfinite(v) for v in summary.mean.values())


def test_single_fold_has_no_std():
    summary = aggregate_folds({"0": {"a": 0.5}})
    assert summary.mean == {"a": 0.5}
    assert summary.std == {}
    assert any("single fold" in w for w in summary.warnings)


@pytest.mark.parametrize(
    ("per_fold", "match"),
    [
        ({}, "empty"),
        ([{"a": 1.0}], "expected a mapping"),
        ({"0": [1.0]}, "fold '0' holds a list"),
        ({"0": {"a": float("nan")}}, "expected a finite value"),
        ({"0": {"a": float("inf")}}, "expected a finite value"),
        ({"0": {"a": "0.5"}}, "expected a number"),
        ({"0": {"a": None}}, "expected a number"),
    ],
)
def test_aggregate_validation(per_fold, match):
    with pytest.raises(BadInputError, match=match):
        aggregate_folds(per_fold)


# -- pooled ----------------------------------------------------------------------------------------


def _folds(n_folds=10, n_tags=6, seed=0, with_decisions=True):
    rng = np.random.default_rng(seed)
    results, ids = [], []
    start = 0
    for _ in range(n_folds):
        n = int(rng.integers(8, 30))
        labels = rng.random((n, n_tags)) < 0.3
        scores = (rng.random((n, n_tags)) + 0.3 * labels).astype(np.float32)
        decisions = (rng.random((n, n_tags)) < 0.3) if with_decisions else None
        results.append((labels, scores, decisions))
        ids.append([f"song-{i}" for i in range(start, start + n)])
        start += n
    return results, ids


@settings(max_examples=15, deadline=None)
@given(n_folds=st.integers(1, 10), n_tags=st.integers(2, 7), seed=st.integers(0, 2**31))
def test_pooled_equals_scoring_the_concatenation(n_folds, n_tags, seed):
    results, ids = _folds(n_folds, n_tags, seed)
    labels = np.concatenate([r[0] for r in results])
    scores = np.concatenate([r[1] for r in results])
    decisions = np.concatenate([r[2] for r in results])
    if not (labels.any(axis=0) & ~labels.all(axis=0)).any():
        return  # nothing defined; covered by the validation tests
    tags = [f"t{j}" for j in range(n_tags)]
    pooled = pooled_scores(results, tags, item_ids=ids)
    direct = cal500_scores(labels, scores, decisions, tags)
    assert pooled.values == direct.values
    assert pooled.excluded_tags == direct.excluded_tags


def test_pooled_is_not_the_mean_of_folds():
    results, _ = _folds(seed=3)
    pooled = pooled_scores(results).values
    mean = aggregate_folds({str(i): cal500_scores(*r).values for i, r in enumerate(results)}).mean
    assert pooled["PR-AUC-micro"] != mean["PR-AUC-micro"]


def test_pooled_without_decisions_and_other_scorer():
    results, _ = _folds(with_decisions=False, seed=4)
    pooled = pooled_scores(results)
    assert "F-score-macro" not in pooled.values and "F1-macro" not in pooled.values and "LRAP" in pooled.values
    official = pooled_scores(results, scorer=official_scores)
    labels = np.concatenate([r[0] for r in results])
    scores = np.concatenate([r[1] for r in results])
    assert official.values == official_scores(labels, scores).values


def test_pooled_rejects_repeated_items():
    results, ids = _folds(n_folds=3, seed=1)
    ids[2][0] = ids[0][5]
    with pytest.raises(BadInputError, match=r"1 item id\(s\) repeat.*song-5 \(folds 0 and 2\)"):
        pooled_scores(results, item_ids=ids)
    results, ids = _folds(n_folds=3, seed=1)
    with pytest.raises(BadInputError, match="repeat"):
        pooled_scores(results + [results[0]], item_ids=ids + [ids[0]])
    results, ids = _folds(n_folds=2, seed=1)
    ids[1][1] = ids[1][0]
    with pytest.raises(BadInputError, match=r"\(fold 1\)"):
        pooled_scores(results, item_ids=ids)


def test_pooled_validation():
    results, ids = _folds(n_folds=3, seed=2)
    with pytest.raises(BadInputError, match="empty"):
        pooled_scores([])
    with pytest.raises(BadInputError, match="fold 1 is not a"):
        pooled_scores([results[0], results[1][:2]])
    bad = (results[1][0], results[1][1].T, results[1][2])
    with pytest.raises(FormatError, match="^fold 1: .*transposed"):
        pooled_scores([results[0], bad])
    narrow = tuple(x[:, :4] for x in results[1])
    with pytest.raises(FormatError, match="fold 1 has 4 tag columns but fold 0 has 6"):
        pooled_scores([results[0], narrow])
    with pytest.raises(BadInputError, match="folds 1 have no decisions"):
        pooled_scores([results[0], (results[1][0], results[1][1], None)])
    with pytest.raises(FormatError, match="2 id lists for 3 folds"):
        pooled_scores(results, item_ids=ids[:2])
    with pytest.raises(FormatError, match="fold 0 has .* rows but"):
        pooled_scores(results, item_ids=[ids[0][:-1], ids[1], ids[2]])
    with pytest.raises(FormatError, match="6 tag columns"):
        pooled_scores(results, tags=["a"])
