"""Validation-fitted thresholds: F1-maximal under a strict `>`, first maximum on ties."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from harness.errors import FormatError
from harness.metrics.decisions import (
    apply_thresholds,
    fit_thresholds_as_mediaeval2019,
    fit_thresholds_on_validation,
)


def _f1(labels, decisions):
    """F1 written as the documented rule computes it: 2PR / (P + R), 0/0 counted as 0."""
    tp = float(np.sum(labels & decisions))
    if tp == 0:
        return 0.0
    precision = tp / float(np.sum(decisions))
    recall = tp / float(np.sum(labels))
    return 2 * precision * recall / (precision + recall)


def _brute_force_first_best(labels, scores):
    """Every decision set a strict `>` can make: candidates -inf, then each distinct score.

    Returns the first (lowest) candidate threshold with the best F1, and that F1.
    """
    candidates = np.concatenate([[-np.inf], np.unique(scores)])
    f1s = [_f1(labels, scores > t) for t in candidates]
    best = int(np.argmax(f1s))
    return candidates[best], f1s[best]


@st.composite
def _validation_case(draw):
    n_items = draw(st.integers(1, 30))
    n_tags = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    labels = rng.random((n_items, n_tags)) < draw(st.floats(0.0, 1.0))
    if draw(st.booleans()):  # few levels: many ties
        scores = rng.integers(0, draw(st.integers(1, 6)), size=(n_items, n_tags)) / 4.0
    else:
        scores = rng.normal(size=(n_items, n_tags))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return labels, scores.astype(dtype)


@settings(max_examples=300, deadline=None)
@given(_validation_case())
def test_fitted_threshold_is_f1_maximal_under_strict_greater(case):
    labels, scores = case
    thresholds = fit_thresholds_on_validation(labels, scores)
    assert thresholds.dtype == np.float64 and thresholds.shape == (labels.shape[1],)
    decisions = apply_thresholds(scores, thresholds)
    for j in range(labels.shape[1]):
        if not labels[:, j].any():
            assert thresholds[j] == np.inf and not decisions[:, j].any()
            continue
        best_t, best_f1 = _brute_force_first_best(labels[:, j], scores[:, j])
        assert _f1(labels[:, j], decisions[:, j]) == best_f1
        # the first maximum: the same decisions as the lowest F1-maximal candidate
        np.testing.assert_array_equal(decisions[:, j], scores[:, j] > best_t)


@settings(max_examples=200, deadline=None)
@given(_validation_case())
def test_fitted_threshold_follows_the_precision_recall_curve_argmax(case):
    labels, scores = case
    thresholds = fit_thresholds_on_validation(labels, scores)
    official = fit_thresholds_as_mediaeval2019(labels, scores)
    for j in range(labels.shape[1]):
        if not labels[:, j].any():
            assert official[j] == np.inf
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, r, t = metrics.precision_recall_curve(labels[:, j], scores[:, j])
            f = np.nan_to_num(2 * p * r / (p + r))
        best = t[np.argmax(f)]
        assert official[j] == best
        # the returned threshold sits just below it, in the scores' own precision
        assert thresholds[j] < best
        assert np.nextafter(scores.dtype.type(best), scores.dtype.type(-np.inf)) == thresholds[j]
        np.testing.assert_array_equal(scores[:, j] > thresholds[j], scores[:, j] >= best)


def test_ties_take_the_first_maximum_the_lowest_threshold():
    # F1 of "predict all" (P 1/2, R 1) and of "predict 0.4 only" (P 1, R 1/2) are both 2/3
    labels = np.array([[1], [0], [0], [1]], dtype=bool)
    scores = np.array([[0.1], [0.2], [0.3], [0.4]])
    thresholds = fit_thresholds_on_validation(labels, scores)
    decisions = apply_thresholds(scores, thresholds)
    np.testing.assert_array_equal(decisions[:, 0], [True, True, True, True])
    assert _f1(labels[:, 0], decisions[:, 0]) == pytest.approx(2 / 3)


def test_mediaeval2019_rule_drops_the_items_at_the_threshold():
    labels = np.array([[1], [0], [0], [1]], dtype=bool)
    scores = np.array([[0.1], [0.2], [0.3], [0.4]])
    official = fit_thresholds_as_mediaeval2019(labels, scores)
    assert official[0] == 0.1  # thresholds[argmax] of precision_recall_curve
    decisions = apply_thresholds(scores, official)
    np.testing.assert_array_equal(decisions[:, 0], [False, True, True, True])
    assert _f1(labels[:, 0], decisions[:, 0]) == pytest.approx(0.4)  # not the maximum 2/3


def test_tag_without_positives_is_never_predicted():
    rng = np.random.default_rng(0)
    labels = rng.random((50, 3)) < 0.3
    labels[:, 1] = False
    scores = rng.random((50, 3))
    thresholds = fit_thresholds_on_validation(labels, scores)
    assert thresholds[1] == np.inf
    assert np.isfinite(thresholds[[0, 2]]).all()
    test_scores = np.full((5, 3), 1e300)
    assert not apply_thresholds(test_scores, thresholds)[:, 1].any()


def test_tag_with_only_positives_predicts_everything():
    labels = np.ones((6, 1), dtype=bool)
    scores = np.array([[0.3], [0.1], [0.9], [0.1], [0.5], [0.2]])
    decisions = apply_thresholds(scores, fit_thresholds_on_validation(labels, scores))
    assert decisions.all()


def test_apply_is_strict_greater():
    scores = np.array([[0.5, 0.5], [0.6, 0.4], [0.4, 0.6]], dtype=np.float32)
    decisions = apply_thresholds(scores, [0.5, np.float32(0.4)])
    assert decisions.dtype == bool
    np.testing.assert_array_equal(decisions, [[False, True], [True, False], [False, True]])
    assert apply_thresholds(scores, [-np.inf, np.inf]).tolist() == [[True, False]] * 3


def test_float32_scores_keep_the_argmax_point_through_float32_storage():
    rng = np.random.default_rng(3)
    labels = rng.random((500, 4)) < 0.2
    scores = rng.random((500, 4)).astype(np.float32)
    thresholds = fit_thresholds_on_validation(labels, scores)
    stored = thresholds.astype(np.float32)  # exact: fitted in the scores' precision
    np.testing.assert_array_equal(apply_thresholds(scores, stored), apply_thresholds(scores, thresholds))


def test_apply_validates_thresholds():
    scores = np.zeros((3, 2))
    with pytest.raises(FormatError, match=r"shape \(3,\); expected \(2,\)"):
        apply_thresholds(scores, [0.1, 0.2, 0.3])
    with pytest.raises(FormatError, match=r"one number.*np.full\(2"):
        apply_thresholds(scores, 0.5)
    with pytest.raises(FormatError, match="1 NaN"):
        apply_thresholds(scores, [0.1, np.nan])
    with pytest.raises(FormatError, match="NaN"):
        apply_thresholds(np.array([[np.nan, 0.0]]), [0.1, 0.2])


def test_fit_validates_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(FormatError, match="transposed"):
        fit_thresholds_on_validation(rng.random((10, 3)) < 0.5, rng.random((3, 10)))


def test_fast_enough_for_the_mtg_jamendo_validation_split():
    rng = np.random.default_rng(1)
    labels = rng.random((4000, 56)) < 0.04
    scores = rng.random((4000, 56)).astype(np.float32)
    start = time.perf_counter()
    fit_thresholds_on_validation(labels, scores)
    assert time.perf_counter() - start < 2.0
