"""The runs table (``harness.export``, ``harness.api``): columns, values, every file format read back
with pandas, the board filter, unreadable rows and the errors. Stores are made here, with
:class:`ResultsStore.record` and intervals as ``harness score --bootstrap --record`` stores them."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.api import FORMATS, IDENTITY_COLUMNS, ExportWarning, runs_frame, write_frame
from harness.errors import BadInputError, DataMissingError, FormatError, UnknownNameError
from harness.export import load_runs_frame, resolve_format
from harness.metrics.bootstrap import bootstrap_intervals
from harness.results.store import ResultsStore, RunRecord

FINGERPRINT = "f" * 64
CONFIG = {"lr": 0.001, "epochs": 3, "submission": "vgg6"}


def _intervals(seed: int) -> dict[str, dict[str, float]]:
    """Real bootstrap intervals, stored as ``record_report`` stores them (``Interval.as_dict()``)."""
    rng = np.random.default_rng(seed)
    labels = rng.random((30, 4)) < 0.4
    scores = rng.random((30, 4))
    return {k: v.as_dict() for k, v in bootstrap_intervals(labels, scores, None, n=20, seed=seed).items()}


def make_store(path: Path) -> dict[str, RunRecord]:
    """Five runs: toy split-0 test (two, one with intervals), a toy validation run, a k-fold dataset's two folds."""
    runs = [
        RunRecord(
            run_id="toy-a",
            dataset="toy",
            fold="split-0",
            split="test",
            submission="vgg6",
            team="harness",
            run_name="seed-0",
            fingerprint=FINGERPRINT,
            # F1-macro is an alias: the table shows it as F-score-macro
            scores={"PR-AUC-macro": 0.3123456789012345, "ROC-AUC-macro": 0.71, "F1-macro": 0.25, "my-metric": 2.5},
            seed=0,
            created="2024-03-01T10:00:00Z",
            provenance={"intervals": _intervals(0), "bootstrap": {"n": 20}, "flags": ["leaky-folds", "short"]},
            config=CONFIG,
        ),
        RunRecord(
            run_id="toy-b",
            dataset="toy",
            fold="split-0",
            split="test",
            submission="published",
            team='team, "quoted"',
            run_name="run\tone",
            fingerprint=FINGERPRINT,
            scores={"PR-AUC-macro": 0.41, "ROC-AUC-macro": 0.8},
            created="2024-03-02T10:00:00Z",
            thresholds_source="test",
            external_data=True,
            provenance={"config_hash": "abc123"},
        ),
        RunRecord(
            run_id="toy-val",
            dataset="toy",
            fold="split-0",
            split="validation",
            submission="vgg6",
            team="harness",
            run_name="seed-1",
            fingerprint=FINGERPRINT,
            scores={"PR-AUC-macro": 0.5},
            seed=1,
            created="2024-03-03T10:00:00Z",
        ),
        *(
            RunRecord(
                run_id=f"cal-{fold}",
                dataset="cal",
                fold=fold,
                split="test",
                submission="vgg6",
                team="harness",
                run_name="seed-0",
                fingerprint=FINGERPRINT,
                scores={"F-score-macro": 0.2 + i / 10, "hamming-loss": 0.1},
                seed=0,
                created=f"2024-03-0{4 + i}T10:00:00Z",
            )
            for i, fold in enumerate(("fold-0", "fold-1"))
        ),
    ]
    store = ResultsStore(path)
    for run in runs:
        store.record(run)
    return {run.run_id: run for run in runs}


BOARD = """
name = "{name}"
title = "A board"
dataset = "{dataset}"
{folds}
split = "test"
primary = "{primary}"

[[columns]]
key = "{primary}"
"""


@pytest.fixture
def boards(tmp_path: Path) -> Path:
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "toy.toml").write_text(
        BOARD.format(name="toy", dataset="toy", folds='fold = "split-0"', primary="PR-AUC-macro")
    )
    (folder / "cal.toml").write_text(
        BOARD.format(name="cal", dataset="cal", folds='folds = ["fold-0", "fold-1"]', primary="F1-macro")
    )
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "results.sqlite"
    make_store(path)
    return path


def test_columns_identity_then_registry_order_with_intervals_after_their_key(store: Path) -> None:
    frame = runs_frame(store)
    interval_keys = list(_intervals(0))  # the official keys the bootstrap scores without decisions
    assert interval_keys == ["ROC-AUC-macro", "PR-AUC-macro", "ROC-AUC-micro", "PR-AUC-micro"]
    assert list(frame.columns[: len(IDENTITY_COLUMNS)]) == [
        "run_id",
        "dataset",
        "fold",
        "split",
        "submission",
        "team",
        "run_name",
        "seed",
        "created",
        "thresholds_source",
        "external_data",
        "flags",
        "config_hash",
    ]
    metric_columns = list(frame.columns[len(IDENTITY_COLUMNS) :])
    # the registry's order (harness/metrics/keys.py): official, then cal500; keys it does not know last
    assert metric_columns == [
        "ROC-AUC-macro",
        "ROC-AUC-macro low",
        "ROC-AUC-macro high",
        "PR-AUC-macro",
        "PR-AUC-macro low",
        "PR-AUC-macro high",
        "F-score-macro",
        "ROC-AUC-micro",  # an interval without a score still gets its key's column (empty)
        "ROC-AUC-micro low",
        "ROC-AUC-micro high",
        "PR-AUC-micro",
        "PR-AUC-micro low",
        "PR-AUC-micro high",
        "hamming-loss",
        "my-metric",
    ]
    assert "F1-macro" not in frame.columns


def test_values_one_row_per_run_newest_first(store: Path, tmp_path: Path) -> None:
    runs = make_store(tmp_path / "again.sqlite")
    frame = runs_frame(store)
    assert list(frame["run_id"]) == ["cal-fold-1", "cal-fold-0", "toy-val", "toy-b", "toy-a"]
    rows = frame.set_index("run_id")
    a, b = rows.loc["toy-a"], rows.loc["toy-b"]
    for name in ("dataset", "fold", "split", "submission", "team", "run_name", "created", "thresholds_source"):
        assert a[name] == getattr(runs["toy-a"], name)
        assert b[name] == getattr(runs["toy-b"], name)
    assert a["seed"] == 0 and pd.isna(b["seed"]) and str(frame["seed"].dtype) == "Int64"
    assert not a["external_data"] and b["external_data"]
    assert a["flags"] == "leaky-folds; short" and b["flags"] == ""
    # the recorded hash when there is one, else SHA-256 of the stored config's canonical JSON
    canonical = json.dumps(CONFIG, sort_keys=True, separators=(",", ":"))
    assert a["config_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert b["config_hash"] == "abc123" and rows.loc["toy-val", "config_hash"] == ""
    assert a["PR-AUC-macro"] == 0.3123456789012345 and a["F-score-macro"] == 0.25 and a["my-metric"] == 2.5
    recorded = runs["toy-a"].provenance["intervals"]
    for key in ("ROC-AUC-macro", "PR-AUC-macro", "ROC-AUC-micro", "PR-AUC-micro"):
        assert (a[f"{key} low"], a[f"{key} high"]) == (recorded[key]["low"], recorded[key]["high"])
        assert pd.isna(b[f"{key} low"]) and pd.isna(b[f"{key} high"])
    assert pd.isna(a["hamming-loss"]) and pd.isna(b["F-score-macro"])


def _read_back(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    if fmt == "tsv":
        return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
    if fmt == "json":
        return pd.read_json(path, orient="records")
    return pd.read_parquet(path)


def _assert_same(frame: pd.DataFrame, back: pd.DataFrame, rtol: float) -> None:
    assert list(back.columns) == list(frame.columns)
    assert len(back) == len(frame)
    text = ["run_id", "dataset", "fold", "split", "submission", "team", "run_name", "created", "thresholds_source"]
    text += ["flags", "config_hash"]
    for column in text:
        assert list(back[column].fillna("").astype(str)) == list(frame[column]), column
    assert list(back["seed"].astype("Int64")) == list(frame["seed"])
    assert list(back["external_data"].astype(bool)) == list(frame["external_data"])
    for column in frame.columns[len(IDENTITY_COLUMNS) :]:
        np.testing.assert_allclose(back[column].astype(float), frame[column], rtol=rtol, atol=0, err_msg=column)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json"])
def test_text_formats_round_trip_through_pandas(store: Path, tmp_path: Path, fmt: str) -> None:
    frame = runs_frame(store)
    out = tmp_path / "out" / f"runs.{fmt}"
    assert write_frame(frame, fmt, out) is None
    # CSV and TSV keep every digit; JSON keeps 15 significant ones (pandas' most)
    _assert_same(frame, _read_back(out, fmt), rtol=0 if fmt != "json" else 1e-14)
    assert write_frame(frame, fmt) == out.read_text(encoding="utf-8")  # without a file: the same text
    assert write_frame(frame, output=out) is None and _read_back(out, fmt).shape == frame.shape  # from the suffix


def test_json_is_records(store: Path) -> None:
    frame = runs_frame(store)
    records = json.loads(write_frame(frame, "json"))
    assert [r["run_id"] for r in records] == list(frame["run_id"])
    assert list(records[0]) == list(frame.columns)
    toy_b = next(r for r in records if r["run_id"] == "toy-b")
    assert toy_b["seed"] is None and toy_b["external_data"] is True and toy_b["F-score-macro"] is None


def test_parquet_round_trips(store: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    frame = runs_frame(store)
    out = tmp_path / "runs.parquet"
    write_frame(frame, "parquet", out)
    back = pd.read_parquet(out)
    _assert_same(frame, back, rtol=0)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_parquet_without_pyarrow_says_how_to_install_it(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed (it is not, on this machine)
    out = tmp_path / "runs.parquet"
    with pytest.raises(BadInputError, match=r"pip install pyarrow") as caught:
        write_frame(runs_frame(store), "parquet", out)
    assert str(out) in caught.value.message and "\n" not in caught.value.message
    assert not out.exists()


def test_parquet_needs_a_file(store: Path) -> None:
    with pytest.raises(BadInputError, match=r"-o FILE.parquet"):
        write_frame(runs_frame(store), "parquet")


def test_formats_and_suffixes() -> None:
    assert FORMATS == ("csv", "tsv", "json", "parquet")
    assert resolve_format(None, None) == "csv"
    assert resolve_format(None, Path("x/RUNS.TSV")) == "tsv"
    assert resolve_format("json", Path("runs.csv")) == "json"  # an explicit format wins
    with pytest.raises(UnknownNameError, match=r"unknown format 'xlsx'; known: csv, tsv, json, parquet"):
        resolve_format("xlsx", None)
    with pytest.raises(BadInputError, match=r"runs\.xlsx: cannot tell the format .*--format csv\|tsv\|json\|parquet"):
        resolve_format(None, Path("runs.xlsx"))


def test_output_that_is_a_folder_is_refused(store: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"is a folder"):
        write_frame(runs_frame(store), "csv", tmp_path)


def test_board_filter_one_fold_and_k_fold(store: Path, boards: Path) -> None:
    toy = runs_frame(store, board="toy", boards_dir=boards)
    assert list(toy["run_id"]) == ["toy-b", "toy-a"]  # not the validation run
    cal = runs_frame(store, board="cal", boards_dir=boards)
    assert list(cal["run_id"]) == ["cal-fold-1", "cal-fold-0"]
    # columns follow the runs selected: no toy interval columns on the cal board
    assert list(cal.columns[len(IDENTITY_COLUMNS) :]) == ["F-score-macro", "hamming-loss"]
    assert list(runs_frame(store, board="cal", fold="fold-0", boards_dir=boards)["run_id"]) == ["cal-fold-0"]


def test_sorting_by_the_primary_metric(store: Path, boards: Path) -> None:
    toy = runs_frame(store, board="toy", boards_dir=boards).sort_values("PR-AUC-macro", ascending=False)
    assert list(toy["run_id"]) == ["toy-b", "toy-a"]


def test_dataset_fold_split_filters(store: Path) -> None:
    assert list(runs_frame(store, dataset="toy", split="validation")["run_id"]) == ["toy-val"]
    assert list(runs_frame(store, dataset="cal", fold="fold-1")["run_id"]) == ["cal-fold-1"]


def test_unknown_board_lists_the_boards(store: Path, boards: Path) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown board 'nope'; known: cal, toy"):
        runs_frame(store, board="nope", boards_dir=boards)


def test_missing_store_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    with pytest.raises(DataMissingError, match=r"no results store at .*none\.sqlite.*harness score --record"):
        runs_frame(path)
    assert not path.exists()


def test_store_without_runs_is_an_error(store: Path) -> None:
    for run_id in ResultsStore(store).run_ids():
        ResultsStore(store).delete(run_id)
    with pytest.raises(DataMissingError, match=r"holds no runs"):
        runs_frame(store)


def test_no_matching_runs_names_the_selection(store: Path, boards: Path) -> None:
    with pytest.raises(DataMissingError, match=r"no runs of board 'toy' \(toy, split-0, test\) with dataset 'cal'"):
        runs_frame(store, board="toy", dataset="cal", boards_dir=boards)
    with pytest.raises(DataMissingError, match=r"no runs with dataset 'nope', split 'test' in "):
        runs_frame(store, dataset="nope", split="test")


def _damage(store: Path, run_id: str) -> None:
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE runs SET config = '[1, 2]' WHERE run_id = ?", (run_id,))
    conn.close()


def test_unreadable_rows_are_left_out_with_a_warning_naming_them(store: Path) -> None:
    _damage(store, "toy-b")
    with pytest.warns(ExportWarning, match=r"run 'toy-b' is left out of the table: .*config must be a mapping"):
        frame = runs_frame(store)
    assert list(frame["run_id"]) == ["cal-fold-1", "cal-fold-0", "toy-val", "toy-a"]
    frame, problems = load_runs_frame(store, dataset="toy")
    assert len(problems) == 1 and "toy-b" in problems[0] and "boards" not in problems[0]


def test_only_unreadable_rows_is_an_error(store: Path) -> None:
    _damage(store, "toy-val")
    with pytest.raises(FormatError, match=r"no readable runs with split 'validation' .*1 cannot be read.*toy-val"):
        runs_frame(store, split="validation")


def test_an_interval_that_is_not_low_and_high_is_left_empty_with_a_warning(tmp_path: Path) -> None:
    store = tmp_path / "r.sqlite"
    record = RunRecord(
        run_id="odd",
        dataset="toy",
        fold="split-0",
        split="test",
        submission="s",
        team="t",
        run_name="r",
        fingerprint=FINGERPRINT,
        scores={"PR-AUC-macro": 0.5},
        provenance={"intervals": {"PR-AUC-macro": {"low": "a"}, "ROC-AUC-macro": {"low": 0.1, "high": 0.2}}},
    )
    ResultsStore(store).record(record)
    with pytest.warns(ExportWarning, match=r"run 'odd': its recorded interval for 'PR-AUC-macro'"):
        frame = runs_frame(store)
    assert "PR-AUC-macro low" not in frame.columns
    assert (frame.loc[0, "ROC-AUC-macro low"], frame.loc[0, "ROC-AUC-macro high"]) == (0.1, 0.2)


def test_importing_the_api_does_not_import_pandas() -> None:
    """`harness` commands import harness.export through the CLI: pandas must wait for an export."""
    code = "import sys, harness.api, harness.cli; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
