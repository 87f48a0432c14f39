"""The vectorised bootstrap against scikit-learn replicate by replicate; intervals; paired test."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics

from harness.errors import BadInputError, FormatError, UnknownNameError
from harness.metrics.bootstrap import (
    Comparison,
    Interval,
    bootstrap_intervals,
    bootstrap_replicates,
    paired_bootstrap,
    percentile_interval,
    resample_indices,
    score_resamples,
)
from harness.metrics.official import DECISION_KEYS, OFFICIAL_KEYS, SCORE_KEYS, official_scores


def _sklearn_replicate(labels, scores, decisions):
    """One resample scored with scikit-learn, tag by tag, with the official scorer's exclusions.

    Returns None where the official scorer raises (no tag with both classes).
    """
    n_items = labels.shape[0]
    positives = labels.sum(axis=0)
    keep = positives > 0
    both = keep & (positives < n_items)
    if not both.any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {
            "ROC-AUC-macro": np.mean([metrics.roc_auc_score(labels[:, j], scores[:, j]) for j in np.flatnonzero(both)]),
            "PR-AUC-macro": np.mean(
                [metrics.average_precision_score(labels[:, j], scores[:, j]) for j in np.flatnonzero(keep)]
            ),
            "ROC-AUC-micro": metrics.roc_auc_score(labels.ravel(), scores.ravel()),
            "PR-AUC-micro": metrics.average_precision_score(labels.ravel(), scores.ravel()),
        }
        if decisions is not None:
            prf = np.array(
                [
                    metrics.precision_recall_fscore_support(
                        labels[:, j], decisions[:, j], average="binary", zero_division=0
                    )[:3]
                    for j in np.flatnonzero(keep)
                ]
            )
            out["precision-macro"], out["recall-macro"], out["F-score-macro"] = prf.mean(axis=0)
            # micro: the positive class pooled over every cell
            p, r, f, _ = metrics.precision_recall_fscore_support(
                labels.ravel(), decisions.ravel(), average="binary", zero_division=0
            )
            out["precision-micro"], out["recall-micro"], out["F-score-micro"] = p, r, f
    return out


def _case(n_items=120, n_tags=8, seed=0, decimals=2):
    """Scores rounded (ties), tags with many, few (1, 2) and one-sided positives; decisions."""
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < 0.12
    labels[:, 0] = False
    labels[3, 0] = True  # one positive: often lost in a replicate
    labels[:, 1] = False
    labels[[5, 9], 1] = True  # two positives
    scores = np.round(rng.random((n_items, n_tags)) * 0.7 + 0.3 * labels, decimals)
    decisions = scores > 0.6
    return labels, scores, decisions


def _assert_matches_sklearn(labels, scores, decisions, indices, values):
    checked = 0
    for r, idx in enumerate(indices):
        ref = _sklearn_replicate(labels[idx], scores[idx], decisions[idx])
        if ref is None:
            assert all(np.isnan(values[k][r]) for k in values)
            continue
        for key, expected in ref.items():
            assert values[key][r] == pytest.approx(expected, abs=1e-12), (key, r)
        checked += 1
    return checked


# -- equality with scikit-learn, replicate by replicate --------------------------------------------


def test_replicates_equal_sklearn_on_the_same_indices():
    labels, scores, decisions = _case()
    reps = bootstrap_replicates(labels, scores, decisions, n=40, seed=3, return_indices=True)
    assert reps.indices.shape == (40, labels.shape[0])
    assert set(reps.values) == set(OFFICIAL_KEYS)
    assert _assert_matches_sklearn(labels, scores, decisions, reps.indices, reps.values) == 40
    # the one-positive tag was left out of some replicates: the exclusion rule was exercised
    assert (~labels[reps.indices, 0].any(axis=1)).any()


def test_replicates_equal_the_official_scorer():
    labels, scores, decisions = _case(seed=1, decimals=1)
    scores = scores.astype(np.float32)  # ties decided in the scores' own dtype, as scikit-learn
    reps = bootstrap_replicates(labels, scores, decisions, n=20, seed=5, return_indices=True)
    for r, idx in enumerate(reps.indices):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = official_scores(labels[idx], scores[idx], decisions[idx]).values
        for key in OFFICIAL_KEYS:
            assert reps.values[key][r] == pytest.approx(ref[key], abs=1e-12), (key, r)


def test_a_tag_without_positives_in_a_replicate_leaves_the_macro_mean():
    labels, scores, _ = _case(n_items=30, n_tags=3, seed=2)
    without = np.array([i for i in range(30) if i != 3])  # item 3 is tag 0's only positive
    values = score_resamples(labels, scores, [without, np.arange(30)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rest = [metrics.average_precision_score(labels[without, j], scores[without, j]) for j in (1, 2)]
    assert values["PR-AUC-macro"][0] == pytest.approx(np.mean(rest), abs=1e-12)
    full = official_scores(labels, scores).values
    for key in SCORE_KEYS:
        assert values[key][1] == pytest.approx(full[key], abs=1e-12)


def test_a_replicate_without_any_scorable_tag_has_no_value():
    labels, scores, decisions = _case(n_items=20, n_tags=3)
    values = score_resamples(labels, scores, [[4, 4, 4], np.arange(20)], decisions=decisions)
    assert all(np.isnan(v[0]) and np.isfinite(v[1]) for v in values.values())


@st.composite
def _resampled_cases(draw):
    n_items = draw(st.integers(2, 25))
    n_tags = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < draw(st.sampled_from([0.1, 0.3, 0.6]))
    levels = draw(st.sampled_from([3, 10, 1000]))  # few levels: many ties
    scores = np.floor(rng.random((n_items, n_tags)) * levels) / levels
    decisions = rng.random((n_items, n_tags)) < 0.4
    n_resamples = draw(st.integers(1, 4))
    indices = [rng.integers(0, n_items, size=draw(st.integers(1, 2 * n_items))) for _ in range(n_resamples)]
    return labels, scores, decisions, indices


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_resampled_cases())
def test_any_resample_equals_sklearn(case):
    labels, scores, decisions, indices = case
    values = score_resamples(labels, scores, indices, decisions=decisions)
    _assert_matches_sklearn(labels, scores, decisions, indices, values)


# -- reproducibility -------------------------------------------------------------------------------


def test_same_seed_same_replicates_whatever_the_chunk_size():
    labels, scores, decisions = _case()
    a = bootstrap_replicates(labels, scores, decisions, n=30, seed=7, return_indices=True)
    b = bootstrap_replicates(labels, scores, decisions, n=30, seed=7, return_indices=True, chunk_size=4)
    c = bootstrap_replicates(labels, scores, decisions, n=30, seed=8)
    first = bootstrap_replicates(labels, scores, decisions, n=10, seed=7)
    gen = bootstrap_replicates(labels, scores, decisions, n=30, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.indices, resample_indices(labels.shape[0], 30, 7))
    assert b.indices is not None and c.indices is None
    for key in a.values:
        np.testing.assert_array_equal(a.values[key], b.values[key])
        np.testing.assert_array_equal(a.values[key], gen.values[key])
        np.testing.assert_array_equal(a.values[key][:10], first.values[key])
        assert not np.array_equal(a.values[key], c.values[key])


def test_intervals_are_reproducible_and_contain_the_point_estimate():
    rng = np.random.default_rng(0)
    labels = rng.random((300, 6)) < 0.3
    scores = np.round(rng.random((300, 6)) * 0.8 + 0.4 * labels, 2)
    decisions = scores > 0.6
    a = bootstrap_intervals(labels, scores, decisions, n=200, seed=1)
    b = bootstrap_intervals(labels, scores, decisions, n=200, seed=1)
    assert a == b
    assert list(a) == list(OFFICIAL_KEYS)
    point = official_scores(labels, scores, decisions).values
    for key, interval in a.items():
        assert isinstance(interval, Interval)
        assert interval.low <= point[key] <= interval.high, key
        assert interval.low < interval.high
        assert interval.low <= interval.mean <= interval.high
        assert 0 < interval.std < 0.1
        assert interval.replicates == 200 and interval.confidence == 0.95
    wider = bootstrap_intervals(labels, scores, n=200, seed=1, confidence=0.99, keys=["PR-AUC-macro"])
    assert list(wider) == ["PR-AUC-macro"]
    assert wider["PR-AUC-macro"].low <= a["PR-AUC-macro"].low
    assert wider["PR-AUC-macro"].high >= a["PR-AUC-macro"].high
    assert set(bootstrap_intervals(labels, scores, n=5)) == set(SCORE_KEYS)


def test_percentile_interval_definition():
    values = np.array([np.nan, *range(101)], dtype=float)
    interval = percentile_interval(values, 0.9)
    assert (interval.low, interval.high, interval.mean) == (5.0, 95.0, 50.0)
    assert interval.replicates == 101
    assert interval.as_dict()["high"] == 95.0
    with pytest.raises(BadInputError, match="no value"):
        percentile_interval([np.nan, np.nan])


# -- the paired comparison -------------------------------------------------------------------------


def _paired_case(seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.random((200, 5)) < 0.2
    labels[0], labels[1] = True, False
    good = np.round(rng.random((200, 5)) * 0.6 + 0.4 * labels, 2)
    poor = np.round(rng.random((200, 5)) * 0.9 + 0.1 * labels, 2)
    return labels, good, poor


def test_a_against_itself_differs_by_zero_with_p_one():
    labels, good, _ = _paired_case()
    for key in ("PR-AUC-macro", "ROC-AUC-micro"):
        result = paired_bootstrap(labels, good, good.copy(), key=key, n=100)
        assert isinstance(result, Comparison)
        assert result.difference == 0.0 and result.low == 0.0 and result.high == 0.0
        assert result.p_value == 1.0
        assert result.n == 100 and result.key == key


def test_a_clearly_better_a_has_a_small_p_value():
    labels, good, poor = _paired_case()
    result = paired_bootstrap(labels, good, poor, n=200, seed=2)
    point = official_scores(labels, good).values["PR-AUC-macro"]
    assert result.value_a == point
    assert result.difference == result.value_a - result.value_b
    assert result.difference > 0.1
    assert 0 < result.low <= result.difference <= result.high
    assert result.p_value < 0.05
    assert result.p_value == 2 / 201  # every replicate favours A: the +1 floor
    reverse = paired_bootstrap(labels, poor, good, n=200, seed=2)
    assert reverse.difference == -result.difference
    assert reverse.p_value == result.p_value
    assert reverse.as_dict()["key"] == "PR-AUC-macro"


def test_paired_p_value_definition_on_the_replicates():
    labels, good, poor = _paired_case(seed=3)
    noisy = np.round(good + np.random.default_rng(4).normal(0, 0.3, good.shape), 2)
    result = paired_bootstrap(labels, good, noisy, key="ROC-AUC-macro", n=150, seed=9)
    a = bootstrap_replicates(labels, good, n=150, seed=9, keys=["ROC-AUC-macro"])
    b = bootstrap_replicates(labels, noisy, n=150, seed=9, keys=["ROC-AUC-macro"])
    d = a.values["ROC-AUC-macro"] - b.values["ROC-AUC-macro"]
    expected = min(1.0, 2 * min(1 + (d <= 0).sum(), 1 + (d >= 0).sum()) / (d.size + 1))
    assert result.p_value == expected
    assert (result.low, result.high) == tuple(np.percentile(d, [2.5, 97.5]))


def test_paired_bootstrap_on_decisions():
    labels, good, poor = _paired_case()
    result = paired_bootstrap(
        labels,
        good,
        poor,
        key="F-score-macro",
        n=100,
        decisions_a=good > 0.5,
        decisions_b=poor > 0.5,
    )
    assert result.difference > 0 and result.p_value < 0.05
    with pytest.raises(BadInputError, match="decisions_b"):
        paired_bootstrap(labels, good, poor, key="F-score-macro", decisions_a=good > 0.5)


# -- bad input -------------------------------------------------------------------------------------


def test_shape_errors_raise_format_error():
    labels, good, poor = _paired_case()
    with pytest.raises(FormatError, match="transposed"):
        bootstrap_intervals(labels, good.T, n=5)
    with pytest.raises(FormatError, match="prediction set B"):
        paired_bootstrap(labels, good, poor[:100], n=5)
    with pytest.raises(FormatError):
        paired_bootstrap(labels[:, :3], good, poor, n=5)
    with pytest.raises(FormatError, match="decisions"):
        bootstrap_replicates(labels, good, good, n=5)  # scores passed as decisions
    with pytest.raises(FormatError, match="outside"):
        score_resamples(labels, good, [np.array([0, 200])])
    with pytest.raises(FormatError, match="1-D"):
        score_resamples(labels, good, np.arange(5))


def test_bad_options_raise():
    labels, good, _ = _paired_case()
    with pytest.raises(UnknownNameError, match="PR-AUC-macro"):
        bootstrap_intervals(labels, good, n=5, keys=["PR-AUC"])
    with pytest.raises(BadInputError, match="need decisions"):
        bootstrap_intervals(labels, good, n=5, keys=list(DECISION_KEYS))
    with pytest.raises(BadInputError, match="replicates"):
        bootstrap_intervals(labels, good, n=0)
    with pytest.raises(BadInputError, match="confidence"):
        bootstrap_intervals(labels, good, n=5, confidence=95)
    with pytest.raises(BadInputError, match="seed"):
        bootstrap_replicates(labels, good, n=5, seed=0.5)
    with pytest.raises(BadInputError, match="chunk_size"):
        bootstrap_replicates(labels, good, n=5, chunk_size=0)
