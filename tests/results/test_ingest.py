"""`harness runs ingest`: the results store (re)built from run folders, idempotently, with the run's own rows."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from harness.cli import app
from harness.protocol.finish import record_run_folder
from harness.protocol.request import RunRequest
from harness.protocol.runner import run
from harness.results.ingest import ingest
from harness.results.store import ResultsStore

runner = CliRunner()


def _two_runs(runs: Path, store: Path) -> None:
    result = runner.invoke(
        app,
        [
            "run",
            "submissions/popular",
            "--seeds",
            "0,1",
            "--device",
            "cpu",
            "--runs-dir",
            str(runs),
            "--store",
            str(store),
        ],
    )
    assert result.exit_code == 0, result.output


def _rows(store: Path) -> dict[str, dict]:
    """Every row as a dict, with its predictions; ``scored_at`` (when the file was scored) left out."""
    s = ResultsStore(store)
    rows = {}
    for record in s.list_runs():
        row = dataclasses.asdict(record)
        row["provenance"] = {k: v for k, v in row["provenance"].items() if k != "scored_at"}
        row["predictions"] = np.asarray(s.predictions(record.run_id)).tolist()
        rows[record.run_id] = row
    return rows


def test_a_deleted_store_is_restored_with_the_same_rows(tiny_toy: Path, tmp_path: Path) -> None:
    runs, store = tmp_path / "r", tmp_path / "r" / "results.sqlite"
    _two_runs(runs, store)
    before = _rows(store)
    assert len(before) == 2
    store.unlink()
    result = runner.invoke(app, ["runs", "ingest", str(runs), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "2 recorded, 0 already in the store" in result.output
    after = _rows(store)
    assert after == before  # created included: it is the run's finished_at, kept in env.json


def test_ingest_is_idempotent_and_replace_records_again(tiny_toy: Path, tmp_path: Path) -> None:
    runs, store = tmp_path / "r", tmp_path / "r" / "results.sqlite"
    _two_runs(runs, store)
    again = runner.invoke(app, ["runs", "ingest", str(runs), "--store", str(store)])
    assert again.exit_code == 0, again.output
    assert "0 recorded, 2 already in the store" in again.output
    assert len(ResultsStore(store).list_runs()) == 2
    replaced = ingest(runs, store, record=record_run_folder, replace=True)
    assert len(replaced.recorded) == 2 and not replaced.failed
    assert len(ResultsStore(store).list_runs()) == 2


def test_unfinished_and_broken_folders_are_counted_not_recorded(tiny_toy: Path, tmp_path: Path) -> None:
    runs, store = tmp_path / "r", tmp_path / "r" / "results.sqlite"
    _two_runs(runs, store)
    folders = sorted(p.parent for p in runs.rglob("done"))
    (folders[0] / "done").unlink()  # an interrupted run
    broken = folders[1].parent / "20990101T000000-seed9-deadbeef"
    shutil.copytree(folders[1], broken)
    (broken / "predictions" / "test.npz").write_bytes(b"not a file of predictions")
    store.unlink()
    report = ingest(runs, store, record=record_run_folder)
    assert report.recorded == (str(folders[1]),)
    assert report.skipped_unfinished == (str(folders[0]),)
    assert [folder for folder, _ in report.failed] == [str(broken)]
    result = runner.invoke(app, ["runs", "ingest", str(runs), "--store", str(store)])
    assert result.exit_code == 1 and "failed" in result.output


def test_a_run_asked_not_to_record_writes_its_folder_only(tiny_toy: Path, tmp_path: Path) -> None:
    runs, store = tmp_path / "r", tmp_path / "r" / "results.sqlite"
    request = RunRequest("submissions/popular", device="cpu", runs_root=runs, store_path=store, record=False)
    (result,) = run(request)
    assert (result.run_dir / "done").is_file() and (result.run_dir / "scores.json").is_file()
    assert not store.exists()
    report = ingest(runs, store, record=record_run_folder)
    assert report.recorded == (str(result.run_dir),)
    assert ResultsStore(store).get(result.run_id).scores == result.scores


def test_ingest_of_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["runs", "ingest", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no such folder" in result.output
