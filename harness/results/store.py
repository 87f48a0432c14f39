"""The results store: one SQLite file holding every scored run, its scores and its provenance.

The leaderboard reads only this store. Layout (schema version 1):

``meta``        key, value                       ``schema_version`` and the writer
``runs``        one row per run                  identity, fingerprint, flags, provenance and
                                                 config as JSON text
``scores``      run_id, position, metric, value  overall metrics (the ten official keys and more)
``tag_scores``  run_id, position, tag, metric,   per-tag metrics
                value
``predictions`` run_id, scores (.npy bytes)       the run's scores on its split, when recorded
``splits``      fingerprint, item ids, tags,     the labels a fingerprint stands for, so the
                labels (.npy bytes)              leaderboard can run paired tests and draw
                                                 curves from the store alone

``scores`` and ``tag_scores`` reference ``runs`` with ``ON DELETE CASCADE``; ``position`` keeps the
order the metrics and tags were given in (tag order is part of the contract). Metric keys are read
under their canonical names (:func:`harness.metrics.keys.canonical_scores`: a row recorded with
both ``F-score-macro`` and its alias ``F1-macro`` reads as ``F-score-macro`` alone). The file uses WAL
journalling so that readers (a leaderboard build) never block a writer (a run finishing), and
every :meth:`ResultsStore.record` is one transaction over all tables. The SQL is in
:mod:`harness.results.schema`; :class:`RunRecord` (re-exported here) in :mod:`harness.results.record`.

Values are finite floats: NaN and infinities are refused with the metric named, because a NaN in
a ranking silently sorts anywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.errors import BadInputError, FormatError, UnknownNameError
from harness.results.record import (
    THRESHOLD_SOURCES,
    RunRecord,
    checked_scores,
    created_utc,
    json_default,
    now_utc,
    record_from_row,
)
from harness.results.schema import (
    EXTRA_SCHEMA,
    RUN_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    from_npy,
    is_not_a_store,
    prediction_blobs,
)

__all__ = ["KNOWN_IDS_SHOWN", "SCHEMA_VERSION", "THRESHOLD_SOURCES", "ResultsStore", "RunRecord"]

KNOWN_IDS_SHOWN = 20


class ResultsStore:
    """The SQLite results store at ``path``.

    The file and its schema are created on the first :meth:`record`; the read methods on a
    missing file return empty results without creating it. A file that is not a harness store
    raises :class:`FormatError`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # p-values of this object's paired tests: the cache when the store cannot be written.
        self._p_values: dict[str, float] = {}
        self._p_value_writes = True  # False after a write failed (read-only store): memory only

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # -- writing ---------------------------------------------------------------------------

    def record(self, record: RunRecord, predictions: Any = None, split: Any = None, replace: bool = False) -> None:
        """Insert ``record``; one transaction.

        A run with the same ``run_id`` is replaced only with ``replace`` (``harness score --record
        --replace``); otherwise :class:`BadInputError` names it, and the store is left as it was.
        ``predictions`` (items x tags scores) and ``split`` (the ``SplitData`` scored against, whose
        fingerprint must be the record's) are kept too when given: the leaderboard's paired tests
        and precision-recall curves need them.
        """
        if not isinstance(record, RunRecord):
            raise BadInputError(f"expected a RunRecord, got {type(record).__name__}")
        where = f"run {record.run_id!r}"
        # The dicts inside a frozen record are still mutable: check again what is written.
        scores = checked_scores(record.scores, where)
        tag_scores = {tag: checked_scores(m, f"{where}, tag {tag!r}") for tag, m in record.tag_scores.items()}
        created = record.created or now_utc()
        row = (
            record.run_id,
            record.dataset,
            record.fold,
            record.split,
            record.submission,
            record.team,
            record.run_name,
            record.fingerprint,
            record.seed,
            created,
            created_utc(created, where),
            record.thresholds_source,
            int(record.external_data),
            json.dumps(record.provenance, default=json_default),
            json.dumps(record.config, default=json_default),
            record.run_dir,
        )
        blobs = prediction_blobs(record, predictions, split)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(write=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._ensure_schema(conn)
                if blobs is not None:
                    conn.execute(
                        "INSERT OR IGNORE INTO splits (fingerprint, item_ids, tags, labels) VALUES (?, ?, ?, ?)",
                        blobs[1],
                    )
                exists = conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (record.run_id,)).fetchone()
                if exists and not replace:
                    raise BadInputError(
                        f"run {record.run_id!r} is already recorded in {self.path}; pass --replace to "
                        "record it again, or `harness runs delete RUN_ID` first"
                    )
                conn.execute("DELETE FROM runs WHERE run_id = ?", (record.run_id,))
                conn.execute(
                    "INSERT INTO runs (run_id, dataset, fold, split, submission, team, run_name, "
                    "fingerprint, seed, created, created_utc, thresholds_source, external_data, "
                    f"provenance, config, run_dir) VALUES ({', '.join('?' * len(row))})",
                    row,
                )
                conn.executemany(
                    "INSERT INTO scores (run_id, position, metric, value) VALUES (?, ?, ?, ?)",
                    [(record.run_id, i, metric, value) for i, (metric, value) in enumerate(scores.items())],
                )
                conn.executemany(
                    "INSERT INTO tag_scores (run_id, position, tag, metric, value) VALUES (?, ?, ?, ?, ?)",
                    [
                        (record.run_id, i, tag, metric, value)
                        for i, (tag, metrics) in enumerate(tag_scores.items())
                        for metric, value in metrics.items()
                    ],
                )
                if blobs is not None:
                    conn.execute("INSERT INTO predictions (run_id, scores) VALUES (?, ?)", (record.run_id, blobs[0]))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def delete(self, run_id: str) -> RunRecord:
        """Remove one run (its scores, per-tag scores and predictions go with it); returns what it was.

        An unknown id raises :class:`UnknownNameError` listing the newest ids; the store is unchanged.
        A row that cannot be read (edited by hand, written by older code) is removed too, and None
        returned: deleting it is how such a row is got rid of. Labels of a split stay: other runs
        may share the fingerprint.
        """
        removed: RunRecord | None
        try:
            removed = self.get(run_id)
        except FormatError:
            if run_id not in self.run_ids():
                raise  # the file itself, not the row
            removed = None
        with self._connect(write=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._ensure_schema(conn)
                conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
                conn.execute("DELETE FROM paired_tests WHERE test_key LIKE ?", (f"%{json.dumps(run_id)}%",))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return removed

    # -- reading ---------------------------------------------------------------------------

    def list_runs(
        self, dataset: str | None = None, fold: str | None = None, split: str | None = None
    ) -> list[RunRecord]:
        """Runs matching every filter given, newest first (by ``created``, then insertion)."""
        clauses, params = [], []
        for column, value in (("dataset", dataset), ("fold", fold), ("split", split)):
            if value is not None:
                clauses.append(f"r.{column} = ?")
                params.append(value)
        return self._select(" AND ".join(clauses), params)

    def run_ids(self, dataset: str | None = None, fold: str | None = None, split: str | None = None) -> list[str]:
        """Ids of the runs matching every filter given, newest first, whether or not their rows can be read.

        A row that cannot be made a :class:`RunRecord` still has its id: this is how a reader
        skips such a row (and :meth:`delete` removes it). A file that is not a store raises its FormatError.
        """
        if not self.path.exists():
            return []
        clauses, params = [], []
        for column, value in (("dataset", dataset), ("fold", fold), ("split", split)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect(write=False) as conn:
            if not self._check_schema(conn):
                return []
            rows = conn.execute(
                f"SELECT run_id FROM runs {where} ORDER BY created_utc DESC, rowid DESC", params
            ).fetchall()
        return [str(row[0]) for row in rows]

    def get(self, run_id: str) -> RunRecord:
        """The run with this id; if absent, :class:`UnknownNameError` listing the newest ids."""
        found = self._select("r.run_id = ?", [run_id])
        if found:
            return found[0]
        known: list[str] = []
        if self.path.exists():
            with self._connect(write=False) as conn:
                if self._check_schema(conn):
                    known = [
                        row[0]
                        for row in conn.execute(
                            "SELECT run_id FROM runs ORDER BY created_utc DESC, rowid DESC LIMIT ?", (KNOWN_IDS_SHOWN,)
                        )
                    ]
        raise UnknownNameError("run", run_id, known)

    def predictions(self, run_id: str) -> Any:
        """The run's recorded scores (float32 items x tags), or None when none were recorded."""
        row = self._fetch_one("predictions", "SELECT scores FROM predictions WHERE run_id = ?", (run_id,))
        return None if row is None else from_npy(row[0])

    def split_labels(self, fingerprint: str) -> tuple[tuple[str, ...], tuple[str, ...], Any] | None:
        """(item ids, tags, bool labels) of the split with this fingerprint, when recorded."""
        row = self._fetch_one(
            "splits", "SELECT item_ids, tags, labels FROM splits WHERE fingerprint = ?", (fingerprint,)
        )
        if row is None:
            return None
        return tuple(json.loads(row[0])), tuple(json.loads(row[1])), from_npy(row[2])

    def cached_p_value(self, test_key: str) -> float | None:
        """A paired test's p-value computed before (the key names both runs, their versions and settings).

        Looked up in this object's memory first, then in the store's ``paired_tests`` table.
        """
        if test_key in self._p_values:
            return self._p_values[test_key]
        row = self._fetch_one("paired_tests", "SELECT p_value FROM paired_tests WHERE test_key = ?", (test_key,))
        return None if row is None else float(row[0])

    def cache_p_value(self, test_key: str, p_value: float) -> None:
        """Keep a p-value for later builds: in the store when it can be written, else in memory only.

        A leaderboard build reads a store it may not write (a read-only copy, a mount, another
        user's file) or one a run is writing: the cache is then kept by this object alone, and the
        build goes on. A short lock timeout keeps a busy writer from stalling the build.
        """
        self._p_values[test_key] = float(p_value)
        if not self._p_value_writes or not self.path.exists():
            return
        try:
            with self._connect(write=True, timeout=1.0) as conn:  # a busy writer: give up soon
                if not self._check_schema(conn):
                    return
                self._ensure_extra_tables(conn)
                conn.execute(
                    "INSERT OR REPLACE INTO paired_tests (test_key, p_value) VALUES (?, ?)", (test_key, float(p_value))
                )
        except (sqlite3.Error, BadInputError):  # read-only or busy: the memory copy serves this build
            self._p_value_writes = False

    # -- internals -------------------------------------------------------------------------

    def _fetch_one(self, table: str, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """One row from an added table; None when the file or the table (an older store) is absent."""
        if not self.path.exists():
            return None
        with self._connect(write=False) as conn:
            if not self._check_schema(conn):
                return None
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if table not in tables:
                return None
            return conn.execute(sql, params).fetchone()

    def _select(self, where: str, params: list[Any]) -> list[RunRecord]:
        if not self.path.exists():
            return []
        where_sql = f"WHERE {where}" if where else ""
        with self._connect(write=False) as conn:
            if not self._check_schema(conn):
                return []
            conn.execute("BEGIN")  # one consistent snapshot over the three tables
            rows = conn.execute(
                f"SELECT {RUN_COLUMNS} FROM runs r {where_sql} ORDER BY r.created_utc DESC, r.rowid DESC", params
            ).fetchall()
            scores: dict[str, dict[str, float]] = {row[0]: {} for row in rows}
            for run_id, metric, value in conn.execute(
                f"SELECT s.run_id, s.metric, s.value FROM scores s JOIN runs r "
                f"ON r.run_id = s.run_id {where_sql} ORDER BY s.run_id, s.position",
                params,
            ):
                scores[run_id][metric] = value
            tags: dict[str, dict[str, dict[str, float]]] = {row[0]: {} for row in rows}
            for run_id, tag, metric, value in conn.execute(
                f"SELECT t.run_id, t.tag, t.metric, t.value FROM tag_scores t JOIN runs r "
                f"ON r.run_id = t.run_id {where_sql} "
                "ORDER BY t.run_id, t.position, t.rowid",
                params,
            ):
                tags[run_id].setdefault(tag, {})[metric] = value
            conn.execute("COMMIT")
        return [record_from_row(self.path, row, scores[row[0]], tags[row[0]]) for row in rows]

    @contextlib.contextmanager
    def _connect(self, *, write: bool, timeout: float = 30.0) -> Iterator[sqlite3.Connection]:
        """A connection; a reading one opens the file read-only, so reading never needs write access."""
        try:
            if write:
                conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            else:
                conn = self._open_read_only(timeout)
        except sqlite3.DatabaseError as exc:
            if is_not_a_store(exc):
                raise self._format_error(f"is not a readable SQLite database ({exc})") from exc
            raise BadInputError(f"cannot open results store {self.path}: {exc}") from exc
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            if write:
                # Look before changing anything: a foreign database must stay as it was.
                self._check_schema(conn)
                conn.execute("PRAGMA journal_mode = WAL")
            yield conn
        except sqlite3.DatabaseError as exc:
            if is_not_a_store(exc):
                raise self._format_error(f"is not a readable SQLite database ({exc})") from exc
            raise BadInputError(f"results store {self.path}: {exc}") from exc
        finally:
            conn.close()

    def _open_read_only(self, timeout: float) -> sqlite3.Connection:
        """The store opened read-only (``mode=ro``); immutable where a read-only folder demands it.

        A WAL store is read through its ``-shm`` index, which SQLite must be able to create beside
        the file: in a read-only folder (a mount, an archive copy) it cannot, and the file is then
        opened as immutable. No one can be writing a store in a folder that cannot be written, so
        what is read is the store as it is.
        """
        uri = self.path.absolute().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file (and the -shm)
            return conn
        except sqlite3.Error as exc:
            conn.close()
            if getattr(exc, "sqlite_errorname", "") != "SQLITE_CANTOPEN":
                raise
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=timeout, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _check_schema(self, conn: sqlite3.Connection) -> bool:
        """True when the file holds our schema, False when it is an empty database."""
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return False
        if "meta" not in tables:
            raise self._format_error(
                f"is an SQLite database but not a harness results store (tables: {', '.join(sorted(tables))})"
            )
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            raise self._format_error("has no schema_version in its meta table")
        try:
            version = int(row[0])
        except ValueError:
            raise self._format_error(f"has schema_version {row[0]!r}, not an integer") from None
        if version > SCHEMA_VERSION:
            raise self._format_error(
                f"has schema version {version}, newer than this harness reads ({SCHEMA_VERSION}); upgrade harness"
            )
        if version < SCHEMA_VERSION:  # no older versions exist yet
            raise self._format_error(f"has unknown schema version {version}")
        missing = {"runs", "scores", "tag_scores"} - tables
        if missing:
            raise self._format_error(f"lacks the tables {', '.join(sorted(missing))}")
        return True

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        if self._check_schema(conn):
            self._ensure_extra_tables(conn)
            return
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        from harness import __version__

        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("schema_version", str(SCHEMA_VERSION)), ("created_by", f"harness {__version__}")],
        )
        self._ensure_extra_tables(conn)

    @staticmethod
    def _ensure_extra_tables(conn: sqlite3.Connection) -> None:
        for statement in EXTRA_SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)

    def _format_error(self, problem: str) -> FormatError:
        return FormatError(f"{self.path} {problem}; move it aside or pass another --store")
