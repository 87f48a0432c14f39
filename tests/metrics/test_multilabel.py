"""The CAL500 metric set against scikit-learn and against an independent one-error loop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics

from harness.datasets import load_spec
from harness.errors import BadInputError, FormatError
from harness.metrics import keys
from harness.metrics.multilabel import (
    CAL500_KEYS,
    DECISION_ONLY_KEYS,
    LOWER_IS_BETTER,
    MULTILABEL_KEYS,
    MultilabelScores,
    cal500_scores,
    one_error,
)
from harness.metrics.official import OFFICIAL_KEYS, official_scores


def _case(n_items, n_tags, seed, positive_rate=0.2, empty_rows=0):
    """Labels with a positive and a negative per tag, some rows without tags; float scores."""
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < positive_rate
    labels[0, :] = True
    labels[1, :] = False
    if empty_rows:
        labels[2 : 2 + empty_rows, :] = False
    scores = (rng.random((n_items, n_tags)) + 0.4 * labels).astype(np.float32)
    decisions = rng.random((n_items, n_tags)) < 0.25
    return labels, scores, decisions


def _one_error_loop(labels, scores, skip_empty=False):
    """Independent one-error: a plain loop, tie-averaged over the top-scored tags."""
    total, count = 0.0, 0
    for row_labels, row_scores in zip(labels.tolist(), scores.tolist()):
        if skip_empty and not any(row_labels):
            continue
        best = max(row_scores)
        top = [j for j, s in enumerate(row_scores) if s == best]
        wrong = [j for j in top if not row_labels[j]]
        total += len(wrong) / len(top)
        count += 1
    return total / count


def _sklearn_cal500(labels, scores, decisions):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "F-score-macro": metrics.f1_score(labels, decisions, average="macro"),  # the papers' F1-macro
            "hamming-loss": metrics.hamming_loss(labels, decisions),
            "coverage-error": metrics.coverage_error(labels, scores),
            "ranking-loss": metrics.label_ranking_loss(labels, scores),
            "LRAP": metrics.label_ranking_average_precision_score(labels, scores),
        }


# -- keys ------------------------------------------------------------------------------------------


def test_key_sets():
    assert MULTILABEL_KEYS == OFFICIAL_KEYS + CAL500_KEYS
    assert len(set(MULTILABEL_KEYS)) == len(MULTILABEL_KEYS)
    assert LOWER_IS_BETTER == {"hamming-loss", "one-error", "coverage-error", "ranking-loss"}
    assert LOWER_IS_BETTER <= set(CAL500_KEYS)
    assert DECISION_ONLY_KEYS <= set(CAL500_KEYS)
    # the CAL500 papers' primary metric, F1 macro, is the official F-score-macro under an alias; the
    # dataset registries own the primary metric
    assert keys.canonical("F1-macro") == "F-score-macro" and "F1-macro" not in MULTILABEL_KEYS
    for name in ("cal500", "cal500exp"):
        assert load_spec(name).primary_metric == "F-score-macro"


@pytest.mark.parametrize("shape", [(20, 2), (150, 7), (502, 174)])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_key_equals_sklearn(shape, seed):
    labels, scores, decisions = _case(*shape, seed, empty_rows=3)
    result = cal500_scores(labels, scores, decisions)
    assert isinstance(result, MultilabelScores)
    assert list(result.values) == list(MULTILABEL_KEYS)
    assert all(type(v) is float for v in result.values.values())
    official = official_scores(labels, scores, decisions).values
    for key in OFFICIAL_KEYS:
        assert result.values[key] == official[key], key
    expected = _sklearn_cal500(labels, scores, decisions)
    for key, value in expected.items():
        assert result.values[key] == value, key
    assert "F1-macro" not in result.values  # an alias is never written, only accepted on input
    assert result.values["one-error"] == pytest.approx(_one_error_loop(labels, scores), abs=1e-12)
    assert result.items_without_tags == int((~labels.any(axis=1)).sum()) >= 4  # rows 1-4


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_items=st.integers(3, 40),
    n_tags=st.integers(2, 8),
    seed=st.integers(0, 2**31),
    levels=st.sampled_from([3, 1000]),  # 3 levels: many ties
)
def test_hypothesis_against_sklearn_and_loop(n_items, n_tags, seed, levels):
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < 0.3
    labels[0, 0], labels[1, 0] = True, False  # tag 0 has both classes, so something is defined
    scores = rng.integers(0, levels, size=(n_items, n_tags)).astype(np.float64) / levels
    decisions = rng.random((n_items, n_tags)) < 0.3
    result = cal500_scores(labels, scores, decisions)
    for key, value in _sklearn_cal500(labels, scores, decisions).items():
        if key == "F-score-macro":
            # the official macro excludes tags without positives; compare on the kept columns
            keep = labels.any(axis=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = (
                    metrics.f1_score(labels[:, keep], decisions[:, keep], average="macro")
                    if (keep.sum() > 1)
                    else metrics.f1_score(labels[:, keep][:, 0], decisions[:, keep][:, 0])
                )
        assert result.values[key] == value, key  # the same floating-point operations: equal
    assert result.values["one-error"] == pytest.approx(_one_error_loop(labels, scores), abs=1e-12)
    assert all(np.isfinite(v) for v in result.values.values())


# -- one-error -------------------------------------------------------------------------------------


def test_one_error_by_hand():
    labels = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 1, 0]])
    scores = np.array(
        [
            [0.9, 0.1, 0.2],  # top tag 0, true: correct
            [0.9, 0.1, 0.2],  # top tag 0, false: error
            [0.5, 0.1, 0.2],  # no true tag: error
            [0.3, 0.3, 0.3],  # three-way tie, 2 of 3 true: 1/3 error
        ]
    )
    assert one_error(labels, scores) == pytest.approx((0 + 1 + 1 + 1 / 3) / 4)
    skipped = one_error(labels, scores, items_without_tags="skip")
    assert skipped == pytest.approx((0 + 1 + 1 / 3) / 3)
    result = cal500_scores(labels, scores, tags=["a", "b", "c"])
    assert result.values["one-error"] == pytest.approx((0 + 1 + 1 + 1 / 3) / 4)
    assert result.items_without_tags == 1
    assert any("1 of 4 items have no true tag" in w for w in result.warnings)
    assert any("tied at their top score" in w for w in result.warnings)


@settings(max_examples=40, deadline=None)
@given(n_items=st.integers(2, 30), n_tags=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_one_error_against_loop_with_empty_items(n_items, n_tags, seed):
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < 0.25
    labels[0, :] = False  # at least one item without tags
    labels[1, 0] = True
    scores = rng.integers(0, 4, size=(n_items, n_tags)).astype(np.float32)
    assert one_error(labels, scores) == pytest.approx(_one_error_loop(labels, scores), abs=1e-12)
    skipped = one_error(labels, scores, items_without_tags="skip")
    assert skipped == pytest.approx(_one_error_loop(labels, scores, skip_empty=True), abs=1e-12)
    # the two conventions, related as the module docstring says
    m = int((~labels.any(axis=1)).sum())
    assert one_error(labels, scores) == pytest.approx((m + (n_items - m) * skipped) / n_items)


def test_one_error_does_not_depend_on_column_order():
    labels, _, _ = _case(60, 5, 3)
    scores = np.random.default_rng(3).integers(0, 2, size=labels.shape).astype(float)
    perm = np.array([4, 2, 0, 3, 1])
    assert one_error(labels, scores) == pytest.approx(one_error(labels[:, perm], scores[:, perm]))


def test_one_error_validation():
    labels, scores, _ = _case(10, 3, 0)
    with pytest.raises(BadInputError, match="items_without_tags='drop'"):
        one_error(labels, scores, items_without_tags="drop")
    with pytest.raises(BadInputError, match="no item of the 10 has a true tag"):
        one_error(np.zeros((10, 3), bool), scores, items_without_tags="skip")
    assert one_error(np.zeros((10, 3), bool), scores) == 1.0
    with pytest.raises(FormatError, match="transposed"):
        one_error(labels, scores.T)


# -- edge cases ------------------------------------------------------------------------------------


def test_without_decisions_only_threshold_free_keys():
    labels, scores, _ = _case(50, 4, 1)
    result = cal500_scores(labels, scores)
    assert not DECISION_ONLY_KEYS & set(result.values)
    assert {"one-error", "coverage-error", "ranking-loss", "LRAP"} <= set(result.values)
    assert "precision-macro" not in result.values


def test_tag_without_positives_is_excluded_from_macro_but_not_from_ranking_metrics():
    labels, scores, decisions = _case(80, 5, 2)
    labels[:, 3] = False
    result = cal500_scores(labels, scores, decisions, tags=list("abcde"))
    assert result.excluded_tags == ("d",)
    assert any("left out of macro means: d" in w for w in result.warnings)
    # example-based metrics use every column
    assert result.values["LRAP"] == metrics.label_ranking_average_precision_score(labels, scores)
    assert result.values["hamming-loss"] == metrics.hamming_loss(labels, decisions)
    keep = labels.any(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f1 = metrics.f1_score(labels[:, keep], decisions[:, keep], average="macro")
    assert result.values["F-score-macro"] == f1
    assert all(np.isfinite(v) for v in result.values.values())


def test_items_with_every_tag_true_are_warned_about():
    labels, scores, decisions = _case(30, 4, 5)
    result = cal500_scores(labels, scores, decisions)
    assert any("have every tag true" in w for w in result.warnings)  # row 0 is all true


def test_single_tag_column():
    labels = np.array([[1], [0], [1], [0], [0]], dtype=bool)
    scores = np.array([[0.9], [0.1], [0.4], [0.5], [0.2]])
    decisions = np.array([[1], [0], [0], [1], [0]], dtype=bool)
    result = cal500_scores(labels, scores, decisions, tags=["happy"])
    assert result.values["coverage-error"] == pytest.approx(0.4)
    assert result.values["ranking-loss"] == 0.0
    assert result.values["LRAP"] == 1.0
    assert result.values["LRAP"] == metrics.label_ranking_average_precision_score(labels, scores)
    assert result.values["hamming-loss"] == pytest.approx(0.4)
    assert result.values["one-error"] == pytest.approx(0.6)  # the 3 items without the tag
    f1 = metrics.f1_score(labels[:, 0], decisions[:, 0])
    assert result.values["F-score-macro"] == pytest.approx(f1)
    assert any("single tag column" in w for w in result.warnings)


def test_validation_errors():
    labels, scores, decisions = _case(20, 4, 0)
    with pytest.raises(FormatError, match="transposed"):
        cal500_scores(labels, scores.T, decisions)
    with pytest.raises(FormatError, match="decisions"):
        cal500_scores(labels, scores, scores)
    with pytest.raises(FormatError, match="NaN"):
        bad = scores.copy()
        bad[3, 2] = np.nan
        cal500_scores(labels, bad, decisions)
    with pytest.raises(FormatError, match="labels"):
        cal500_scores(scores, scores, decisions)
    with pytest.raises(FormatError, match="3 tag names for 4"):
        cal500_scores(labels, scores, decisions, tags=["a", "b", "c"])
    with pytest.raises(BadInputError, match="no tag of the 4"):
        cal500_scores(np.zeros_like(labels), scores, decisions)
