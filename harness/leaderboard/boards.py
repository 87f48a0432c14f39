"""Leaderboard definitions: ``leaderboards/<board>.toml``, one board per file.

A board shows the runs of one (dataset, fold, split) from the results store, ranked by its
primary metric::

    name = "toy"                       # a slug; the page is <name>.html
    title = "Toy mood music (synthetic), split-0 test"
    dataset = "toy"
    fold = "split-0"                   # or, for a ten-fold board: folds = ["fold-0", ..., "fold-9"]
    split = "test"
    primary = "PR-AUC-macro"           # the key of one of the columns
    description = "..."                # optional

    [[columns]]
    key = "PR-AUC-macro"               # a key (or alias) of the metric registry, harness.metrics.keys
    label = "PR-AUC macro"             # optional, defaults to the key as given
    higher_is_better = true            # optional, defaults to the registry's direction; must agree
    decimals = 4                       # optional, 0..8, defaults to 4
    description = "..."                # optional, shown as a tooltip

A board names either one ``fold`` or several ``folds`` (a k-fold board: each row is one
(submission, team, run name) with one run per fold, shown as mean ± std over the folds present).

Reference rows are published figures whose predictions the store does not have; they are shown
as such (no rank, no run page, a "published" badge, their citation and note)::

    [[references]]
    name = "CNN on spectrograms (simple)"
    citation = "Authors, Title, Venue, Year"
    scores = { "F1-macro" = 0.41 }     # keys among the board's columns (aliases too); finite numbers
    url = "https://doi.org/..."        # optional, http(s) only: the citation links to it
    external_data = false              # optional: trained with data beyond the dataset (a badge, as runs have)
    note = "..."                       # optional, shown under the citation: how a figure was derived, where from

Reference names are unique on a board.

Keys are read through the metric registry (:mod:`harness.metrics.keys`): an alias such as
``F1-macro`` becomes its canonical key (``F-score-macro``) in columns, ``primary`` and reference
scores, so it matches the stored rows. Boards are validated on construction; :func:`load_board`
also checks every column against the registry (a key it does not know, or a ``higher_is_better``
that contradicts the metric's direction) and turns any problem into a
:class:`~harness.errors.FormatError` (a :class:`~harness.errors.BadInputError`) naming the file and
the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from harness.errors import BadInputError, DataMissingError, FormatError
from harness.metrics import keys as metric_keys

SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
URL = re.compile(r"^https?://[^\s/]+\S*$")  # a reference's link: never javascript: or a relative path
RESERVED_NAMES = frozenset({"index", "runs", "groups"})  # would collide with the site's own files
MAX_DECIMALS = 8


@dataclass(frozen=True)
class Column:
    """One metric column of a board."""

    key: str  # an alias is replaced by its canonical key
    label: str = ""  # defaults to the key as given
    higher_is_better: bool | None = None  # defaults to the registry's direction (true for an unknown key)
    decimals: int = 4
    description: str = ""

    def __post_init__(self) -> None:
        _check_text("key", self.key)
        if not isinstance(self.label, str):
            raise BadInputError(f"field 'label' must be a string, got {self.label!r}")
        if not self.label.strip():
            object.__setattr__(self, "label", self.key)  # the name as given, an alias too
        object.__setattr__(self, "key", metric_keys.canonical(self.key))
        known = self.metric
        if self.higher_is_better is None:
            object.__setattr__(self, "higher_is_better", known.higher_is_better if known else True)
        if not isinstance(self.higher_is_better, bool):
            raise BadInputError(f"field 'higher_is_better' must be true or false, got {self.higher_is_better!r}")
        if (
            isinstance(self.decimals, bool)
            or not isinstance(self.decimals, int)
            or not 0 <= self.decimals <= MAX_DECIMALS
        ):
            raise BadInputError(f"field 'decimals' must be an integer from 0 to {MAX_DECIMALS}, got {self.decimals!r}")
        if not isinstance(self.description, str):
            raise BadInputError(f"field 'description' must be a string, got {self.description!r}")

    @property
    def metric(self) -> metric_keys.Metric | None:
        """The registry's entry for this column's key (None for a key the registry does not know)."""
        try:
            return metric_keys.get(self.key)
        except BadInputError:
            return None

    def check_against_registry(self) -> None:
        """Refuse a key the metric registry does not know (or a per-tag key) and a direction that
        contradicts the registry's."""
        known = self.metric
        if known is None or known.metric_set == "per-tag":
            board_keys = [m.key for m in metric_keys.METRICS if m.metric_set != "per-tag"]
            raise BadInputError(f"unknown metric key {self.key!r}; known: {', '.join(board_keys)}")
        if self.higher_is_better != known.higher_is_better:
            raise BadInputError(
                f"higher_is_better = {str(self.higher_is_better).lower()} contradicts the metric registry: "
                f"{self.key} is {'higher' if known.higher_is_better else 'lower'}-is-better"
            )

    @property
    def arrow(self) -> str:
        """↑ when higher is better, ↓ when lower is better."""
        return "↑" if self.higher_is_better else "↓"

    def format(self, value: float | None) -> str:
        """The value with this column's decimals; an em dash when it is missing."""
        return "—" if value is None else f"{value:.{self.decimals}f}"


@dataclass(frozen=True)
class Reference:
    """A published result without predictions: shown on the board as a reference row."""

    name: str
    citation: str
    scores: dict[str, float]
    note: str = ""  # how a figure was derived or where it was taken from, shown on the row
    url: str = ""  # the paper (http or https), linked from the citation
    external_data: bool = False  # trained with data beyond the dataset's training split

    def __post_init__(self) -> None:
        _check_text("name", self.name)
        _check_text("citation", self.citation)
        if not isinstance(self.note, str):
            raise BadInputError(f"field 'note' must be a string, got {self.note!r}")
        if not isinstance(self.url, str) or (self.url and not URL.match(self.url)):
            raise BadInputError(f"field 'url' must be an http(s) address without spaces, got {self.url!r}")
        if not isinstance(self.external_data, bool):
            raise BadInputError(f"field 'external_data' must be true or false, got {self.external_data!r}")
        if not isinstance(self.scores, dict) or not self.scores:
            raise BadInputError("field 'scores' must be a table of metric key = value")
        for key, value in self.scores.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or value != value
                or value in (float("inf"), float("-inf"))
            ):
                raise BadInputError(f"field 'scores.{key}' must be a finite number, got {value!r}")
        object.__setattr__(self, "scores", metric_keys.canonical_scores({k: float(v) for k, v in self.scores.items()}))


@dataclass(frozen=True)
class Board:
    """A leaderboard: the runs of one dataset, fold (or folds) and split, ranked by ``primary``.

    Exactly one of ``fold`` (one fold) and ``folds`` (a k-fold board) is given.
    """

    name: str
    title: str
    dataset: str
    split: str
    primary: str
    columns: tuple[Column, ...]
    fold: str = ""
    folds: tuple[str, ...] = ()
    description: str = ""
    references: tuple[Reference, ...] = ()
    source: Path | None = field(default=None, compare=False)  # the toml file, when loaded

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not SLUG.match(self.name):
            raise BadInputError(
                f"field 'name' must be a slug (lower-case letters, digits, '-' or '_' between them), got {self.name!r}"
            )
        if self.name in RESERVED_NAMES:
            raise BadInputError(f"field 'name' may not be {self.name!r}: the site uses it")
        for name in ("title", "dataset", "split", "primary"):
            _check_text(name, getattr(self, name))
        object.__setattr__(self, "primary", metric_keys.canonical(self.primary))
        if not isinstance(self.fold, str):
            raise BadInputError(f"field 'fold' must be a string, got {self.fold!r}")
        folds = self.folds
        if not isinstance(folds, (list, tuple)) or not all(isinstance(f, str) and f.strip() for f in folds):
            raise BadInputError(f"field 'folds' must be a list of fold names, got {folds!r}")
        folds = tuple(folds)
        repeated = sorted({f for f in folds if folds.count(f) > 1})
        if repeated:
            raise BadInputError(f"field 'folds' repeats {', '.join(repeated)}")
        if folds and self.fold:
            raise BadInputError(
                "give either field 'fold' (one fold) or field 'folds' (a k-fold "
                f"board), not both; got fold {self.fold!r} and folds {list(folds)}"
            )
        if not folds:
            _check_text("fold", self.fold)
        object.__setattr__(self, "folds", folds)
        if not isinstance(self.description, str):
            raise BadInputError(f"field 'description' must be a string, got {self.description!r}")
        columns = tuple(self.columns) if isinstance(self.columns, (list, tuple)) else None
        if not columns:
            raise BadInputError("field 'columns' must list at least one column")
        for i, column in enumerate(columns):
            if not isinstance(column, Column):
                raise BadInputError(f"field 'columns[{i}]' must be a Column, got {column!r}")
        keys = [c.key for c in columns]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise BadInputError(f"field 'columns' repeats the keys {', '.join(duplicates)}")
        if self.primary not in keys:
            raise BadInputError(
                f"field 'primary' is {self.primary!r}, which is not one of the column keys: {', '.join(keys)}"
            )
        object.__setattr__(self, "columns", columns)
        references = tuple(self.references)
        names: set[str] = set()
        for i, reference in enumerate(references):
            if not isinstance(reference, Reference):
                raise BadInputError(f"field 'references[{i}]' must be a Reference, got {reference!r}")
            unknown = sorted(set(reference.scores) - set(keys))
            if unknown:
                raise BadInputError(
                    f"references[{i}] ({reference.name!r}): field 'scores' has keys that are not columns: "
                    f"{', '.join(unknown)}"
                )
            if reference.name in names:
                raise BadInputError(f"references[{i}] ({reference.name!r}): another reference row has this name")
            names.add(reference.name)
        object.__setattr__(self, "references", references)

    @property
    def primary_column(self) -> Column:
        return next(c for c in self.columns if c.key == self.primary)

    @property
    def is_k_fold(self) -> bool:
        """True for a board over several folds (rows aggregate one run per fold)."""
        return bool(self.folds)

    @property
    def fold_text(self) -> str:
        """The fold, or the folds' range for a k-fold board (``fold-0 … fold-9``)."""
        if not self.folds:
            return self.fold
        if len(self.folds) == 1:
            return self.folds[0]
        return f"{self.folds[0]} … {self.folds[-1]} ({len(self.folds)} folds)"

    @property
    def page_name(self) -> str:
        """The board's file name in the built site."""
        return f"{self.name}.html"


def load_board(path: str | Path) -> Board:
    """Read and validate one board definition; FormatError names the file and the field."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise DataMissingError(f"board definition {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"{path}: not valid TOML ({exc})") from exc

    board_fields = {f.name for f in fields(Board)} - {"source"}
    column_fields = {f.name for f in fields(Column)}
    _check_keys(path, "", data, board_fields, required=("name", "title", "dataset", "split", "primary", "columns"))
    if "fold" not in data and "folds" not in data:
        raise FormatError(f"{path}: missing field 'fold' (or 'folds' for a k-fold board)")
    raw_columns = data["columns"]
    if not isinstance(raw_columns, list) or not all(isinstance(c, dict) for c in raw_columns):
        raise FormatError(f"{path}: field 'columns' must be an array of tables ([[columns]])")
    columns = []
    for i, raw in enumerate(raw_columns):
        _check_keys(path, f"columns[{i}].", raw, column_fields, required=("key",))
        try:
            column = Column(**raw)
            column.check_against_registry()
            columns.append(column)
        except BadInputError as exc:
            key = raw.get("key")
            raise FormatError(f"{path}: columns[{i}] (key {key!r}): {exc.message}") from None
    raw_references = data.get("references", [])
    if not isinstance(raw_references, list) or not all(isinstance(r, dict) for r in raw_references):
        raise FormatError(f"{path}: field 'references' must be an array of tables ([[references]])")
    references = []
    for i, raw in enumerate(raw_references):
        _check_keys(
            path, f"references[{i}].", raw, {f.name for f in fields(Reference)}, required=("name", "citation", "scores")
        )
        try:
            references.append(Reference(**raw))
        except BadInputError as exc:
            raise FormatError(f"{path}: references[{i}] ({raw.get('name')!r}): {exc.message}") from None
    try:
        return Board(**{**data, "columns": tuple(columns), "references": tuple(references)}, source=path)
    except BadInputError as exc:
        raise FormatError(f"{path}: {exc.message}") from None


def load_boards(directory: str | Path) -> list[Board]:
    """Every ``*.toml`` board in ``directory``, sorted by name; names must be unique."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataMissingError(f"board folder {directory} does not exist")
    boards = sorted((load_board(p) for p in sorted(directory.glob("*.toml"))), key=lambda b: b.name)
    seen: dict[str, Path | None] = {}
    for board in boards:
        if board.name in seen:
            raise FormatError(
                f"{board.source}: field 'name': board {board.name!r} is also defined in {seen[board.name]}"
            )
        seen[board.name] = board.source
    return boards


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(f"field {name!r} must be a non-empty string, got {value!r}")


def _check_keys(path: Path, prefix: str, data: dict[str, Any], allowed: set[str], required: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise FormatError(f"{path}: unknown field '{prefix}{unknown[0]}'; the fields are {', '.join(sorted(allowed))}")
    for name in required:
        if name not in data:
            raise FormatError(f"{path}: missing field '{prefix}{name}'")
