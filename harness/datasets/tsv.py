"""The ``tsv`` family: a user's dataset registered with a ``dataset.toml`` and a TSV, no Python.

Files, in the registry folder ``datasets/<name>/`` (or ``$HARNESS_REGISTRY/<name>/``):

- ``dataset.toml`` with ``family = "tsv"``, the tag list, the folds, and a ``[source]`` table::

      [source]
      items = "items.tsv"          # required, relative to the registry folder
      folds = "folds.tsv"          # optional; without it, items.tsv needs a `split` column (one fold)

- ``items.tsv``: tab-separated with a header; columns ``id`` (or ``item_id``), ``path`` (audio,
  relative to the dataset root, or absolute), ``tags`` (tag names joined by ``,``; empty for none),
  and optionally ``split`` (``train``, ``validation`` or ``test``). Other columns are ignored.
- ``folds.tsv``: tab-separated with a header ``id  fold  split``: one row per item and fold.

Both files are UTF-8 (a UTF-8 byte-order mark, as Excel writes it, is fine). Every tag must be one
of the registry's tags, every id unique; a bad row names its file and line.
The toy dataset is read by this same code (its generator writes such a TSV).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from harness.datasets.base import Dataset, Progress
from harness.datasets.checksums import sha256_file
from harness.datasets.registry import SPLITS
from harness.datasets.splits import SplitData, label_matrix
from harness.datasets.textfile import read_utf8, tsv_rows
from harness.errors import DataMissingError, FormatError


@dataclass(frozen=True)
class ItemRow:
    item_id: str
    path: str
    tags: tuple[str, ...]
    split: str | None
    line: int


def read_items_tsv(path: Path, known_tags: tuple[str, ...], path_template: str | None = None) -> list[ItemRow]:
    """Rows of an items TSV, validated against ``known_tags`` (see the module docstring)."""
    text = read_utf8(path, "items file")
    rows_in = tsv_rows(path, text)
    _, header = next(rows_in, (1, None))
    if header is None:
        raise FormatError(f"{path}: empty file; expected a header with id, path, tags")
    columns = {name.strip(): i for i, name in enumerate(header)}
    id_col = columns.get("id", columns.get("item_id"))
    if id_col is None or "tags" not in columns or ("path" not in columns and path_template is None):
        raise FormatError(f"{path}:1: header must name the columns id, path and tags (got {', '.join(header)})")
    known = set(known_tags)
    rows: list[ItemRow] = []
    seen: dict[str, int] = {}
    for line, cells in rows_in:
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            raise FormatError(f"{path}:{line}: {len(cells)} columns, the header has {len(header)}")
        item_id = cells[id_col].strip()
        if not item_id:
            raise FormatError(f"{path}:{line}: empty id")
        if item_id in seen:
            raise FormatError(f"{path}:{line}: duplicate id {item_id!r} (first on line {seen[item_id]})")
        if any(ord(c) < 32 or ord(c) == 127 for c in item_id):
            raise FormatError(f"{path}:{line}: id {item_id!r} holds a control character; ids are printable text")
        seen[item_id] = line
        tags = tuple(t.strip() for t in cells[columns["tags"]].split(",") if t.strip())
        unknown = [t for t in tags if t not in known]
        if unknown:
            raise FormatError(
                f"{path}:{line}: unknown tag {unknown[0]!r}; the registry's tags are {', '.join(known_tags)}"
            )
        split = cells[columns["split"]].strip() if "split" in columns else None
        if split is not None and split not in SPLITS:
            raise FormatError(f"{path}:{line}: split {split!r}, expected one of {', '.join(SPLITS)}")
        audio = cells[columns["path"]].strip() if "path" in columns else str(path_template).format(id=item_id)
        rows.append(ItemRow(item_id, audio, tags, split, line))
    if not rows:
        raise FormatError(f"{path}: no items")
    return rows


def read_folds_tsv(path: Path, item_ids: set[str], folds: tuple[str, ...]) -> dict[tuple[str, str], list[str]]:
    """``(fold, split) -> item ids`` in file order, checking every item is in each fold exactly once."""
    text = read_utf8(path, "folds file")
    parts: dict[tuple[str, str], list[str]] = {(f, s): [] for f in folds for s in SPLITS}
    placed: dict[tuple[str, str], int] = {}
    rows_in = tsv_rows(path, text)
    header = [c.strip() for c in next(rows_in, (1, []))[1]]
    if header[:3] != ["id", "fold", "split"]:
        raise FormatError(f"{path}:1: header must be id, fold, split (tab-separated)")
    for line, cells in rows_in:
        if not cells:
            continue
        if len(cells) < 3:
            raise FormatError(f"{path}:{line}: expected id, fold, split")
        item_id, fold, split = (c.strip() for c in cells[:3])
        if item_id not in item_ids:
            raise FormatError(f"{path}:{line}: id {item_id!r} is not in the items file")
        if fold not in folds:
            raise FormatError(f"{path}:{line}: fold {fold!r} is not in the registry's folds ({', '.join(folds)})")
        if split not in SPLITS:
            raise FormatError(f"{path}:{line}: split {split!r}, expected one of {', '.join(SPLITS)}")
        if (item_id, fold) in placed:
            raise FormatError(
                f"{path}:{line}: {item_id!r} is already placed in {fold} (line {placed[(item_id, fold)]})"
            )
        placed[(item_id, fold)] = line
        parts[(fold, split)].append(item_id)
    return parts


class TsvDataset(Dataset):
    """A dataset whose items, tags and splits come from TSV files."""

    path_template: str | None = None

    def _source_file(self, key: str) -> Path | None:
        """``[source] KEY`` of the registry as a path beside it; None when absent; a non-string is refused."""
        value = self.spec.raw.get("source", {}).get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise FormatError(
                f"{self.spec.registry_path}: [source] {key} = {value!r}; it must be a file name in quotes, "
                f'e.g. {key} = "{key}.tsv"'
            )
        return self.spec.registry_path.parent / value

    @property
    def items_file(self) -> Path:
        path = self._source_file("items")
        if path is None:
            raise FormatError(f'{self.spec.registry_path}: [source] items = "items.tsv" is missing')
        return path

    @property
    def folds_file(self) -> Path | None:
        return self._source_file("folds")

    @cached_property
    def rows(self) -> list[ItemRow]:
        return read_items_tsv(self.items_file, self.spec.tags, self.path_template)

    @cached_property
    def _parts(self) -> dict[tuple[str, str], list[str]]:
        if self.folds_file is not None:
            return read_folds_tsv(self.folds_file, {r.item_id for r in self.rows}, self.spec.folds)
        if len(self.spec.folds) != 1 or any(r.split is None for r in self.rows):
            raise FormatError(
                f"{self.items_file}: without a folds file, items need a split column and the registry exactly one fold"
            )
        fold = self.spec.folds[0]
        return {(fold, s): [r.item_id for r in self.rows if r.split == s] for s in SPLITS}

    def _load_split(self, fold: str, split: str) -> SplitData:
        by_id = {r.item_id: r for r in self.rows}
        ids = self._parts[(fold, split)]
        labels = label_matrix([by_id[item_id].tags for item_id in ids], self.spec.tags)
        return SplitData(self.spec.name, fold, split, tuple(ids), self.spec.tags, labels)

    def audio_files(self) -> list[tuple[str, Path]]:
        return [(r.item_id, self.root / r.path) for r in self.rows]

    def ensure_source(self, on_progress: Progress | None = None) -> None:
        missing = [path for _, path in self.audio_files() if not path.is_file()]
        if missing:
            raise DataMissingError(
                f"{len(missing)} of {len(self.rows)} audio files of {self.name} are missing under {self.root}, "
                f"e.g. {missing[0]}; pass --root DIR where the paths of {self.items_file.name} resolve"
            )

    def source_checksum(self) -> str:
        """SHA-256 over the items file, the folds file (if any) and each audio file's identity.

        An audio file counts by its resolved path, size and modification time (ns), not by its
        content: hashing every file would read the whole dataset again on each ``prepare`` and
        ``run``. Rewriting, replacing or moving a file, or pointing an id at another path, changes
        the checksum, so the store is rebuilt instead of serving stale features.
        """
        digest = hashlib.sha256()
        for path in (self.items_file, self.folds_file):
            if path is not None:
                digest.update(f"{path.name}\t{sha256_file(path) if path.is_file() else 'missing'}\n".encode())
        for item_id, path in self.audio_files():
            digest.update(f"{item_id}\t{_file_identity(path)}\n".encode())
        return digest.hexdigest()


def _file_identity(path: Path) -> str:
    """``resolved path, size, mtime_ns`` of a file, or ``resolved path, missing``."""
    resolved = path.resolve()
    try:
        stat = resolved.stat()
    except OSError:
        return f"{resolved}\tmissing"
    return f"{resolved}\t{stat.st_size}\t{stat.st_mtime_ns}"
