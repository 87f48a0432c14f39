"""The metric registry: one entry per key, the lists derived from it, aliases on every input path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from harness.errors import UnknownNameError
from harness.metrics import keys, multilabel, official, per_tag
from harness.metrics.bootstrap import bootstrap_intervals, paired_bootstrap
from harness.results.store import ResultsStore, RunRecord


def test_every_name_is_in_the_registry_once() -> None:
    names = [n for m in keys.METRICS for n in (m.key, *m.aliases)]
    assert len(names) == len(set(names))
    assert {m.metric_set for m in keys.METRICS} == {"official", "cal500", "per-tag"}
    assert set(keys.DATASET_METRIC_SETS) == {"official", "cal500"}


def test_the_old_lists_are_derived_from_the_registry() -> None:
    assert official.OFFICIAL_KEYS == keys.keys_of("official")
    assert official.SCORE_KEYS == ("ROC-AUC-macro", "PR-AUC-macro", "ROC-AUC-micro", "PR-AUC-micro")
    assert official.DECISION_KEYS == keys.keys_of("official", decisions=True)
    assert multilabel.MULTILABEL_KEYS == keys.keys_of("cal500") == official.OFFICIAL_KEYS + multilabel.CAL500_KEYS
    assert multilabel.LOWER_IS_BETTER == {m.key for m in keys.METRICS if not m.higher_is_better}
    assert multilabel.DECISION_ONLY_KEYS == {"hamming-loss"}
    assert keys.keys_of("per-tag") == ("ROC-AUC", "PR-AUC", "precision", "recall", "F-score")
    assert set(per_tag.TAG_KEYS) == {*keys.keys_of("per-tag"), "F1", "positives"}
    # what the bootstrap engine resamples is exactly the official set
    assert tuple(m.key for m in keys.METRICS if m.bootstraps) == official.OFFICIAL_KEYS
    assert keys.summary_keys() == ("PR-AUC-macro", "ROC-AUC-macro")


def test_f1_is_an_alias_of_the_official_f_score() -> None:
    assert keys.canonical("F1-macro") == "F-score-macro" and keys.canonical("F1-micro") == "F-score-micro"
    assert keys.canonical("F-score-macro") == "F-score-macro"
    assert keys.canonical("mAP") == "mAP"  # unknown names pass through; get() refuses them
    assert keys.get("F1-macro") is keys.get("F-score-macro")
    with pytest.raises(UnknownNameError, match="unknown metric 'mAP'; known: ROC-AUC-macro, PR-AUC-macro"):
        keys.get("mAP")


def test_check_metric_accepts_aliases_of_the_set_only() -> None:
    assert keys.check_metric("F1-macro", "official") == "F-score-macro"
    assert keys.check_metric("one-error", "cal500") == "one-error"
    with pytest.raises(ValueError, match="'one-error' is not a metric of the 'official' set; known: ROC-AUC-macro"):
        keys.check_metric("one-error", "official")


def test_paired_testable_keys_need_no_decisions_and_bootstrap() -> None:
    assert [k for k in keys.keys_of("cal500") if keys.paired_testable(k)] == list(official.SCORE_KEYS)
    assert not keys.paired_testable("F1-macro") and not keys.paired_testable("mAP")


def test_canonical_scores_maps_rows_written_before_the_aliases_were_settled() -> None:
    both = {"PR-AUC-macro": 0.5, "F-score-macro": 0.3, "F1-macro": 0.3, "one-error": 0.2}
    assert keys.canonical_scores(both) == {"PR-AUC-macro": 0.5, "F-score-macro": 0.3, "one-error": 0.2}
    assert list(keys.canonical_scores({"F1-macro": 0.3, "LRAP": 0.9})) == ["F-score-macro", "LRAP"]


def test_the_store_reads_old_rows_under_canonical_keys(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    fields = dict(
        dataset="cal500",
        fold="fold-0",
        split="test",
        submission="s",
        team="t",
        fingerprint="f" * 64,
        created="2024-05-01T12:00:00Z",
    )
    store.record(RunRecord(run_id="both", run_name="both", scores={"F-score-macro": 0.3, "LRAP": 0.9}, **fields))
    store.record(RunRecord(run_id="alias", run_name="alias", scores={"LRAP": 0.8}, **fields))
    with sqlite3.connect(store.path) as db:  # what the store held before: F1-macro beside F-score-macro, or alone
        db.execute("INSERT INTO scores (run_id, position, metric, value) VALUES ('both', 2, 'F1-macro', 0.3)")
        db.execute("INSERT INTO scores (run_id, position, metric, value) VALUES ('alias', 1, 'F1-macro', 0.25)")
    assert store.get("both").scores == {"F-score-macro": 0.3, "LRAP": 0.9}
    assert store.get("alias").scores == {"LRAP": 0.8, "F-score-macro": 0.25}
    # and a new record with an alias is written under the canonical key
    record = RunRecord(run_id="new", run_name="new", scores={"F1-macro": 0.4}, **fields)
    assert record.scores == {"F-score-macro": 0.4}


def test_the_bootstrap_takes_aliases() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random((60, 4)) < 0.3
    labels[0], labels[1] = True, False
    a, b = rng.random((60, 4)), rng.random((60, 4))
    da, db = a > 0.5, b > 0.5
    by_alias = paired_bootstrap(labels, a, b, key="F1-macro", n=50, decisions_a=da, decisions_b=db)
    by_key = paired_bootstrap(labels, a, b, key="F-score-macro", n=50, decisions_a=da, decisions_b=db)
    assert by_alias == by_key and by_alias.key == "F-score-macro"
    intervals = bootstrap_intervals(labels, a, da, n=20, keys=["F1-macro", "PR-AUC-macro"])
    assert list(intervals) == ["F-score-macro", "PR-AUC-macro"]


def test_each_dataset_metric_set_has_its_scorer() -> None:
    assert keys.scorer("official") is official.official_scores
    assert keys.scorer("cal500") is multilabel.cal500_scores
    with pytest.raises(UnknownNameError, match="unknown metric set 'per-tag'"):
        keys.scorer("per-tag")
