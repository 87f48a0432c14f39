"""Per-tag table against scikit-learn; top/bottom ordering and tie-breaking; validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from harness.errors import BadInputError, FormatError, UnknownNameError
from harness.metrics.official import official_scores
from harness.metrics.per_tag import PerTagTable, TagRow, per_tag_table, top_bottom


def _case(n_items=120, n_tags=8, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < 0.25
    labels[0], labels[1] = True, False
    scores = rng.random((n_items, n_tags)) + 0.5 * labels * rng.random(n_tags)
    decisions = rng.random((n_items, n_tags)) < 0.3
    return labels, scores, decisions


def test_rows_equal_sklearn_per_column():
    labels, scores, decisions = _case()
    tags = [f"tag{j}" for j in range(labels.shape[1])]
    table = per_tag_table(labels, scores, decisions, tags)
    assert isinstance(table, PerTagTable)
    assert [row.tag for row in table] == tags and len(table) == len(tags)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j, row in enumerate(table.rows):
            assert row.positives == int(labels[:, j].sum())
            assert row.roc_auc == metrics.roc_auc_score(labels[:, j], scores[:, j])
            assert row.pr_auc == metrics.average_precision_score(labels[:, j], scores[:, j])
            p, r, f, _ = metrics.precision_recall_fscore_support(labels[:, j], decisions[:, j], average="binary")
            assert (row.precision, row.recall, row.f1) == (p, r, f)
    official = official_scores(labels, scores, decisions).values
    assert np.mean([row.pr_auc for row in table]) == official["PR-AUC-macro"]
    assert np.mean([row.f1 for row in table]) == official["F-score-macro"]
    assert table.no_positive_tags == () and table.warnings == ()


def test_tags_without_positives_listed_separately_and_no_negatives_have_no_roc():
    labels, scores, decisions = _case(n_tags=5, seed=1)
    labels[:, 1] = False
    labels[:, 3] = True
    table = per_tag_table(labels, scores, None, list("abcde"))
    assert [row.tag for row in table] == ["a", "c", "d", "e"]
    assert table.no_positive_tags == ("b",)
    d = table.rows[2]
    assert d.roc_auc is None and d.pr_auc == 1.0 and d.positives == labels.shape[0]
    assert all(row.precision is None and row.f1 is None for row in table)
    assert any("no positives" in w and "b" in w for w in table.warnings)
    assert any("no ROC-AUC: d" in w for w in table.warnings)


def _row(tag, pr_auc, roc_auc=0.5, f1=None):
    return TagRow(tag=tag, positives=1, roc_auc=roc_auc, pr_auc=pr_auc, f1=f1)


def test_top_bottom_order_and_ties_by_name():
    rows = [
        _row("sad", 0.2),
        _row("calm", 0.9),
        _row("happy", 0.5),
        _row("dark", 0.2),
        _row("epic", 0.9),
        _row("love", 0.1),
        _row("fun", 0.5),
    ]
    top, bottom = top_bottom(rows, k=3)
    assert [r.tag for r in top] == ["calm", "epic", "fun"]  # 0.9, 0.9 (by name), then 0.5 by name
    assert [r.tag for r in bottom] == ["love", "dark", "sad"]  # 0.1, then the 0.2 tie by name
    # order of the input does not matter
    top2, bottom2 = top_bottom(list(reversed(rows)), k=3)
    assert top2 == top and bottom2 == bottom
    # fewer rows than k: everything, still ordered
    top, bottom = top_bottom(rows[:2], k=5)
    assert [r.tag for r in top] == ["calm", "sad"] and [r.tag for r in bottom] == ["sad", "calm"]


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=1, max_size=20),
    k=st.integers(1, 8),
    seed=st.integers(0, 1000),
)
def test_top_bottom_against_sorting(values, k, seed):
    rows = [_row(f"t{i:02d}", v) for i, v in enumerate(values)]
    shuffled = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
    top, bottom = top_bottom(shuffled, key="PR-AUC", k=k)
    by_name = sorted(rows, key=lambda r: r.tag)
    # stable sort on name then descending value: ties stay in name order
    expected_top = sorted(by_name, key=lambda r: -r.pr_auc)[:k]
    expected_bottom = sorted(by_name, key=lambda r: r.pr_auc)[:k]
    assert list(top) == expected_top and list(bottom) == expected_bottom


def test_top_bottom_on_a_table_and_other_keys():
    labels, scores, decisions = _case(n_tags=12, seed=2)
    labels[:, 4] = True  # no negatives: no ROC-AUC, left out of the ROC-AUC ranking
    table = per_tag_table(labels, scores, decisions)
    top, bottom = top_bottom(table)
    assert len(top) == len(bottom) == 5
    prs = sorted((row.pr_auc for row in table), reverse=True)
    assert [r.pr_auc for r in top] == prs[:5]
    assert [r.pr_auc for r in bottom] == sorted(prs)[:5]
    top, bottom = top_bottom(table, key="ROC-AUC", k=20)
    assert len(top) == 11 and "tag-4" not in {r.tag for r in top}
    assert top_bottom(table, key="F1", k=2) == top_bottom(table, key="F-score", k=2)


def test_top_bottom_validation():
    rows = [_row("a", 0.5), _row("b", 0.4)]
    with pytest.raises(UnknownNameError, match="unknown per-tag metric 'AUC'; known: ROC-AUC"):
        top_bottom(rows, key="AUC")
    for k in (0, -1, 2.5, True):
        with pytest.raises(BadInputError, match="expected a positive integer"):
            top_bottom(rows, k=k)
    with pytest.raises(BadInputError, match="no decisions were given"):
        top_bottom(rows, key="F1")
    with pytest.raises(BadInputError, match="expected TagRow"):
        top_bottom([{"tag": "a", "pr_auc": 0.5}])


def test_per_tag_table_validation():
    labels, scores, decisions = _case()
    with pytest.raises(FormatError, match="transposed"):
        per_tag_table(labels, scores.T)
    with pytest.raises(FormatError, match="decisions"):
        per_tag_table(labels, scores, scores)
    with pytest.raises(FormatError, match="tag names"):
        per_tag_table(labels, scores, decisions, ["x"])
    with pytest.raises(BadInputError, match="no tag of the"):
        per_tag_table(np.zeros_like(labels), scores)
