"""`harness runs export`: the runs table on stdout or in a file, a board's runs, and one clear line
(exit 2) for each mistake. The table itself is tested in tests/results/test_export.py."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.api import runs_frame
from harness.cli import app
from harness.results.store import ResultsStore, RunRecord

runner = CliRunner()
INTERVAL = {"low": 0.2, "high": 0.4, "mean": 0.3, "std": 0.05, "replicates": 100, "confidence": 0.95}


def _record(run_id: str, split: str, value: float, created: str, **extra: object) -> RunRecord:
    fields = {"team": "harness", **extra}
    return RunRecord(
        run_id=run_id,
        dataset="toy",
        fold="split-0",  # leaderboards/toy.toml: dataset toy, fold split-0, split test
        split=split,
        submission="vgg6",
        run_name=run_id,
        fingerprint="0" * 64,
        scores={"PR-AUC-macro": value, "ROC-AUC-macro": value + 0.3},
        created=created,
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "results.sqlite"
    results = ResultsStore(path)
    results.record(
        _record(
            "run-a",
            "test",
            0.3123456789012345,
            "2024-01-01T00:00:00Z",
            seed=3,
            provenance={"intervals": {"PR-AUC-macro": INTERVAL}},
        )
    )
    results.record(_record("run-b", "test", 0.35, "2024-01-02T00:00:00Z"))
    results.record(_record("run-v", "validation", 0.5, "2024-01-03T00:00:00Z"))
    return path


def _export(*args: str) -> object:
    return runner.invoke(app, ["runs", "export", *args])


def _assert_clean_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_csv_on_stdout_is_the_api_table(store: Path) -> None:
    result = _export("--store", str(store))
    assert result.exit_code == 0, result.output
    back = pd.read_csv(io.StringIO(result.stdout), keep_default_na=False, na_values=[""])
    frame = runs_frame(store)
    assert list(back.columns) == list(frame.columns)
    assert list(back["run_id"]) == ["run-v", "run-b", "run-a"]
    assert list(back["PR-AUC-macro"]) == [0.5, 0.35, 0.3123456789012345]  # every digit
    assert back.loc[2, "PR-AUC-macro low"] == 0.2 and back.loc[2, "PR-AUC-macro high"] == 0.4
    assert back.loc[2, "seed"] == 3


def test_store_from_the_environment(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_STORE", str(store))
    result = _export("--format", "tsv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split("\t")[:2] == ["run_id", "dataset"]


def test_json_file_from_the_suffix_and_a_board(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "export" / "toy.json"
    result = _export("--store", str(store), "--board", "toy", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "wrote 2 runs" in result.stderr and "as json" in result.stderr
    back = pd.read_json(out, orient="records")
    assert list(back["run_id"]) == ["run-b", "run-a"]  # the validation run is not on the board
    assert list(back["split"]) == ["test", "test"]


def test_dataset_and_split_filters(store: Path) -> None:
    result = _export("--store", str(store), "--dataset", "toy", "--split", "validation", "--format", "json")
    assert result.exit_code == 0, result.output
    assert list(pd.read_json(io.StringIO(result.stdout), orient="records")["run_id"]) == ["run-v"]


def test_parquet_file(store: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "runs.parquet"
    result = _export("--store", str(store), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert list(pd.read_parquet(out)["run_id"]) == ["run-v", "run-b", "run-a"]


def test_parquet_needs_a_file(store: Path) -> None:
    _assert_clean_error(_export("--store", str(store), "--format", "parquet"), "-o FILE.parquet")


def test_parquet_without_pyarrow_names_the_install(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    out = tmp_path / "runs.parquet"
    _assert_clean_error(_export("--store", str(store), "-o", str(out)), "pip install pyarrow")
    assert not out.exists()


def test_unknown_format(store: Path) -> None:
    _assert_clean_error(_export("--store", str(store), "--format", "xlsx"), "unknown format 'xlsx'", "parquet")


def test_suffix_that_names_no_format(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs.xlsx"
    _assert_clean_error(_export("--store", str(store), "-o", str(out)), "runs.xlsx", "--format")
    assert not out.exists()


def test_unknown_board_lists_the_boards(store: Path) -> None:
    _assert_clean_error(_export("--store", str(store), "--board", "nope"), "unknown board 'nope'", "toy")


def test_missing_store(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    _assert_clean_error(_export("--store", str(path)), "no results store at", "none.sqlite")
    assert not path.exists()


def test_no_matching_runs(store: Path) -> None:
    _assert_clean_error(_export("--store", str(store), "--dataset", "cal500"), "no runs with dataset 'cal500'")


def test_unreadable_row_is_left_out_with_a_warning(store: Path) -> None:
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE runs SET provenance = '{\"a\": ' WHERE run_id = 'run-b'")
    conn.close()
    result = _export("--store", str(store))
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "run 'run-b' is left out of the table" in result.stderr
    assert list(pd.read_csv(io.StringIO(result.stdout))["run_id"]) == ["run-v", "run-a"]


def test_a_scored_run_exports_what_score_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`harness score --bootstrap N --record --json`, then `runs export`: the same values and intervals."""
    folder = tmp_path / "registry" / "moods"
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text(
        'name = "moods"\nfamily = "tsv"\n[tags]\nnames = ["a", "b", "c", "d"]\n[folds]\nnames = ["split-0"]\n'
        '[source]\nitems = "items.tsv"\n'
    )
    rng = np.random.default_rng(0)
    labels = rng.random((120, 4)) < 0.3
    splits = ["train"] * 40 + ["validation"] * 30 + ["test"] * 50
    rows = ["id\tpath\ttags\tsplit"] + [
        f"i{i}\ti{i}.wav\t{','.join(t for t, on in zip('abcd', labels[i], strict=True) if on)}\t{splits[i]}"
        for i in range(120)
    ]
    (folder / "items.tsv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path / "registry"))
    preds = tmp_path / "p.npy"
    np.save(preds, np.clip(labels[70:] + rng.normal(0, 0.6, (50, 4)), 0, 1).astype("float32"))
    scored = runner.invoke(
        app, ["score", str(preds), "--dataset", "moods", "--bootstrap", "50", "--name", "T/r", "--record", "--json"]
    )
    assert scored.exit_code == 0, scored.output
    printed = json.loads(scored.stdout)
    result = _export()  # the store of $HARNESS_STORE, where --record wrote
    assert result.exit_code == 0, result.output
    row = pd.read_csv(io.StringIO(result.stdout), keep_default_na=False, na_values=[""]).iloc[0]
    assert row["run_id"] == "T/r@moods/split-0/test" and (row["team"], row["run_name"]) == ("T", "r")
    assert printed["intervals"]  # the bootstrap ran
    for key, interval in printed["intervals"].items():
        assert row[key] == printed[key]
        assert (row[f"{key} low"], row[f"{key} high"]) == (interval["low"], interval["high"])


def test_control_characters_reach_a_pipe_whole_and_a_terminal_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hostile.sqlite"
    team = "red\x1b[31mteam\x07"
    ResultsStore(path).record(_record("run-x", "test", 0.3, "2024-01-01T00:00:00Z", team=team))
    piped = _export("--store", str(path), "--format", "json")
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout)[0]["team"] == team  # the data as stored
    monkeypatch.setattr("harness.cli.runs._is_terminal", lambda: True)
    shown = _export("--store", str(path), "--format", "tsv")
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "red\\x1b[31mteam\\x07" in shown.stdout
