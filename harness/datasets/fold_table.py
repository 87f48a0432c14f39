"""A committed part assignment: the ``parts.tsv`` file, and the registry's ``[folds]`` table that names it.

``parts.tsv`` format: UTF-8, LF line endings, tab-separated, a header ``item_id`` followed by one
column per fold set (e.g. ``part``, ``random_part``), then one row per item in the dataset's item
order, each cell a part number ``0..n_parts-1``. Re-running ``datasets/make_folds.py`` on the same
source files gives the same bytes; the file is never edited by hand, and the registry pins its
SHA-256. (Not the ``tsv`` family's ``folds.tsv``, whose rows are ``id, fold, split``.)

Registry fields (``dataset.toml``)::

    [folds]
    names = ["fold-0", ..., "fold-9", "random-0", ..., "random-9"]   # default set first
    file = "parts.tsv"                # relative to the registry folder
    sha256 = "..."                    # of that file
    n_parts = 10
    seed = 500                        # every generator of this registry uses it
    [folds.sets.fold]                 # the fold name prefix
    column = "part"                   # its column in parts.tsv
    method = "stratified"             # stratified | grouped-stratified | random
    [folds.sets.random]
    column = "random_part"
    method = "random"
    flags = []                        # warnings carried by every score on these folds
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.datasets.fold_generators import METHODS
from harness.datasets.textfile import read_utf8, tsv_rows
from harness.errors import DataMissingError, FormatError

PARTS_FILE = "parts.tsv"
OLD_PARTS_FILE = "folds.tsv"  # its former name (now the tsv family's id/fold/split file): a missing parts.tsv beside one says to rename it
MAKE_FOLDS_SCRIPT = "datasets/make_folds.py"


# --- the parts.tsv file --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FoldTable:
    """The content of a ``parts.tsv``: item ids in file order and one part column per fold set."""

    item_ids: tuple[str, ...]
    columns: dict[str, np.ndarray]


def format_parts_tsv(item_ids: Sequence[str], columns: dict[str, np.ndarray]) -> str:
    """The canonical text of a ``parts.tsv`` (LF, tab-separated, header first)."""
    names = list(columns)
    for name in names:
        if len(columns[name]) != len(item_ids):
            raise ValueError(f"column {name!r} has {len(columns[name])} rows for {len(item_ids)} items")
    lines = ["\t".join(["item_id", *names])]
    for i, item_id in enumerate(item_ids):
        if "\t" in item_id or "\n" in item_id:
            raise ValueError(f"item id {item_id!r} contains a tab or a newline")
        lines.append("\t".join([item_id, *(str(int(columns[name][i])) for name in names)]))
    return "\n".join(lines) + "\n"


def read_parts_tsv(path: Path, n_parts: int, expected_columns: Sequence[str] = ()) -> FoldTable:
    """Read and check a ``parts.tsv``: header, one row per item, no duplicate id, parts in range."""
    if not path.is_file():
        raise DataMissingError(f"{path}: folds file not found; `python {MAKE_FOLDS_SCRIPT}` makes it")
    rows = tsv_rows(path, read_utf8(path, "folds file"))
    header = next(rows, (1, None))[1]
    if not header or header[0] != "item_id" or len(header) < 2:
        raise FormatError(f"{path}:1: header must be item_id followed by part columns (tab-separated)")
    missing = [c for c in expected_columns if c not in header[1:]]
    if missing:
        raise FormatError(f"{path}:1: no column {missing[0]!r} (columns: {', '.join(header[1:])})")
    ids: list[str] = []
    values: list[list[int]] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        if not cells:
            continue
        if len(cells) != len(header):
            raise FormatError(f"{path}:{line}: {len(cells)} columns, the header has {len(header)}")
        item_id = cells[0]
        if not item_id:
            raise FormatError(f"{path}:{line}: empty item id")
        if item_id in seen:
            raise FormatError(f"{path}:{line}: duplicate item id {item_id!r} (first on line {seen[item_id]})")
        seen[item_id] = line
        row = []
        for name, cell in zip(header[1:], cells[1:]):
            if not cell.isdigit() or int(cell) >= n_parts:
                raise FormatError(f"{path}:{line}: {name} {cell!r} is not a part number 0..{n_parts - 1}")
            row.append(int(cell))
        ids.append(item_id)
        values.append(row)
    if not ids:
        raise FormatError(f"{path}: no items")
    matrix = np.asarray(values, dtype=np.int64)
    return FoldTable(tuple(ids), {name: matrix[:, j] for j, name in enumerate(header[1:])})


# --- registry fields ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FoldSet:
    """A family of folds ``<prefix>-0..n-1`` read from one column of ``parts.tsv``."""

    prefix: str
    column: str
    method: str
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"fold set {self.prefix!r}: method {self.method!r}, expected one of {', '.join(METHODS)}")


@dataclass(frozen=True)
class FoldsConfig:
    file: str
    sha256: str | None
    n_parts: int
    seed: int
    sets: tuple[FoldSet, ...]

    @property
    def default(self) -> FoldSet:
        return self.sets[0]

    def locate(self, fold: str) -> tuple[FoldSet, int]:
        prefix, _, index = fold.rpartition("-")
        for fold_set in self.sets:
            if fold_set.prefix == prefix and index.isdigit() and int(index) < self.n_parts:
                return fold_set, int(index)
        raise FormatError(f"fold {fold!r} does not name <set>-<0..{self.n_parts - 1}> of a set in [folds.sets]")


def read_folds_config(raw: dict, registry: Path, fold_names: Sequence[str]) -> FoldsConfig:
    """The ``[folds]`` table of a registry (see the module docstring), checked against its fold names."""
    table = raw.get("folds", {})
    try:
        sets = tuple(
            FoldSet(prefix, str(body["column"]), str(body["method"]), tuple(body.get("flags", ())))
            for prefix, body in table["sets"].items()
        )
        config = FoldsConfig(
            file=str(table.get("file", PARTS_FILE)),
            sha256=table.get("sha256"),
            n_parts=int(table.get("n_parts", 10)),
            seed=int(table["seed"]),
            sets=sets,
        )
    except KeyError as exc:
        raise FormatError(f"{registry}: [folds] is missing {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise FormatError(f"{registry}: [folds]: {exc}") from exc
    if not sets:
        raise FormatError(f"{registry}: [folds.sets] must define at least one fold set")
    if config.n_parts < 3:
        raise FormatError(f"{registry}: [folds] n_parts must be >= 3 (test, validation and train parts)")
    for name in fold_names:
        try:
            config.locate(name)
        except FormatError as exc:
            raise FormatError(f"{registry}: {exc}") from None
    return config
