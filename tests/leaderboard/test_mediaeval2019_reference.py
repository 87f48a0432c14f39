"""The 29 MediaEval 2019 runs, recorded from the licensed reference files, rank as published."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from harness.leaderboard.boards import load_board
from harness.leaderboard.ranking import rank_runs
from harness.results.store import ResultsStore

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference"
pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(
        not (REFERENCE / "mediaeval2019" / "submissions").is_dir(),
        reason=f"licensed MediaEval 2019 submissions not found under {REFERENCE}",
    ),
]


TEST_FITTED = {
    ("AMLAG", "submission2"),
    *(("AugLi", run) for run in ("all", "crnn", "ds-1s", "ds-5s", "ds-all")),
    *(("CP-JKU", run) for run in ("1_shakefaresnet", "2_faresnet", "3_avg_ensemble", "4_crnn", "5_resnet34")),
    ("YL-UTokyo", "run1"),
    ("baseline", "vggish"),
}
"""The 13 runs whose submitted decisions are those of the task's calculate_decisions.py on the test labels."""


def _recorder():
    spec = importlib.util.spec_from_file_location(
        "record_mediaeval2019", REPO / "leaderboards" / "record_mediaeval2019.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_published_order(tmp_path: Path) -> None:
    recorder = _recorder()
    runs = recorder.find_runs(REFERENCE / "mediaeval2019" / "submissions")
    assert len(runs) == 29 and len({(team, run) for team, run, *_ in runs}) == 29
    store = ResultsStore(tmp_path / "results.sqlite")
    assert recorder.main(["--store", str(store.path)]) == 0  # by default with 1000 replicates (about 30 s)
    board = load_board(REPO / "leaderboards" / "mtg-jamendo-moodtheme.toml")
    ranked = [
        r.run for r in rank_runs(board, store.list_runs(dataset=board.dataset, fold=board.fold, split=board.split))
    ]
    names = [f"{r.team}/{r.run_name}" for r in ranked]
    assert names[0] == "CP-JKU/3_avg_ensemble" and round(ranked[0].scores["PR-AUC-macro"], 6) == 0.154609
    assert names[4] == "YL-UTokyo/run1"  # the 6-layer VGG paper: 5th of 29
    assert names[-1] == "baseline/popular"
    assert {r.team for r in ranked if r.external_data} == {"AugLi", "Taiinn (Taiwan)"}
    # decisions: "fitted on test" only where they equal thresholds fitted on the test labels (13 of 29)
    assert {(r.team, r.run_name) for r in ranked if r.thresholds_source == "test"} == TEST_FITTED
    assert all(r.thresholds_source == "given" for r in ranked if (r.team, r.run_name) not in TEST_FITTED)
    # intervals: every run has the 95% interval of every official key it was scored on
    for r in ranked:
        assert r.provenance["bootstrap"] == {"n": 1000, "seed": 0, "confidence": 0.95}
        assert set(r.provenance["intervals"]) == set(r.scores) - {"hamming-loss"}
        low, high = r.provenance["intervals"]["PR-AUC-macro"]["low"], r.provenance["intervals"]["PR-AUC-macro"]["high"]
        # the percentile interval need not hold the estimate (the constant "popular" baseline's lies just above it)
        assert low - 0.005 < r.scores["PR-AUC-macro"] < high + 0.005 and 0 < high - low < 0.03
    assert store.predictions(ranked[0].run_id).shape == (4231, 56)
