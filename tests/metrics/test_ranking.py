"""harness.metrics.ranking equals scikit-learn with ``==``, not approximately: same operations, same order."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics

from harness.metrics import ranking


def _column(n: int, seed: int, levels: int, dtype: str, positive_rate: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < positive_rate
    s = rng.integers(0, levels, size=n) / levels + 0.3 * y * rng.random(n)
    if dtype == "bool":
        return y, s > 0.5
    if dtype == "int":
        return y, (s * 100).astype(np.int64)
    return y, s.astype(dtype)


columns = st.builds(
    _column,
    n=st.integers(2, 300),
    seed=st.integers(0, 2**31),
    levels=st.sampled_from([2, 5, 50, 10**6]),  # few levels: many ties
    dtype=st.sampled_from(["float32", "float64", "bool", "int"]),
    positive_rate=st.sampled_from([0.02, 0.2, 0.5, 0.95]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=columns)
def test_every_function_equals_sklearn_exactly(case: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, t = metrics.precision_recall_curve(y, s)
        expected_roc = metrics.roc_auc_score(y, s) if 0 < y.sum() < y.size else math.nan
        expected_ap = metrics.average_precision_score(y, s)
    ours_p, ours_r, ours_t = ranking.precision_recall_curve(y, s)
    np.testing.assert_array_equal(ours_p, p)
    np.testing.assert_array_equal(ours_r, r)
    np.testing.assert_array_equal(ours_t, t)
    assert ours_t.dtype == t.dtype
    assert ranking.average_precision(y, s) == expected_ap
    roc = ranking.roc_auc(y, s)
    assert roc == expected_roc or (math.isnan(roc) and math.isnan(expected_roc))


def test_roc_auc_is_nan_for_one_class() -> None:
    s = np.arange(5.0)
    assert math.isnan(ranking.roc_auc(np.zeros(5, bool), s))
    assert math.isnan(ranking.roc_auc(np.ones(5, bool), s))


def test_known_values_by_hand() -> None:
    y = np.array([True, False, True, False])
    s = np.array([0.9, 0.8, 0.4, 0.1])
    # ranking: +, -, +, -: AP = (1/1 + 2/3) / 2; AUC = 3 of 4 (positive, negative) pairs ordered
    assert ranking.average_precision(y, s) == pytest.approx((1 + 2 / 3) / 2)
    assert ranking.roc_auc(y, s) == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half
    assert ranking.roc_auc(np.array([True, False]), np.array([0.5, 0.5])) == pytest.approx(0.5)


@settings(max_examples=200, deadline=None)
@given(
    n_items=st.integers(1, 60),
    n_tags=st.integers(1, 6),
    seed=st.integers(0, 2**31),
)
def test_precision_recall_f1_equals_sklearn_exactly(n_items: int, n_tags: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < 0.3
    decisions = rng.random((n_items, n_tags)) < 0.3
    tp = (labels & decisions).sum(axis=0)
    fp = (~labels & decisions).sum(axis=0)
    fn = (labels & ~decisions).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = (
            metrics.precision_recall_fscore_support(
                labels.astype(int), decisions.astype(int), average=None, labels=list(range(n_tags))
            )
            if n_tags > 1
            else [
                np.array([v])
                for v in metrics.precision_recall_fscore_support(labels[:, 0], decisions[:, 0], average="binary")[:3]
            ]
        )
    for ours, theirs in zip(ranking.precision_recall_f1(tp, fp, fn), expected[:3]):
        np.testing.assert_array_equal(ours, theirs)
