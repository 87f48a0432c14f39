"""The official metrics and the 2019 decision rule on the real MediaEval 2019 files.

Reads ``../shared/reference`` (next to the repository root) and never copies it into the project;
skipped with a reason where it is absent. The same code paths are covered on generated data by
``test_official.py`` and ``test_decisions.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from harness.metrics.decisions import (
    apply_thresholds,
    fit_thresholds_as_mediaeval2019,
    fit_thresholds_on_validation,
)
from harness.metrics.official import OFFICIAL_KEYS, official_scores, per_tag_scores

pytestmark = pytest.mark.reference

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / ".." / "shared" / "reference"
RESULTS = REFERENCE / "mtg-jamendo" / "results" / "mediaeval2019"
SUBMISSIONS = REFERENCE / "mediaeval2019" / "submissions"
TAG_FILE = REFERENCE / "mtg-jamendo" / "data" / "tags" / "moodtheme_split.txt"


def _need(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(
            "MediaEval 2019 reference data not found (expected the licensed files under "
            f"../shared/reference next to the repository root): missing {', '.join(missing)}"
        )


def _load(path: Path) -> np.ndarray:
    _need(path)
    return np.load(path)


def _read_results_tsv(path: Path) -> dict[str, str]:
    """key -> value as printed (the official script writes '%.6f')."""
    _need(path)
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
    return {key.strip(): value.strip() for key, value in rows}


@pytest.fixture(scope="module")
def groundtruth() -> np.ndarray:
    return _load(RESULTS / "groundtruth.npy")


@pytest.fixture(scope="module")
def tags() -> list[str]:
    _need(TAG_FILE)
    lines = TAG_FILE.read_text().splitlines()
    return [line.split("\t")[0].strip() for line in lines if line.strip()]


def test_groundtruth_is_the_split_0_test_matrix(groundtruth, tags):
    assert groundtruth.dtype == bool and groundtruth.shape == (4231, 56)
    assert len(tags) == 56 and tags == sorted(tags)


@pytest.mark.parametrize("baseline", ["vggish", "popular"])
def test_baseline_results_tsv_is_reproduced(groundtruth, tags, baseline):
    published = _read_results_tsv(RESULTS / f"baseline_{baseline}_results.tsv")
    decisions = _load(RESULTS / f"baseline_{baseline}_decisions.npy")
    if baseline == "vggish":
        scores = _load(RESULTS / "baseline_vggish_predictions.npy")
    else:  # the always-"happy" baseline was scored with its decisions as predictions
        scores = _load(SUBMISSIONS / "baseline" / "popular_predictions.npy")
        np.testing.assert_array_equal(scores, decisions)
    result = official_scores(groundtruth, scores, decisions, tags=tags)
    assert list(published) == list(OFFICIAL_KEYS)  # the TSV's row order is ours
    assert result.excluded_tags == () and result.roc_auc_excluded_tags == ()
    for key, printed in published.items():
        assert f"{result.values[key]:.6f}" == printed, key


@pytest.mark.parametrize(
    ("predictions", "pr_auc_macro", "roc_auc_macro"),
    [
        (RESULTS / "baseline_vggish_predictions.npy", 0.107734, 0.725821),
        (SUBMISSIONS / "baseline" / "vggish_predictions.npy", 0.107734, 0.725821),
        (SUBMISSIONS / "YL-UTokyo" / "run1" / "predictions.npy", 0.125564, 0.753199),
    ],
    ids=["vggish-baseline", "vggish-submission-copy", "YL-UTokyo-run1"],
)
def test_published_primary_figures(groundtruth, predictions, pr_auc_macro, roc_auc_macro):
    values = official_scores(groundtruth, _load(predictions)).values
    assert round(values["PR-AUC-macro"], 6) == pr_auc_macro
    assert round(values["ROC-AUC-macro"], 6) == roc_auc_macro


def test_per_tag_scores_average_to_the_published_macro(groundtruth, tags):
    scores = _load(RESULTS / "baseline_vggish_predictions.npy")
    per_tag = per_tag_scores(groundtruth, scores, tags=tags)
    assert list(per_tag) == tags
    assert round(float(np.mean([e["PR-AUC"] for e in per_tag.values()])), 6) == 0.107734


def test_mediaeval2019_rule_reproduces_the_published_thresholds_and_decisions(groundtruth, tags):
    scores = _load(RESULTS / "baseline_vggish_predictions.npy")
    threshold_file = RESULTS / "baseline_vggish_thresholds.txt"
    _need(threshold_file)
    rows = [line.split("\t") for line in threshold_file.read_text().splitlines() if line.strip()]
    assert [tag for tag, _ in rows] == tags
    published = np.array([float(value) for _, value in rows])

    thresholds = fit_thresholds_as_mediaeval2019(groundtruth, scores)
    np.testing.assert_array_equal(thresholds, published)
    decisions = apply_thresholds(scores, thresholds)
    np.testing.assert_array_equal(decisions, _load(RESULTS / "baseline_vggish_decisions.npy"))


def test_harness_rule_reaches_each_tags_best_f1(groundtruth):
    """Fitted on the same (test) labels, the harness rule's per-tag F1 is never below 2019's."""
    scores = _load(RESULTS / "baseline_vggish_predictions.npy")
    ours = apply_thresholds(scores, fit_thresholds_on_validation(groundtruth, scores))
    theirs = _load(RESULTS / "baseline_vggish_decisions.npy")
    ours_f = [e["F-score"] for e in per_tag_scores(groundtruth, scores, ours).values()]
    theirs_f = [e["F-score"] for e in per_tag_scores(groundtruth, scores, theirs).values()]
    assert all(a >= b for a, b in zip(ours_f, theirs_f))
    assert np.mean(ours_f) > np.mean(theirs_f)


def _submitted_runs() -> list[tuple[str, Path, Path | None]]:
    """(team/run, predictions, decisions or None) of every MediaEval 2019 run, as the recorder finds them."""
    if not SUBMISSIONS.is_dir():
        return []
    script = REPO / "leaderboards" / "record_mediaeval2019.py"
    spec = importlib.util.spec_from_file_location("record_mediaeval2019", script)
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    return [
        (f"{team}/{run}", predictions, decisions)
        for team, run, predictions, decisions in recorder.find_runs(SUBMISSIONS)
    ]


def test_every_2019_run_equals_sklearn_bit_for_bit(groundtruth, tags):
    """All ten keys and every per-tag value of all 29 runs, against the official script's own calls, with ``==``."""
    import warnings

    from sklearn import metrics

    runs = _submitted_runs()
    if not runs:
        pytest.skip(f"MediaEval 2019 submissions not found under {SUBMISSIONS}")
    assert len(runs) == 29
    for name, predictions, decisions_path in runs:
        scores = np.load(predictions)
        decisions = np.load(decisions_path).astype(bool) if decisions_path is not None else None
        result = official_scores(groundtruth, scores, decisions, tags=tags)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for average in ("macro", "micro"):
                assert result.values[f"ROC-AUC-{average}"] == metrics.roc_auc_score(
                    groundtruth, scores, average=average
                ), name
                assert result.values[f"PR-AUC-{average}"] == metrics.average_precision_score(
                    groundtruth, scores, average=average
                ), name
                if decisions is not None:
                    p, r, f, _ = metrics.precision_recall_fscore_support(groundtruth, decisions, average=average)
                    assert (
                        result.values[f"precision-{average}"],
                        result.values[f"recall-{average}"],
                        result.values[f"F-score-{average}"],
                    ) == (p, r, f), name
            per_tag_pr = metrics.average_precision_score(groundtruth, scores, average=None)
        assert [entry["PR-AUC"] for entry in result.per_tag.values()] == per_tag_pr.tolist(), name
