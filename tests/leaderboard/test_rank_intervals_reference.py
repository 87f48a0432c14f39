"""Rank intervals on the real 29-run MediaEval 2019 board (needs ../shared; the fixtures' tests are in
test_rank_intervals.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from harness.leaderboard.boards import load_board
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.site_build import plan_site
from harness.metrics.bootstrap import paired_bootstrap
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


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory):
    spec = importlib.util.spec_from_file_location(
        "record_mediaeval2019", REPO / "leaderboards" / "record_mediaeval2019.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("me2019") / "results.sqlite"
    assert module.main(["--store", str(path), "--bootstrap", "0"]) == 0
    store = ResultsStore(path)
    board = load_board(REPO / "leaderboards" / "mtg-jamendo-moodtheme.toml")
    return store, board, plan_site(CheckedStore(store), [board])


def test_the_real_board_ranks_by_intervals_not_chains(recorded) -> None:
    _, board, plan = recorded
    view = plan.board(board.name)
    rows = [row for row in view["rows"] if not row["reference"]]
    assert len(rows) == 29 and view["has_rank_intervals"] and not view["has_bands"]
    by_value = {row["primary_text"]: row for row in rows}
    assert rows[0]["run_name"] == "3_avg_ensemble" and rows[0]["rank"] == 1
    assert rows[0]["rank_interval"].startswith("1–")
    # the chained band of rank 6 spanned 0.1183 down to 0.0973: now they rank apart
    assert by_value["0.1183"]["rank"] != by_value["0.0973"]["rank"]
    assert by_value["0.1183"]["rank"] < by_value["0.0973"]["rank"]
    for row in rows:  # every interval is a range of whole ranks on the board
        low, high = (int(x) for x in row["rank_interval"].split("–"))
        assert 1 <= low <= high <= 29
    assert [row["rank"] for row in rows] == sorted(row["rank"] for row in rows)


def test_a_real_run_page_compares_with_the_leader_and_neighbours(recorded) -> None:
    store, board, plan = recorded
    fifth = next(
        run_id
        for run_id, view in plan.runs.items()
        if view["record"].run_name == "run1" and view["record"].team == "YL-UTokyo"
    )
    paired = plan.runs[fifth]["paired"][0]["rows"]
    assert [row["relation"] for row in paired] == ["leader", "above", "below"]
    leader = plan.runs[fifth]["paired"][0]["rows"][0]
    assert leader["other"] == "CP-JKU / 3_avg_ensemble" and leader["difference"] < 0
    labels = CheckedStore(store).split_labels(plan.runs[fifth]["record"].fingerprint)[2]
    leader_id = next(run_id for run_id, view in plan.runs.items() if view["record"].run_name == "3_avg_ensemble")
    expected = paired_bootstrap(labels, store.predictions(fifth), store.predictions(leader_id), n=1000, seed=0)
    assert leader["p_value"] == pytest.approx(expected.p_value, abs=0.002) and leader["p_value"] < 0.05
