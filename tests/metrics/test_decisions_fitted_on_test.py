"""Detecting decisions made with thresholds fitted on the test labels, against the task's own script.

The oracle is ``calculate_decisions.py`` of the MediaEval 2019 task, written here with
scikit-learn as the task wrote it (``precision_recall_curve``, ``nan_to_num`` F1,
``thresholds[argmax]``, strict ``>``); and, for the F1-maximal rule, scikit-learn's curve with ``>=``.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from harness.errors import FormatError
from harness.metrics.decisions import (
    apply_thresholds,
    decisions_fitted_on_test,
    fit_thresholds_on_validation,
)


def _curve(y, s):
    precision, recall, thresholds = metrics.precision_recall_curve(y, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_score = np.nan_to_num(2 * precision * recall / (precision + recall))
    return f_score, thresholds


def _calculate_decisions(labels, scores):
    """The task's calculate_decisions.py: per tag thresholds[argmax(f_score)], then predictions > thresholds."""
    thresholds = []
    for j in range(labels.shape[1]):
        f_score, thr = _curve(labels[:, j], scores[:, j])
        thresholds.append(thr[np.argmax(f_score)])
    return scores > np.array(thresholds, dtype=scores.dtype)


def _f1_maximal(labels, scores):
    """The F1-maximal operating point of scikit-learn's curve: scores >= thresholds[argmax(f_score)]."""
    columns = []
    for j in range(labels.shape[1]):
        f_score, thr = _curve(labels[:, j], scores[:, j])
        columns.append(scores[:, j] >= thr[np.argmax(f_score)])
    return np.stack(columns, axis=1)


@st.composite
def _test_split(draw):
    """Labels with a positive in every tag (the script has no other case) and scores, often tied."""
    n_items = draw(st.integers(2, 40))
    n_tags = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    labels = rng.random((n_items, n_tags)) < draw(st.floats(0.05, 0.9))
    labels[rng.integers(0, n_items, n_tags), np.arange(n_tags)] = True
    if draw(st.booleans()):  # few levels: many ties, which the script's strict > leaves out
        scores = rng.integers(0, draw(st.integers(1, 6)), size=(n_items, n_tags)) / 4.0
    else:
        scores = rng.random((n_items, n_tags))
    return labels, scores.astype(draw(st.sampled_from([np.float64, np.float32])))


@settings(max_examples=300, deadline=None)
@given(_test_split())
def test_the_scripts_decisions_are_detected(case):
    labels, scores = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        decisions = _calculate_decisions(labels, scores)
    assert decisions_fitted_on_test(labels, scores, decisions)
    assert decisions_fitted_on_test(labels, scores, decisions.astype(np.int8))  # 0/1 as saved in .npy


@settings(max_examples=200, deadline=None)
@given(_test_split())
def test_f1_maximal_decisions_on_the_same_labels_are_detected(case):
    labels, scores = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        decisions = _f1_maximal(labels, scores)
    assert decisions_fitted_on_test(labels, scores, decisions)
    # the harness's own fit, had it been run on these labels, is the same point
    assert decisions_fitted_on_test(
        labels, scores, apply_thresholds(scores, fit_thresholds_on_validation(labels, scores))
    )


def _split(seed: int = 0, n_items: int = 400, n_tags: int = 8):
    rng = np.random.default_rng(seed)
    labels = rng.random((n_items, n_tags)) < 0.15
    scores = np.clip(labels + rng.normal(0, 0.7, labels.shape), 0, 1)
    return rng, labels, scores


def test_decisions_made_otherwise_are_not():
    rng, labels, scores = _split()
    assert decisions_fitted_on_test(labels, scores, _calculate_decisions(labels, scores))
    assert not decisions_fitted_on_test(labels, scores, scores > 0.5)  # a fixed threshold
    top3 = np.zeros(labels.shape, dtype=bool)  # top-k per item
    np.put_along_axis(top3, np.argsort(-scores, axis=1)[:, :3], True, axis=1)
    assert not decisions_fitted_on_test(labels, scores, top3)
    validation = rng.random(labels.shape) < 0.15  # thresholds fitted on other labels, as a run should
    fitted_elsewhere = apply_thresholds(scores, fit_thresholds_on_validation(validation, scores))
    assert not decisions_fitted_on_test(labels, scores, fitted_elsewhere)


def test_one_changed_decision_is_enough():
    _, labels, scores = _split(1)
    decisions = _calculate_decisions(labels, scores)
    for item, tag in ((0, 0), (17, 3), (399, 7)):
        changed = decisions.copy()
        changed[item, tag] = not changed[item, tag]
        assert not decisions_fitted_on_test(labels, scores, changed)


def test_one_rule_for_every_tag_not_a_choice_per_tag():
    """The 2019 "popular" baseline: constant scores, its one tag predicted everywhere and nothing else.

    On a constant column the script predicts nothing and the F1-maximal point everything, so either
    column alone "is a threshold"; mixed across tags they are not fitted decisions.
    """
    labels = np.random.default_rng(2).random((300, 4)) < np.array([0.5, 0.2, 0.1, 0.05])
    scores = np.tile(labels.mean(axis=0), (300, 1))
    popular = np.zeros(labels.shape, dtype=bool)
    popular[:, 0] = True
    assert not decisions_fitted_on_test(labels, scores, popular)
    assert decisions_fitted_on_test(labels, scores, _calculate_decisions(labels, scores))  # nothing
    assert decisions_fitted_on_test(labels, scores, np.ones(labels.shape, dtype=bool))  # everything
    # and on ordinary scores: the script's rule on some tags and the F1-maximal point on others
    _, labels, scores = _split(3)
    script, maximal = _calculate_decisions(labels, scores), _f1_maximal(labels, scores)
    differ = np.flatnonzero((script != maximal).any(axis=0))
    assert differ.size >= 2
    mixed = script.copy()
    mixed[:, differ[0]] = maximal[:, differ[0]]
    assert not decisions_fitted_on_test(labels, scores, mixed)


def test_a_tag_without_positives_must_have_no_decision():
    _, labels, scores = _split(4, n_tags=4)
    labels[:, 2] = False
    decisions = _f1_maximal(labels[:, [0, 1, 3]], scores[:, [0, 1, 3]])
    full = np.insert(decisions, 2, False, axis=1)
    assert decisions_fitted_on_test(labels, scores, full)
    full[5, 2] = True
    assert not decisions_fitted_on_test(labels, scores, full)


def test_decisions_are_validated():
    _, labels, scores = _split(5, n_items=20, n_tags=3)
    with pytest.raises(FormatError, match=r"shape \(3, 20\); expected \(20, 3\)"):
        decisions_fitted_on_test(labels, scores, np.zeros((3, 20)))
    with pytest.raises(FormatError, match="0/1"):
        decisions_fitted_on_test(labels, scores, np.full((20, 3), 0.5))


def test_fast_enough_for_the_mtg_jamendo_test_split():
    rng = np.random.default_rng(6)
    labels = rng.random((4231, 56)) < 0.04
    scores = rng.random((4231, 56)).astype(np.float32)
    decisions = apply_thresholds(scores, fit_thresholds_on_validation(labels, scores))
    start = time.perf_counter()
    assert decisions_fitted_on_test(labels, scores, decisions)
    assert time.perf_counter() - start < 2.0


REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
SUBMISSIONS = REFERENCE / "mediaeval2019" / "submissions"


FITTED_ON_TEST = {
    "AMLAG/submission2/predictions.npy",
    *(f"AugLi/{run}-predictions.npy" for run in ("all", "crnn", "ds-1s", "ds-5s", "ds-all")),
    *(f"CP-JKU/{run}/predictions.npy" for run in ("1_shakefaresnet", "2_faresnet", "3_avg_ensemble", "4_crnn")),
    "CP-JKU/5_resnet34/predictions.npy",
    "YL-UTokyo/run1/predictions.npy",
    "baseline/vggish_predictions.npy",
}


@pytest.mark.reference
@pytest.mark.skipif(not SUBMISSIONS.is_dir(), reason=f"licensed MediaEval 2019 submissions not found under {REFERENCE}")
def test_the_13_published_runs_fitted_on_test():
    """Of the 29 runs of 2019, exactly these 13 submitted the script's decisions on the test labels."""
    from harness.scoring import match_file

    found, checked = set(), 0
    for predictions in sorted(SUBMISSIONS.rglob("*predictions.npy")):
        decisions = predictions.with_name(predictions.name.replace("predictions", "decisions"))
        matched = match_file(
            predictions, "mtg-jamendo-moodtheme", "split-0", "test", REFERENCE / "mtg-jamendo", decisions=decisions
        )
        labels, scores = matched.target.labels, matched.predictions.scores
        detected = decisions_fitted_on_test(labels, scores, matched.decisions)
        assert detected == (matched.source == "test")  # score --decisions marks them so
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert detected == np.array_equal(_calculate_decisions(labels, scores), matched.decisions), predictions
        checked += 1
        if detected:
            found.add(predictions.relative_to(SUBMISSIONS).as_posix())
    assert checked == 29 and len(FITTED_ON_TEST) == 13
    assert found == FITTED_ON_TEST
