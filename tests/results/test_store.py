"""The SQLite results store: round trips, replacement, filters, order and refusals."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from harness.errors import BadInputError, FormatError, UnknownNameError
from harness.results.store import ResultsStore, RunRecord

FINGERPRINT = "ab" * 32


def make_record(run_id: str = "toy-vgg6-seed0", **changes) -> RunRecord:
    fields = dict(
        run_id=run_id,
        dataset="toy",
        fold="split-0",
        split="test",
        submission="vgg6",
        team="harness",
        run_name="seed-0",
        fingerprint=FINGERPRINT,
        scores={"PR-AUC-macro": 0.25, "ROC-AUC-macro": 0.75, "F-score-micro": 0.5},
        tag_scores={
            "mood/theme---happy": {"ROC-AUC": 0.8, "PR-AUC": 0.3},
            "mood/theme---sad": {"ROC-AUC": 0.7, "PR-AUC": 0.2, "F-score": 0.1},
        },
        seed=0,
        created="2024-05-01T12:00:00Z",
        thresholds_source="validation",
        external_data=False,
        provenance={"git_commit": "0123abc", "dirty": False, "versions": {"torch": "2.11"}, "duration_s": 12.5},
        config={"epochs": 3, "lr": 1e-3, "crop_frames": [1, 2]},
        run_dir="runs/toy/split-0/vgg6/toy-vgg6-seed0",
    )
    fields.update(changes)
    return RunRecord(**fields)


def test_record_then_get_round_trips_every_field(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    record = make_record(external_data=True, thresholds_source="test", seed=7)
    store.record(record)
    back = store.get(record.run_id)
    assert back == record
    assert list(back.tag_scores) == list(record.tag_scores)  # tag order is kept
    assert list(back.scores) == list(record.scores)


def test_round_trip_with_defaults_and_numpy_values(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    record = RunRecord(
        run_id="r",
        dataset="toy",
        fold="split-0",
        split="test",
        submission="vgg6",
        team="harness",
        run_name="seed-0",
        fingerprint=FINGERPRINT,
        scores={"PR-AUC-macro": np.float32(0.1)},
        seed=np.int64(3),
        provenance={"path": Path("runs/x")},
    )
    assert isinstance(record.scores["PR-AUC-macro"], float)
    assert record.provenance == {"path": "runs/x"}
    store.record(record)
    back = store.get("r")
    assert back.created  # filled by the store, ISO-8601 UTC
    assert back.created.endswith("Z")
    assert back == make_copy(record, created=back.created)
    assert back.seed == 3 and back.run_dir is None and back.tag_scores == {}


def make_copy(record: RunRecord, **changes) -> RunRecord:
    from dataclasses import replace

    return replace(record, **changes)


def test_record_replaces_by_run_id_only_when_asked(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    first = make_record()
    store.record(first)
    newer = make_record(scores={"PR-AUC-macro": 0.9}, tag_scores={"x": {"PR-AUC": 0.5}}, team="other")
    with pytest.raises(BadInputError, match="already recorded.*--replace"):
        store.record(newer)  # a silent overwrite would lose the first run's results
    assert store.get(first.run_id) == store.list_runs()[0]
    assert store.get(first.run_id).team == first.team
    store.record(newer, replace=True)
    assert store.get(newer.run_id) == newer
    assert len(store.list_runs()) == 1
    with sqlite3.connect(store.path) as conn:  # no orphan rows of the replaced run
        assert conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM tag_scores").fetchone()[0] == 1


def test_list_filters_and_newest_first(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(make_record("old", created="2024-01-01T00:00:00Z"))
    store.record(make_record("new", created="2024-03-01T00:00:00+00:00"))
    # 02:00 at +05:00 is 2024-02-29T21:00Z: between the two others in UTC.
    store.record(make_record("middle", created="2024-03-01T02:00:00+05:00"))
    store.record(make_record("other-fold", fold="split-1", created="2024-04-01T00:00:00Z"))
    store.record(make_record("validation", split="validation", created="2024-05-01T00:00:00Z"))
    store.record(make_record("cal", dataset="cal500", fold="fold-0", created="2024-06-01T00:00:00Z"))

    def ids(**filters) -> list[str]:
        return [r.run_id for r in store.list_runs(**filters)]

    assert ids() == ["cal", "validation", "other-fold", "new", "middle", "old"]
    assert ids(dataset="toy") == ["validation", "other-fold", "new", "middle", "old"]
    assert ids(dataset="toy", fold="split-0", split="test") == ["new", "middle", "old"]
    assert ids(split="validation") == ["validation"]
    assert ids(dataset="nope") == []


def test_same_timestamp_lists_latest_recorded_first(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    for name in ("a", "b", "c"):
        store.record(make_record(name))
    assert [r.run_id for r in store.list_runs()] == ["c", "b", "a"]


def test_missing_store_lists_nothing_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "results.sqlite"
    store = ResultsStore(path)
    assert store.list_runs() == []
    assert store.list_runs(dataset="toy") == []
    with pytest.raises(UnknownNameError) as info:
        store.get("anything")
    assert info.value.known == ()
    assert not path.exists()


def test_unknown_id_lists_known_ids_newest_first(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    for i in range(25):
        store.record(make_record(f"run-{i:02d}", created=f"2024-01-01T00:00:{i:02d}Z"))
    with pytest.raises(UnknownNameError) as info:
        store.get("run-99")
    assert info.value.kind == "run"
    assert info.value.name == "run-99"
    assert info.value.known == tuple(f"run-{i:02d}" for i in range(24, 4, -1))
    assert "run-24" in str(info.value) and "run-00" not in str(info.value)


@pytest.mark.parametrize("bad", [math.nan, np.float32("nan"), math.inf])
def test_nan_and_infinite_scores_are_refused_naming_the_metric(tmp_path: Path, bad) -> None:
    with pytest.raises(BadInputError, match="PR-AUC-macro"):
        make_record(scores={"PR-AUC-macro": bad})
    with pytest.raises(BadInputError, match="happy.*PR-AUC"):
        make_record(tag_scores={"happy": {"PR-AUC": bad}})


def test_nan_slipped_into_a_record_after_construction_is_not_stored(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    record = make_record()
    record.scores["ROC-AUC-micro"] = math.nan  # the dict inside a frozen record is mutable
    with pytest.raises(BadInputError, match="ROC-AUC-micro"):
        store.record(record)
    assert store.list_runs() == []


@pytest.mark.parametrize(
    "changes",
    [
        {"run_id": ""},
        {"thresholds_source": "guessed"},
        {"created": "yesterday"},
        {"seed": 1.5},
        {"external_data": "yes"},
        {"scores": {"PR-AUC-macro": "high"}},
        {"provenance": {"device": object()}},
    ],
)
def test_bad_records_are_refused(changes) -> None:
    with pytest.raises(BadInputError):
        make_record(**changes)


def test_corrupt_file_gives_format_error_naming_path(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"this is not a database at all, just some bytes\n" * 100)
    store = ResultsStore(path)
    for action in (lambda: store.list_runs(), lambda: store.get("x"), lambda: store.record(make_record())):
        with pytest.raises(FormatError) as info:
            action()
        assert str(path) in str(info.value)
        assert "--store" in str(info.value)


def test_foreign_sqlite_file_gives_format_error_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE songs (id INTEGER)")
    before = path.read_bytes()
    store = ResultsStore(path)
    with pytest.raises(FormatError, match="not a harness results store"):
        store.list_runs()
    with pytest.raises(FormatError, match=str(path)):
        store.record(make_record())
    assert path.read_bytes() == before


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(make_record())
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(FormatError, match="newer"):
        store.list_runs()


def test_store_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(make_record())
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        refs = conn.execute("PRAGMA foreign_key_list(tag_scores)").fetchall()
        assert refs and refs[0][2] == "runs"


def test_delete_removes_the_run_and_its_rows(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(make_record("keep"))
    store.record(make_record("drop", tag_scores={"x": {"PR-AUC": 0.5}}))
    removed = store.delete("drop")
    assert removed.run_id == "drop"
    assert [r.run_id for r in store.list_runs()] == ["keep"]
    with sqlite3.connect(store.path) as conn:  # no orphan rows of the deleted run
        assert conn.execute("SELECT COUNT(*) FROM scores WHERE run_id = 'drop'").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM tag_scores WHERE run_id = 'drop'").fetchone()[0] == 0
    with pytest.raises(UnknownNameError, match="unknown run 'drop'.*keep"):
        store.delete("drop")
    assert [r.run_id for r in store.list_runs()] == ["keep"]
