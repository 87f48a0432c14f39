"""`harness score --record`: intervals recorded by default, and given decisions fitted on test marked so."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics
from typer.testing import CliRunner

from harness.cli import app
from harness.leaderboard.cells import badges
from harness.results.store import ResultsStore

runner = CliRunner()


@pytest.fixture
def moods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, np.ndarray, str]:
    """A one-fold tsv dataset of 200 items (test part: 80), its test labels and a prediction file for them."""
    folder = tmp_path / "registry" / "moods"
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text(
        'name = "moods"\nfamily = "tsv"\n[tags]\nnames = ["a", "b", "c", "d"]\n[folds]\nnames = ["split-0"]\n'
        '[source]\nitems = "items.tsv"\n'
    )
    rng = np.random.default_rng(0)
    labels = rng.random((200, 4)) < 0.3
    splits = ["train"] * 80 + ["validation"] * 40 + ["test"] * 80
    rows = ["id\tpath\ttags\tsplit"] + [
        f"i{i}\ti{i}.wav\t{','.join(t for t, on in zip('abcd', labels[i]) if on)}\t{splits[i]}" for i in range(200)
    ]
    (folder / "items.tsv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path / "registry"))
    preds = tmp_path / "p.npy"
    np.save(preds, np.clip(labels[120:] + rng.normal(0, 0.6, (80, 4)), 0, 1))
    return tmp_path, labels[120:], str(preds)


def _score(*args: str) -> dict:
    result = runner.invoke(app, ["score", *args, "--dataset", "moods", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_record_bootstraps_1000_replicates_by_default(moods) -> None:
    tmp, _, preds = moods
    store = tmp / "results.sqlite"
    doc = _score(preds, "--thresholds-on-test", "--record", "--name", "t/default", "--store", str(store))
    assert doc["bootstrap"] == {"n": 1000, "seed": 0, "confidence": 0.95}
    run = ResultsStore(store).get(doc["run_id"])
    assert run.provenance["bootstrap"] == {"n": 1000, "seed": 0, "confidence": 0.95}
    assert set(run.provenance["intervals"]) == set(doc["intervals"]) and "PR-AUC-macro" in doc["intervals"]
    assert run.provenance["intervals"] == doc["intervals"]
    # the same intervals as asking for them explicitly, without recording
    asked = _score(preds, "--thresholds-on-test", "--bootstrap", "1000")
    assert asked["intervals"] == doc["intervals"]
    seeded = _score(preds, "--record", "--name", "t/seeded", "--bootstrap-seed", "3", "--store", str(store))
    assert ResultsStore(store).get(seeded["run_id"]).provenance["bootstrap"]["seed"] == 3
    fewer = _score(preds, "--record", "--name", "t/fewer", "--bootstrap", "50", "--store", str(store))
    assert ResultsStore(store).get(fewer["run_id"]).provenance["bootstrap"]["n"] == 50


def test_bootstrap_0_records_no_intervals_and_plain_score_has_none(moods) -> None:
    tmp, _, preds = moods
    store = tmp / "results.sqlite"
    doc = _score(preds, "--record", "--name", "t/none", "--bootstrap", "0", "--store", str(store))
    assert "intervals" not in doc
    run = ResultsStore(store).get(doc["run_id"])
    assert "intervals" not in run.provenance and "bootstrap" not in run.provenance
    assert "intervals" not in _score(preds)  # without --record: no bootstrap unless asked
    assert "intervals" not in _score(preds, "--bootstrap", "0")
    refused = runner.invoke(app, ["score", preds, "--dataset", "moods", "--bootstrap", "5"])
    assert refused.exit_code == 2 and "--bootstrap 5: at least 10 replicates (0: none)" in refused.output
    compare = runner.invoke(app, ["compare", preds, preds, "--dataset", "moods", "--bootstrap", "0"])
    assert compare.exit_code == 2 and "--bootstrap 0: at least 10 replicates;" in compare.output


def _calculate_decisions(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The MediaEval 2019 calculate_decisions.py, with scikit-learn as the task ran it."""
    thresholds = []
    for j in range(labels.shape[1]):
        precision, recall, thr = metrics.precision_recall_curve(labels[:, j], scores[:, j])
        with np.errstate(divide="ignore", invalid="ignore"):
            thresholds.append(thr[np.argmax(np.nan_to_num(2 * precision * recall / (precision + recall)))])
    return scores > np.array(thresholds)


def test_given_decisions_fitted_on_test_are_marked_so(moods) -> None:
    tmp, labels, preds = moods
    scores = np.load(preds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = _calculate_decisions(labels, scores)
    np.save(tmp / "fitted.npy", fitted.astype(np.int64))
    np.save(tmp / "fixed.npy", (scores > 0.5).astype(np.int64))
    assert not np.array_equal(fitted, scores > 0.5)
    store = tmp / "results.sqlite"
    marked = runner.invoke(
        app, ["score", preds, "--dataset", "moods", "--decisions", str(tmp / "fitted.npy"), "--bootstrap", "0"]
    )
    assert marked.exit_code == 0, marked.output
    assert "[thresholds fitted on test]" in marked.stdout
    assert "the given decisions equal thresholds fitted on the test labels" in " ".join(marked.stderr.split())
    doc = _score(preds, "--decisions", str(tmp / "fitted.npy"), "--record", "--name", "t/fitted", "--store", str(store))
    assert doc["thresholds_source"] == "test"
    # the decision metrics are those of the file as given, whatever its mark
    assert doc["F-score-micro"] == pytest.approx(metrics.f1_score(labels, fitted, average="micro"))
    given = _score(preds, "--decisions", str(tmp / "fixed.npy"), "--record", "--name", "t/fixed", "--store", str(store))
    assert given["thresholds_source"] == "given"
    runs = {r.run_name: r for r in ResultsStore(store).list_runs()}
    assert runs["fitted"].thresholds_source == "test" and runs["fixed"].thresholds_source == "given"
    # and on the board: the warning badge for the one, "decisions as submitted" for the other
    assert [b["text"] for b in badges(runs["fitted"])] == ["thresholds fitted on test"]
    assert [b["text"] for b in badges(runs["fixed"])] == ["decisions as submitted"]
    assert badges(runs["fixed"])[0]["kind"] == "info"


def test_a_default_bootstrap_that_cannot_run_records_without_intervals(moods, monkeypatch) -> None:
    """Asked for, a failing bootstrap is an error; by default (--record alone) a warning and no intervals."""
    from harness.errors import BadInputError
    from harness.scoring import ScoreReport

    def refuse(self, n, seed=0, confidence=0.95):
        raise BadInputError("no replicate defines PR-AUC-macro")

    monkeypatch.setattr(ScoreReport, "with_bootstrap", refuse)
    tmp, _, preds = moods
    store = tmp / "results.sqlite"
    asked = runner.invoke(app, ["score", preds, "--dataset", "moods", "--bootstrap", "100"])
    assert asked.exit_code == 2 and "no replicate defines PR-AUC-macro" in asked.output
    default = runner.invoke(
        app, ["score", preds, "--dataset", "moods", "--record", "--name", "t/r", "--store", str(store)]
    )
    assert default.exit_code == 0, default.output
    assert "no intervals recorded: no replicate defines PR-AUC-macro" in " ".join(default.stderr.split())
    assert "intervals" not in ResultsStore(store).list_runs()[0].provenance
