"""`harness score` on the real MediaEval 2019 runs gives the published figures (needs ../shared)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
RUN1 = REFERENCE / "mediaeval2019" / "submissions" / "YL-UTokyo" / "run1"
pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(
        not (RUN1 / "predictions.npy").is_file(), reason=f"licensed reference data not found at {REFERENCE}"
    ),
]


def test_vgg6_paper_run_scores_as_published() -> None:
    result = CliRunner().invoke(
        app,
        [
            "score",
            str(RUN1 / "predictions.npy"),
            "--dataset",
            "mtg-jamendo-moodtheme",
            "--root",
            str(REFERENCE / "mtg-jamendo"),
            "--decisions",
            str(RUN1 / "decisions.npy"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert round(doc["PR-AUC-macro"], 6) == 0.125564
    assert round(doc["ROC-AUC-macro"], 6) == 0.753199
    # YL-UTokyo run1's submitted decisions are those of thresholds fitted on the test labels: marked as such
    assert doc["thresholds_source"] == "test" and doc["n_items"] == 4231
    # table 3 of the paper: best and worst tags by PR-AUC
    pr = {tag: values["PR-AUC"] for tag, values in doc["per_tag"].items()}
    assert len(pr) == 56 and len(doc["top_tags"]) == len(doc["bottom_tags"]) == 5
    assert doc["top_tags"] == sorted(pr, key=lambda t: (-pr[t], t))[:5]
    assert doc["bottom_tags"] == sorted(pr, key=lambda t: (pr[t], t))[:5]


def test_wrong_split_is_refused() -> None:
    result = CliRunner().invoke(
        app,
        [
            "score",
            str(RUN1 / "predictions.npy"),
            "--dataset",
            "mtg-jamendo-moodtheme",
            "--root",
            str(REFERENCE / "mtg-jamendo"),
            "--split",
            "validation",
        ],
    )
    assert result.exit_code == 2 and "3802 items x 56 tags" in result.output


def test_thresholds_on_test_reproduce_the_2019_baseline_and_are_marked(isolated_paths: Path) -> None:
    results = REFERENCE / "mtg-jamendo" / "results" / "mediaeval2019"
    published = dict(
        line.split("\t") for line in (results / "baseline_vggish_results.tsv").read_text().splitlines() if line
    )
    result = CliRunner().invoke(
        app,
        [
            "score",
            str(results / "baseline_vggish_predictions.npy"),
            "--dataset",
            "mtg-jamendo-moodtheme",
            "--root",
            str(REFERENCE / "mtg-jamendo"),
            "--thresholds-on-test",
            "--json",
            "--record",
            "--name",
            "baseline/vggish",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["thresholds_source"] == "test"
    for key, value in published.items():
        assert round(doc[key], 6) == float(value), key
    from harness.results.store import ResultsStore

    record = ResultsStore(isolated_paths / "runs" / "results.sqlite").get(doc["run_id"])
    assert record.thresholds_source == "test"
    import hashlib

    digest = hashlib.sha256((results / "baseline_vggish_predictions.npy").read_bytes()).hexdigest()
    assert record.provenance["predictions_sha256"] == digest and record.provenance["scored_at"]
    table = CliRunner().invoke(
        app,
        [
            "score",
            str(results / "baseline_vggish_predictions.npy"),
            "--dataset",
            "mtg-jamendo-moodtheme",
            "--root",
            str(REFERENCE / "mtg-jamendo"),
            "--thresholds-on-test",
        ],
    )
    assert "thresholds fitted on the test labels" in table.output


def test_the_2019_winner_beats_run1_significantly() -> None:
    cp_jku = REFERENCE / "mediaeval2019" / "submissions" / "CP-JKU" / "3_avg_ensemble" / "predictions.npy"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            str(cp_jku),
            str(RUN1 / "predictions.npy"),
            "--dataset",
            "mtg-jamendo-moodtheme",
            "--root",
            str(REFERENCE / "mtg-jamendo"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert round(doc["value_a"], 6) == 0.154609 and round(doc["value_b"], 6) == 0.125564
    assert doc["low"] > 0 and doc["p_value"] < 0.01
