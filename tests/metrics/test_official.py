"""The official MediaEval keys against direct scikit-learn calls; edge cases; input validation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics

from harness.errors import BadInputError, FormatError
from harness.metrics.official import (
    DECISION_KEYS,
    OFFICIAL_KEYS,
    SCORE_KEYS,
    OfficialScores,
    official_scores,
    per_tag_scores,
)
from harness.metrics.validate import validate_predictions


def _sklearn_official(labels, scores, decisions=None):
    """What the official evaluate.py computes: the same calls, written out independently."""
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for average in ("macro", "micro"):
            results["ROC-AUC-" + average] = metrics.roc_auc_score(labels, scores, average=average)
            results["PR-AUC-" + average] = metrics.average_precision_score(labels, scores, average=average)
            if decisions is not None:
                p, r, f, _ = metrics.precision_recall_fscore_support(labels, decisions, average=average)
                results["precision-" + average] = p
                results["recall-" + average] = r
                results["F-score-" + average] = f
    return results


def _random_case(n_items, n_tags, seed, positive_rate=0.1):
    """Labels with at least one positive and one negative per tag; float32 scores; decisions."""
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < positive_rate
    labels[0, :] = True
    labels[1, :] = False
    scores = (rng.random((n_items, n_tags)) + 0.5 * labels).astype(np.float32)
    decisions = rng.random((n_items, n_tags)) < 0.2
    return labels, scores, decisions


# -- keys ------------------------------------------------------------------------------------------


def test_key_sets():
    assert len(OFFICIAL_KEYS) == 10 and len(set(OFFICIAL_KEYS)) == 10
    assert set(SCORE_KEYS) | set(DECISION_KEYS) == set(OFFICIAL_KEYS)
    assert not set(SCORE_KEYS) & set(DECISION_KEYS)
    # the row order of the official results.tsv files
    assert OFFICIAL_KEYS[:5] == ("ROC-AUC-macro", "PR-AUC-macro", "precision-macro", "recall-macro", "F-score-macro")


@pytest.mark.parametrize("shape", [(30, 2), (200, 5), (500, 17), (4231, 56)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_key_equals_sklearn_bit_for_bit(shape, seed):
    labels, scores, decisions = _random_case(*shape, seed)
    result = official_scores(labels, scores, decisions)
    expected = _sklearn_official(labels, scores, decisions)
    assert list(result.values) == list(OFFICIAL_KEYS)
    for key in OFFICIAL_KEYS:
        assert type(result.values[key]) is float
        assert result.values[key] == expected[key], key
    assert result.excluded_tags == ()
    assert result.roc_auc_excluded_tags == ()


@pytest.mark.parametrize("seed", [0, 5])
def test_integer_and_float_inputs_equal_bool_inputs(seed):
    labels, scores, decisions = _random_case(300, 8, seed)
    a = official_scores(labels, scores, decisions)
    b = official_scores(labels.astype(np.int64), scores.astype(np.float64), decisions.astype(float))
    assert a.values == b.values


def test_without_decisions_only_score_keys():
    labels, scores, _ = _random_case(100, 4, 3)
    result = official_scores(labels, scores)
    assert set(result.values) == set(SCORE_KEYS)
    assert [k for k in OFFICIAL_KEYS if k in result.values] == list(result.values)


def test_bool_scores_are_accepted_like_the_popular_baseline():
    labels, _, decisions = _random_case(200, 6, 4)
    result = official_scores(labels, decisions, decisions)
    expected = _sklearn_official(labels, decisions, decisions)
    assert result.values == expected


# -- excluded tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_tags_without_positives_are_left_out_of_macro_means(seed):
    labels, scores, decisions = _random_case(400, 9, seed)
    empty = [2, 7]
    labels[:, empty] = False
    tags = [f"mood/theme---t{j}" for j in range(9)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing leaks from scikit-learn
        result = official_scores(labels, scores, decisions, tags=tags)

    kept = [j for j in range(9) if j not in empty]
    on_kept = _sklearn_official(labels[:, kept], scores[:, kept], decisions[:, kept])
    on_all = _sklearn_official(labels, scores, decisions)
    for key in OFFICIAL_KEYS:
        expected = on_kept[key] if key.endswith("macro") else on_all[key]
        assert result.values[key] == expected, key
        assert not math.isnan(result.values[key])
    assert result.excluded_tags == ("mood/theme---t2", "mood/theme---t7")
    assert result.roc_auc_excluded_tags == ("mood/theme---t2", "mood/theme---t7")
    assert any(
        w.startswith("2 tags have no positives") and w.endswith("mood/theme---t2, mood/theme---t7")
        for w in result.warnings
    ), result.warnings


def test_default_tag_names_in_warning():
    labels, scores, _ = _random_case(100, 4, 0)
    labels[:, 1] = False
    result = official_scores(labels, scores)
    assert result.excluded_tags == ("tag-1",)
    assert result.warnings == ("1 tag has no positives in this split and is left out of macro means: tag-1",)


def test_tag_without_negatives_is_left_out_of_roc_auc_macro_only():
    labels, scores, decisions = _random_case(300, 6, 1)
    labels[:, 4] = True
    result = official_scores(labels, scores, decisions)
    assert result.excluded_tags == ()
    assert result.roc_auc_excluded_tags == ("tag-4",)
    assert any("no negatives" in w and w.endswith("tag-4") for w in result.warnings)
    kept = [0, 1, 2, 3, 5]
    expected = _sklearn_official(labels, scores, decisions)
    roc_kept = metrics.roc_auc_score(labels[:, kept], scores[:, kept], average="macro")
    assert result.values["ROC-AUC-macro"] == roc_kept
    for key in OFFICIAL_KEYS:
        if key != "ROC-AUC-macro":
            assert result.values[key] == expected[key], key


def test_single_kept_tag_is_scored_as_that_tag():
    labels, scores, decisions = _random_case(200, 3, 2)
    labels[:, [0, 2]] = False
    result = official_scores(labels, scores, decisions)
    p, r, f, _ = metrics.precision_recall_fscore_support(labels[:, 1], decisions[:, 1])
    assert result.values["precision-macro"] == p[1]
    assert result.values["recall-macro"] == r[1]
    assert result.values["F-score-macro"] == f[1]
    assert result.values["ROC-AUC-macro"] == metrics.roc_auc_score(labels[:, 1], scores[:, 1])
    assert result.values["PR-AUC-macro"] == metrics.average_precision_score(labels[:, 1], scores[:, 1])
    per_tag = per_tag_scores(labels, scores, decisions)
    assert list(per_tag) == ["tag-1"]
    assert per_tag["tag-1"]["precision"] == p[1]


def test_tag_without_positive_decisions_is_warned_and_counts_zero():
    labels, scores, decisions = _random_case(200, 5, 3)
    decisions[:, 3] = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = official_scores(labels, scores, decisions)
    assert result.values["precision-macro"] == _sklearn_official(labels, scores, decisions)["precision-macro"]
    assert any("no positive decisions" in w and w.endswith("tag-3") for w in result.warnings)


def test_no_tag_with_both_classes_is_bad_input():
    labels = np.zeros((10, 3), dtype=bool)
    labels[:, 0] = True
    with pytest.raises(BadInputError, match="no tag of the 3 has both"):
        official_scores(labels, np.random.default_rng(0).random((10, 3)))


# -- per-tag ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_per_tag_scores_match_sklearn_and_average_to_macro(seed):
    labels, scores, decisions = _random_case(300, 7, seed)
    labels[:, 5] = False
    tags = [f"t{j}" for j in range(7)]
    per_tag = per_tag_scores(labels, scores, decisions, tags=tags)
    assert list(per_tag) == ["t0", "t1", "t2", "t3", "t4", "t6"]
    p, r, f, _ = metrics.precision_recall_fscore_support(labels, decisions, average=None, zero_division=0)
    for j, tag in enumerate(tags):
        if tag not in per_tag:
            continue
        entry = per_tag[tag]
        assert entry["ROC-AUC"] == metrics.roc_auc_score(labels[:, j], scores[:, j])
        assert entry["PR-AUC"] == metrics.average_precision_score(labels[:, j], scores[:, j])
        assert (entry["precision"], entry["recall"], entry["F-score"]) == (p[j], r[j], f[j])
        assert all(type(v) is float for v in entry.values())
    overall = official_scores(labels, scores, decisions, tags=tags).values
    for name, key in [
        ("ROC-AUC", "ROC-AUC-macro"),
        ("PR-AUC", "PR-AUC-macro"),
        ("precision", "precision-macro"),
        ("F-score", "F-score-macro"),
    ]:
        assert np.average([e[name] for e in per_tag.values()]) == overall[key]


def test_per_tag_without_decisions_and_without_negatives():
    labels, scores, _ = _random_case(100, 3, 0)
    labels[:, 0] = True
    per_tag = per_tag_scores(labels, scores)
    assert set(per_tag["tag-0"]) == {"PR-AUC"}
    assert set(per_tag["tag-1"]) == {"ROC-AUC", "PR-AUC"}


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [official_scores, per_tag_scores])
def test_transposed_scores(function):
    labels, scores, _ = _random_case(50, 4, 0)
    with pytest.raises(FormatError, match=r"\(4, 50\).*\(50, 4\).*transposed"):
        function(labels, scores.T)


def test_shape_mismatches_name_both_shapes():
    labels, scores, decisions = _random_case(50, 4, 0)
    with pytest.raises(FormatError, match=r"\(50, 3\).*\(50, 4\).*tag"):
        official_scores(labels, scores[:, :3])
    with pytest.raises(FormatError, match=r"\(40, 4\).*\(50, 4\).*split"):
        official_scores(labels, scores[:40])
    with pytest.raises(FormatError, match=r"decisions have shape \(4, 50\).*transposed"):
        official_scores(labels, scores, decisions.T)


def test_nan_and_inf_scores_are_counted():
    labels, scores, _ = _random_case(50, 4, 0)
    scores = scores.astype(np.float64)
    scores[3, 1] = np.nan
    scores[7, 2] = np.nan
    scores[9, 0] = np.inf
    with pytest.raises(FormatError) as info:
        official_scores(labels, scores)
    message = str(info.value)
    assert "2 NaN" in message and "1 infinite" in message and "(50, 4)" in message
    assert "row 3, column 1" in message


def test_labels_not_binary():
    labels, scores, _ = _random_case(50, 4, 0)
    bad = labels.astype(np.int64)
    bad[0, 0] = 2
    with pytest.raises(FormatError, match=r"1 value\(s\) out of 200 that are not 0 or 1.*2"):
        official_scores(bad, scores)
    with pytest.raises(FormatError, match="swapped"):
        official_scores(scores, labels)  # scores passed as labels
    with pytest.raises(FormatError, match="-1/"):
        official_scores(np.where(labels, 1, -1), scores)


def test_decisions_not_binary():
    labels, scores, _ = _random_case(50, 4, 0)
    with pytest.raises(FormatError, match="decisions.*not 0 or 1.*apply_thresholds"):
        official_scores(labels, scores, scores)


def test_empty_and_wrong_dimensions():
    with pytest.raises(FormatError, match=r"empty, shape \(0, 4\)"):
        official_scores(np.zeros((0, 4), bool), np.zeros((0, 4)))
    with pytest.raises(FormatError, match=r"1 dimension.*reshape"):
        official_scores(np.array([0, 1, 1]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(FormatError, match="3 dimension"):
        official_scores(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(FormatError, match="dtype"):
        official_scores(np.array([["a", "b"]]), np.zeros((1, 2)))


def test_wrong_number_of_tag_names():
    labels, scores, _ = _random_case(50, 4, 0)
    with pytest.raises(FormatError, match="3 tag names for 4 tag columns"):
        official_scores(labels, scores, tags=["a", "b", "c"])
    with pytest.raises(FormatError, match="repeat: a"):
        official_scores(labels, scores, tags=["a", "b", "a", "c"])


def test_validate_returns_normalised_arrays():
    labels, scores, decisions = _random_case(20, 3, 0)
    out = validate_predictions(labels.astype(float), scores, decisions.astype(np.int8))
    assert out.labels.dtype == bool and out.decisions.dtype == bool
    assert out.scores is scores or np.shares_memory(out.scores, scores)


def test_result_is_frozen():
    labels, scores, _ = _random_case(50, 3, 0)
    result = official_scores(labels, scores)
    assert isinstance(result, OfficialScores)
    with pytest.raises(AttributeError):
        result.values = {}  # type: ignore[misc]


# -- properties ------------------------------------------------------------------------------------


@st.composite
def _integer_case(draw):
    n_items = draw(st.integers(4, 40))
    n_tags = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < draw(st.floats(0.05, 0.95))
    labels[0] = True
    labels[1] = False
    levels = draw(st.integers(2, 12))  # few levels: many ties
    scores = rng.integers(0, levels, size=(n_items, n_tags))
    return labels, scores, levels, rng


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_integer_case())
def test_score_keys_invariant_to_strictly_increasing_transform(case):
    labels, scores, levels, rng = case
    # a random strictly increasing map of the levels, applied to every score
    steps = rng.uniform(0.01, 10.0, size=levels)
    mapped = (np.cumsum(steps) - 3.0)[scores]
    cubed = np.asarray(scores, dtype=np.float64) ** 3 + 0.5
    base = official_scores(labels, scores).values
    assert official_scores(labels, mapped).values == base
    assert official_scores(labels, cubed).values == base


@settings(max_examples=100, deadline=None)
@given(_integer_case(), st.lists(st.booleans(), min_size=6, max_size=6))
def test_values_are_finite_and_match_sklearn_on_kept_columns(case, empty):
    labels, scores, _, rng = case
    labels = labels.copy()
    for j, e in enumerate(empty[: labels.shape[1]]):
        if e:
            labels[:, j] = False
    decisions = rng.random(labels.shape) < 0.3
    if not (labels.any(axis=0) & ~labels.all(axis=0)).any():
        with pytest.raises(BadInputError):
            official_scores(labels, scores, decisions)
        return
    result = official_scores(labels, scores, decisions)
    keep = labels.any(axis=0)
    roc_keep = keep & ~labels.all(axis=0)
    assert all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in result.values.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if roc_keep.sum() >= 2:
            assert result.values["ROC-AUC-macro"] == metrics.roc_auc_score(
                labels[:, roc_keep], scores[:, roc_keep], average="macro"
            )
        if keep.sum() >= 2:  # one kept column is a binary problem to scikit-learn: tested elsewhere
            assert result.values["PR-AUC-macro"] == metrics.average_precision_score(
                labels[:, keep], scores[:, keep], average="macro"
            )
            p, r, f, _ = metrics.precision_recall_fscore_support(labels[:, keep], decisions[:, keep], average="macro")
            assert (
                result.values["precision-macro"],
                result.values["recall-macro"],
                result.values["F-score-macro"],
            ) == (p, r, f)
        # every key, bit for bit: micro keys use every cell
        assert result.values["PR-AUC-micro"] == metrics.average_precision_score(labels, scores, average="micro")
        assert result.values["ROC-AUC-micro"] == metrics.roc_auc_score(labels, scores, average="micro")
        p, r, f, _ = metrics.precision_recall_fscore_support(labels, decisions, average="micro")
        assert (result.values["precision-micro"], result.values["recall-micro"], result.values["F-score-micro"]) == (
            p,
            r,
            f,
        )
