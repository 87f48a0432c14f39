"""The results store's SQL schema (version 1) and how rows become bytes: the tables, the run columns,
``.npy`` blobs of predictions and labels. The layout is described in :mod:`harness.results.store`.
"""

from __future__ import annotations

import io
import json
import sqlite3
from typing import Any

import numpy as np

from harness.errors import BadInputError
from harness.results.record import RUN_FIELDS, RunRecord

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE runs (
    run_id            TEXT PRIMARY KEY,
    dataset           TEXT NOT NULL,
    fold              TEXT NOT NULL,
    split             TEXT NOT NULL,
    submission        TEXT NOT NULL,
    team              TEXT NOT NULL,
    run_name          TEXT NOT NULL,
    fingerprint       TEXT NOT NULL,
    seed              INTEGER,
    created           TEXT NOT NULL,
    created_utc       TEXT NOT NULL,
    thresholds_source TEXT NOT NULL,
    external_data     INTEGER NOT NULL,
    provenance        TEXT NOT NULL,
    config            TEXT NOT NULL,
    run_dir           TEXT
);
CREATE INDEX runs_by_board ON runs (dataset, fold, split, created_utc);
CREATE TABLE scores (
    run_id   TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    metric   TEXT NOT NULL,
    value    REAL NOT NULL,
    PRIMARY KEY (run_id, metric)
);
CREATE TABLE tag_scores (
    run_id   TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    tag      TEXT NOT NULL,
    metric   TEXT NOT NULL,
    value    REAL NOT NULL,
    PRIMARY KEY (run_id, tag, metric)
);
"""

# Added tables: created when missing, so stores written before them keep working.
EXTRA_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    run_id TEXT PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
    scores BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS paired_tests (
    test_key TEXT PRIMARY KEY,
    p_value  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS splits (
    fingerprint TEXT PRIMARY KEY,
    item_ids    TEXT NOT NULL,
    tags        TEXT NOT NULL,
    labels      BLOB NOT NULL
);
"""

RUN_COLUMNS = ", ".join(RUN_FIELDS)


def is_not_a_store(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
        return True
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def to_npy(array: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def from_npy(blob: bytes) -> Any:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def prediction_blobs(record: RunRecord, predictions: Any, split: Any) -> tuple[bytes, tuple[Any, ...]] | None:
    """(scores blob, splits row) for :meth:`ResultsStore.record`, checked against each other."""
    if predictions is None and split is None:
        return None
    if predictions is None or split is None:
        raise BadInputError(f"run {record.run_id!r}: give both the predictions and the split they were scored on")
    scores = np.asarray(predictions, dtype=np.float32)
    if split.fingerprint != record.fingerprint:
        raise BadInputError(f"run {record.run_id!r}: the split's fingerprint differs from the record's")
    if scores.shape != split.labels.shape:
        raise BadInputError(
            f"run {record.run_id!r}: predictions {scores.shape} do not match the split {split.labels.shape}"
        )
    row = (
        split.fingerprint,
        json.dumps(list(split.item_ids)),
        json.dumps(list(split.tags)),
        to_npy(np.asarray(split.labels, dtype=bool)),
    )
    return to_npy(scores), row
