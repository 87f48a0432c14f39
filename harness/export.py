"""Recorded runs as one table: a pandas DataFrame for notebooks, or a CSV, TSV, JSON or Parquet file.

:func:`runs_frame` reads the results store and returns one row per run, newest first, with these
columns in this order:

- the run's identity: :data:`IDENTITY_COLUMNS` (``run_id``, ``dataset``, ``fold``, ``split``,
  ``submission``, ``team``, ``run_name``, ``seed``, ``created``, ``thresholds_source``,
  ``external_data``, ``flags``, ``config_hash``). ``flags`` are the run's recorded flags joined by
  ``"; "`` (empty for none); ``config_hash`` is the one the run recorded, else the SHA-256 of its
  stored configuration (:func:`harness.provenance.config_hash`, as its run page shows it), else empty;
- every metric key any selected run has, under its canonical name, in the order of the metric
  registry (:data:`harness.metrics.keys.METRICS`; keys the registry does not know follow, in the
  order first met), each followed by ``<key> low`` and ``<key> high`` when some run recorded a
  bootstrap interval for it (``harness score --bootstrap N --record``: ``provenance["intervals"]``).
  A run without a key or an interval has an empty cell (NaN).

Rows are selected by a board (``leaderboards/<board>.toml``: its dataset, fold or folds, and split)
and/or by dataset, fold and split. A row the store cannot read is left out with a warning naming
the run (:class:`~harness.leaderboard.checked_store.CheckedStore`, as a board build does);
:func:`runs_frame` issues those as :class:`ExportWarning`. A store that does not exist, holds no
runs or none that match is an error naming it.

:func:`write_frame` writes the table with pandas (``to_csv``, ``to_json(orient="records")``,
``to_parquet``), atomically; CSV, TSV and JSON can also be returned as text. JSON numbers keep 15
significant digits (pandas' most); CSV and TSV keep every digit. Parquet needs ``pyarrow``.

pandas is imported when a table is made, never when this module is, so ``harness`` commands that
do not export start without it.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import atomic, paths
from harness.errors import BadInputError, DataMissingError, FormatError, UnknownNameError
from harness.leaderboard.boards import Board, load_boards
from harness.leaderboard.checked_store import CheckedStore
from harness.metrics import keys
from harness.provenance import config_hash
from harness.results.store import ResultsStore, RunRecord

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMATS",
    "IDENTITY_COLUMNS",
    "ExportWarning",
    "check_destination",
    "load_runs_frame",
    "resolve_format",
    "runs_frame",
    "write_frame",
]

IDENTITY_COLUMNS: tuple[str, ...] = (
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
)
"""The columns before the metrics, in this order."""

FORMATS: tuple[str, ...] = ("csv", "tsv", "json", "parquet")
"""What :func:`write_frame` writes; all but parquet can go to stdout."""

FLAG_SEPARATOR = "; "
JSON_DIGITS = 15  # pandas' largest double_precision


class ExportWarning(UserWarning):
    """A run left out of the table (its row cannot be read), or a recorded interval that cannot be used."""


# -- the table --------------------------------------------------------------------------------


def runs_frame(
    store: str | os.PathLike[str] | None = None,
    board: str | None = None,
    dataset: str | None = None,
    fold: str | None = None,
    split: str | None = None,
    boards_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """The recorded runs as a DataFrame, one row per run, newest first (columns: module docstring).

    Args:
        store: the results store (default: ``$HARNESS_STORE``, else ``runs/results.sqlite``).
        board: only the runs a board shows: its dataset, fold (or folds) and split.
        dataset, fold, split: only the runs with these (with ``board`` too: both must hold).
        boards_dir: where the boards are (default: the project's ``leaderboards/``).

    Runs the store cannot read are left out, each with an :class:`ExportWarning` naming it.

    Raises:
        DataMissingError: no store at ``store``, or it holds no runs, or none that match.
        UnknownNameError: ``board`` is not a board; the message lists the boards.
        FormatError: the store, or every matching row in it, cannot be read.
    """
    frame, problems = load_runs_frame(store, board, dataset, fold, split, boards_dir)
    for problem in problems:
        warnings.warn(problem, ExportWarning, stacklevel=2)
    return frame


def load_runs_frame(
    store: str | os.PathLike[str] | None = None,
    board: str | None = None,
    dataset: str | None = None,
    fold: str | None = None,
    split: str | None = None,
    boards_dir: str | os.PathLike[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """:func:`runs_frame` and its warnings as text, for a caller that prints them (the CLI)."""
    import pandas as pd

    records, problems = _select(store, board, dataset, fold, split, boards_dir)
    intervals = [_intervals(r, problems) for r in records]
    metrics = _metric_columns(records, intervals)
    with_interval = {key for found in intervals for key in found}
    columns = list(IDENTITY_COLUMNS)
    for key in metrics:
        columns += [key, f"{key} low", f"{key} high"] if key in with_interval else [key]
    rows = []
    for record, found in zip(records, intervals, strict=True):
        row: dict[str, Any] = _identity(record)
        for key in metrics:
            row[key] = record.scores.get(key, math.nan)
            if key in with_interval:
                low, high = found.get(key, (math.nan, math.nan))
                row[f"{key} low"], row[f"{key} high"] = low, high
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    frame["seed"] = frame["seed"].astype("Int64")  # an integer column that may lack values
    frame["external_data"] = frame["external_data"].astype(bool)
    for column in columns[len(IDENTITY_COLUMNS) :]:
        frame[column] = frame[column].astype("float64")
    return frame, problems


def _select(
    store: str | os.PathLike[str] | None,
    board_name: str | None,
    dataset: str | None,
    fold: str | None,
    split: str | None,
    boards_dir: str | os.PathLike[str] | None,
) -> tuple[list[RunRecord], list[str]]:
    """The readable runs that match, newest first, and a warning for each that cannot be read."""
    path = Path(store) if store is not None else paths.store_path()
    if not path.exists():
        raise DataMissingError(
            f"no results store at {path}; record runs with `harness run` or `harness score --record`, "
            "or name another store (--store, $HARNESS_STORE)"
        )
    if path.is_dir():
        raise BadInputError(f"{path} is a folder, not a results store; name its .sqlite file")
    checked = CheckedStore(ResultsStore(path))
    if not checked.run_ids():
        raise DataMissingError(
            f"results store {path} holds no runs; record one with `harness run` or `harness score --record`"
        )
    board = _board(board_name, boards_dir) if board_name is not None else None
    query = (dataset, fold, split)
    if board is not None:  # the store is asked for the board's dataset and split; its folds are kept below
        query = (dataset or board.dataset, fold, split or board.split)
    records = [r for r in checked.list_runs(*query) if board is None or _on_board(r, board)]
    # CheckedStore words its warnings for a board build; here the run is left out of the table.
    problems = [w.replace("is left off the boards", "is left out of the table") for w in checked.warnings]
    if not records:
        what = _selection_text(board, dataset, fold, split)
        if problems:
            raise FormatError(f"no readable runs {what} in {path}: {len(problems)} cannot be read, e.g. {problems[0]}")
        raise DataMissingError(f"no runs {what} in {path}; `harness runs list --store {path}` lists what it holds")
    return records, problems


def _on_board(record: RunRecord, board: Board) -> bool:
    return (record.dataset, record.split) == (board.dataset, board.split) and record.fold in (
        board.folds or (board.fold,)
    )


def _board(name: str, boards_dir: str | os.PathLike[str] | None) -> Board:
    boards = load_boards(Path(boards_dir) if boards_dir is not None else paths.leaderboards_dir())
    for board in boards:
        if board.name == name:
            return board
    raise UnknownNameError("board", name, [b.name for b in boards])


def _selection_text(board: Board | None, dataset: str | None, fold: str | None, split: str | None) -> str:
    """``of board 'toy' (toy, split-0, test) with dataset 'x', split 'y'``; ``at all`` without a filter."""
    parts = [f"of board {board.name!r} ({board.dataset}, {board.fold_text}, {board.split})"] if board else []
    filters = [f"{name} {value!r}" for name, value in (("dataset", dataset), ("fold", fold), ("split", split)) if value]
    if filters:
        parts.append("with " + ", ".join(filters))
    return " ".join(parts) or "at all"


def _identity(record: RunRecord) -> dict[str, Any]:
    provenance = record.provenance
    flags = provenance.get("flags") or []
    flags = [flags] if isinstance(flags, str) else [str(f) for f in flags] if isinstance(flags, Sequence) else []
    recorded_hash = provenance.get("config_hash")
    if isinstance(recorded_hash, str) and recorded_hash:
        hashed = recorded_hash
    else:
        hashed = config_hash(record.config) if record.config else ""
    return {
        "run_id": record.run_id,
        "dataset": record.dataset,
        "fold": record.fold,
        "split": record.split,
        "submission": record.submission,
        "team": record.team,
        "run_name": record.run_name,
        "seed": record.seed,
        "created": record.created,
        "thresholds_source": record.thresholds_source,
        "external_data": record.external_data,
        "flags": FLAG_SEPARATOR.join(flags),
        "config_hash": hashed,
    }


def _intervals(record: RunRecord, problems: list[str]) -> dict[str, tuple[float, float]]:
    """``key -> (low, high)`` of the run's recorded bootstrap intervals; one that cannot be used is warned about."""
    recorded = record.provenance.get("intervals")
    if recorded is None:
        return {}
    if not isinstance(recorded, Mapping):
        problems.append(f"run {record.run_id!r}: its recorded intervals are not a table; left empty")
        return {}
    found = {}
    for name, interval in recorded.items():
        ends = [interval.get(end) for end in ("low", "high")] if isinstance(interval, Mapping) else []
        if len(ends) != 2 or not all(_finite(v) for v in ends):
            problems.append(
                f"run {record.run_id!r}: its recorded interval for {name!r} is not finite low and high numbers; "
                "left empty"
            )
            continue
        found[keys.canonical(str(name))] = (float(ends[0]), float(ends[1]))
    return found


def _finite(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _metric_columns(records: list[RunRecord], intervals: list[dict[str, tuple[float, float]]]) -> list[str]:
    """Every key a run has (a score or an interval): the registry's order, then unknown keys as first met."""
    present: dict[str, None] = {}
    for record, found in zip(records, intervals, strict=True):
        present.update(dict.fromkeys(record.scores))
        present.update(dict.fromkeys(found))
    known = [m.key for m in keys.METRICS if m.key in present]
    return known + [key for key in present if key not in known]


# -- files ------------------------------------------------------------------------------------


def resolve_format(fmt: str | None, output: str | os.PathLike[str] | None) -> str:
    """``fmt`` checked, or the format ``output``'s suffix names, or ``csv`` when neither is given."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise UnknownNameError("format", fmt, FORMATS)
        return fmt
    if output is None:
        return "csv"
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise BadInputError(
            f"{output}: cannot tell the format from the suffix {('.' + suffix) if suffix else '(none)'}; "
            f"pass --format {'|'.join(FORMATS)}"
        )
    return suffix


def write_frame(
    frame: pd.DataFrame, fmt: str | None = None, output: str | os.PathLike[str] | None = None
) -> str | None:
    """Write ``frame`` as ``fmt`` (one of :data:`FORMATS`) to ``output`` atomically, or return it as text.

    ``fmt`` defaults to what ``output``'s suffix names, else CSV (:func:`resolve_format`). Without
    ``output``, CSV, TSV and JSON are returned; Parquet (binary) needs a file.

    Raises:
        UnknownNameError: ``fmt`` is not a format.
        BadInputError: Parquet without ``output`` or without pyarrow; ``output`` cannot be written.
    """
    fmt = check_destination(fmt, output)
    if fmt == "parquet":
        return _write(output, lambda tmp: frame.to_parquet(tmp, engine="pyarrow", index=False))
    if fmt == "json":
        text = frame.to_json(orient="records", double_precision=JSON_DIGITS) + "\n"
    else:
        text = frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",", lineterminator="\n")
    if output is None:
        return text
    return _write(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def check_destination(fmt: str | None, output: str | os.PathLike[str] | None) -> str:
    """The format to write (:func:`resolve_format`), once it is known that it can be written to ``output``:
    Parquet needs a file and pyarrow. Called before any work, so nothing is read in vain."""
    fmt = resolve_format(fmt, output)
    if output is not None and Path(output).is_dir():
        raise BadInputError(f"{output} is a folder; -o names the file to write")
    if fmt != "parquet":
        return fmt
    if output is None:
        raise BadInputError("--format parquet writes a binary file: pass -o FILE.parquet")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise BadInputError(
            f"{output}: --format parquet needs pyarrow, which is not installed; `pip install pyarrow` "
            "(or `pip install 'harness[parquet]'`), or export csv, tsv or json"
        ) from None
    return fmt


def _write(output: str | os.PathLike[str], write: Any) -> None:
    target = Path(output)
    try:
        with atomic.atomic_path(target) as tmp:
            write(tmp)
    except OSError as exc:
        raise BadInputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return None
