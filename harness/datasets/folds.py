"""Committed fold assignments (``folds.tsv``), the generators that make them, and the datasets that read them.

CAL500 and CAL500exp are cross-validated: every item (song or segment) is assigned once to one of
``n_parts`` parts (ten), and fold ``<set>-<k>`` of a fold set uses

- ``test``: part ``k``;
- ``validation``: part ``(k + 1) mod n_parts``;
- ``train``: every other part.

The assignment is data, made once by ``datasets/make_folds.py`` from the source files and
committed; it is never edited by hand, and the registry pins its SHA-256.

``folds.tsv`` format: UTF-8, LF line endings, tab-separated, a header ``item_id`` followed by one
column per fold set (e.g. ``part``, ``random_part``), then one row per item in the dataset's item
order, each cell a part number ``0..n_parts-1``. Re-running the script on the same source files
gives the same bytes.

Registry fields (``dataset.toml``)::

    [folds]
    names = ["fold-0", ..., "fold-9", "random-0", ..., "random-9"]   # default set first
    file = "folds.tsv"                # relative to the registry folder
    sha256 = "..."                    # of that file
    n_parts = 10
    seed = 500                        # every generator of this registry uses it
    [folds.sets.fold]                 # the fold name prefix
    column = "part"                   # its column in folds.tsv
    method = "stratified"             # stratified | grouped-stratified | random
    [folds.sets.random]
    column = "random_part"
    method = "random"
    flags = []                        # warnings carried by every score on these folds

Generators (pure functions over arrays; fixed seeds, so the same inputs give the same parts):

- :func:`stratified_parts`: multi-label iterative stratification (Sechidis et al., ECML PKDD
  2011) with ``iterstrat.ml_stratifiers.MultilabelStratifiedKFold``: every tag gets positives in
  every part when it has at least ``n_parts`` positives.
- :func:`grouped_stratified_parts`: the same over groups (CAL500exp: songs), each group labelled
  with the *any* of its items' labels; items follow their group, so no group is in two parts and a
  tag reaches every part when at least ``n_parts`` groups have a positive item.
- :func:`random_parts`: scikit-learn's ``KFold(shuffle=True)``, the plain random ten-fold of the
  papers (for CAL500exp over segments: leaky).
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from harness.datasets.base import Dataset, Progress
from harness.datasets.fetch import sha256_file
from harness.datasets.registry import SPLITS
from harness.datasets.splits import SplitData
from harness.datasets.textfile import read_utf8, tsv_rows
from harness.errors import BadInputError, DataMissingError, FormatError, HarnessError

if TYPE_CHECKING:
    from harness.datasets.audit import Finding

METHODS: tuple[str, ...] = ("stratified", "grouped-stratified", "random")
MAKE_FOLDS_SCRIPT = "datasets/make_folds.py"


# --- generators -------------------------------------------------------------------------------


def stratified_parts(labels: np.ndarray, n_parts: int, seed: int) -> np.ndarray:
    """Part number (``0..n_parts-1``) of every row of a bool ``(items, tags)`` matrix, by iterative stratification."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    labels = _check_labels(labels, n_parts)
    parts = np.full(labels.shape[0], -1, dtype=np.int64)
    # scikit-learn calls one column "binary", not multi-label: add its complement (same strata).
    target = labels if labels.shape[1] >= 2 else np.column_stack([labels, ~labels.any(axis=1)])
    splitter = MultilabelStratifiedKFold(n_splits=n_parts, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros((labels.shape[0], 1)), target)):
        parts[test] = k
    assert (parts >= 0).all(), "iterative stratification left an item without a part"
    return repair_coverage(labels, parts, n_parts)


def repair_coverage(labels: np.ndarray, parts: np.ndarray, n_parts: int) -> np.ndarray:
    """Swap items between parts until every tag with ``>= n_parts`` positives has one in every part.

    Iterative stratification is greedy: with many tags, a tag with barely ``n_parts`` positives can
    end up with two in one part and none in another. Each step takes the first (tag, part) without a
    positive, and swaps a positive item of that tag from a part holding two or more with an item of
    the empty part, choosing, among swaps that empty no (tag, part) cell, the pair whose label rows
    differ least (first in item order on ties). Part sizes do not change; each step removes one hole,
    so it ends; a hole no swap can fill stays (``verify`` reports it). Deterministic.
    """
    labels = np.asarray(labels, dtype=bool)
    parts = parts.copy()
    reachable = labels.sum(axis=0) >= n_parts
    as_int = labels.astype(np.int64)
    while True:
        counts = positives_per_part(labels, parts, n_parts)
        holes = [(t, k) for t in np.flatnonzero(reachable) for k in range(n_parts) if counts[k, t] == 0]
        swap = next((found for t, k in holes if (found := _best_swap(as_int, parts, counts, reachable, t, k))), None)
        if swap is None:
            return parts
        i, j = swap
        parts[i], parts[j] = parts[j], parts[i]


def _best_swap(
    labels: np.ndarray, parts: np.ndarray, counts: np.ndarray, reachable: np.ndarray, tag: int, empty: int
) -> tuple[int, int] | None:
    """The swap (item of a donor part with ``tag``, item of part ``empty``) that fills the hole; None if none."""
    receivers = np.flatnonzero(parts == empty)
    best: tuple[int, int, int] | None = None  # (cost, i, j)
    for donor in np.flatnonzero(counts[:, tag] >= 2):
        guard_donor = reachable & (counts[donor] >= 1)
        guard_empty = reachable & (counts[empty] >= 1)
        for i in np.flatnonzero((parts == donor) & (labels[:, tag] == 1)):
            delta = labels[receivers] - labels[i]  # per candidate j: what the donor gains, the empty part loses
            ok_donor = ((counts[donor] + delta >= 1) | ~guard_donor).all(axis=1)
            ok_empty = ((counts[empty] - delta >= 1) | ~guard_empty).all(axis=1)
            valid = np.flatnonzero(ok_donor & ok_empty)
            if valid.size == 0:
                continue
            cost = np.abs(delta[valid]).sum(axis=1)
            pick = valid[int(np.argmin(cost))]
            candidate = (int(cost.min()), int(i), int(receivers[pick]))
            if best is None or candidate < best:
                best = candidate
    return None if best is None else (best[1], best[2])


def grouped_stratified_parts(labels: np.ndarray, groups: Sequence[str], n_parts: int, seed: int) -> np.ndarray:
    """Parts of items that keep every group whole: stratify the groups (labels = any of their items)."""
    labels = np.asarray(labels, dtype=bool)
    names, inverse = _group_index(groups, labels.shape[0])
    group_labels = np.zeros((len(names), labels.shape[1]), dtype=bool)
    np.logical_or.at(group_labels, inverse, labels)
    return stratified_parts(group_labels, n_parts, seed)[inverse]


def random_parts(n_items: int, n_parts: int, seed: int) -> np.ndarray:
    """Plain random parts: scikit-learn ``KFold(n_parts, shuffle=True, random_state=seed)``."""
    from sklearn.model_selection import KFold

    if n_items < n_parts:
        raise BadInputError(f"{n_items} items cannot fill {n_parts} parts")
    parts = np.full(n_items, -1, dtype=np.int64)
    for k, (_, test) in enumerate(KFold(n_splits=n_parts, shuffle=True, random_state=seed).split(np.zeros(n_items))):
        parts[test] = k
    return parts


def make_parts(
    method: str, labels: np.ndarray, groups: Sequence[str] | None, n_parts: int, seed: int
) -> np.ndarray:
    """Dispatch on a registry's ``method``."""
    if method == "stratified":
        return stratified_parts(labels, n_parts, seed)
    if method == "grouped-stratified":
        if groups is None:
            raise BadInputError("method 'grouped-stratified' needs item groups; this dataset has none")
        return grouped_stratified_parts(labels, groups, n_parts, seed)
    if method == "random":
        return random_parts(labels.shape[0], n_parts, seed)
    raise BadInputError(f"unknown fold method {method!r}; known: {', '.join(METHODS)}")


def _check_labels(labels: np.ndarray, n_parts: int) -> np.ndarray:
    labels = np.asarray(labels, dtype=bool)
    if labels.ndim != 2:
        raise ValueError(f"labels must be (items, tags), got shape {labels.shape}")
    if n_parts < 2:
        raise ValueError(f"n_parts must be >= 2, got {n_parts}")
    if labels.shape[0] < n_parts:
        raise BadInputError(f"{labels.shape[0]} items cannot fill {n_parts} parts")
    return labels


def _group_index(groups: Sequence[str], n_items: int) -> tuple[list[str], np.ndarray]:
    if len(groups) != n_items:
        raise ValueError(f"{len(groups)} groups for {n_items} items")
    names: dict[str, int] = {}
    inverse = np.array([names.setdefault(g, len(names)) for g in groups], dtype=np.int64)
    return list(names), inverse


# --- properties of a part assignment ---------------------------------------------------------


def fold_masks(parts: np.ndarray, k: int, n_parts: int) -> dict[str, np.ndarray]:
    """Boolean masks of ``train``, ``validation`` and ``test`` of fold ``k``."""
    test = parts == k
    validation = parts == (k + 1) % n_parts
    return {"train": ~(test | validation), "validation": validation, "test": test}


def positives_per_part(
    labels: np.ndarray, parts: np.ndarray, n_parts: int, groups: Sequence[str] | None = None
) -> np.ndarray:
    """``(n_parts, tags)``: positive items per part and tag (with ``groups``: groups with a positive item)."""
    labels = np.asarray(labels, dtype=bool)
    out = np.zeros((n_parts, labels.shape[1]), dtype=np.int64)
    if groups is None:
        for k in range(n_parts):
            out[k] = labels[parts == k].sum(axis=0)
        return out
    _, inverse = _group_index(groups, labels.shape[0])
    for k in range(n_parts):
        mask = parts == k
        for j in range(labels.shape[1]):
            out[k, j] = len(np.unique(inverse[mask & labels[:, j]]))
    return out


def impossible_tags(
    tags: Sequence[str], labels: np.ndarray, n_parts: int, groups: Sequence[str] | None = None
) -> list[str]:
    """Tags with fewer positive items (or positive groups) than parts: no assignment reaches every part."""
    labels = np.asarray(labels, dtype=bool)
    if groups is None:
        counts = labels.sum(axis=0)
    else:
        _, inverse = _group_index(groups, labels.shape[0])
        counts = np.array([len(np.unique(inverse[labels[:, j]])) for j in range(labels.shape[1])])
    return [tag for tag, n in zip(tags, counts) if n < n_parts]


def groups_in_several_parts(groups: Sequence[str], parts: np.ndarray) -> list[str]:
    """Groups whose items are not all in one part."""
    seen: dict[str, int] = {}
    split: set[str] = set()
    for group, part in zip(groups, parts):
        if seen.setdefault(group, int(part)) != int(part):
            split.add(group)
    return sorted(split)


# --- the folds.tsv file ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FoldTable:
    """The content of a ``folds.tsv``: item ids in file order and one part column per fold set."""

    item_ids: tuple[str, ...]
    columns: dict[str, np.ndarray]


def format_folds_tsv(item_ids: Sequence[str], columns: dict[str, np.ndarray]) -> str:
    """The canonical text of a ``folds.tsv`` (LF, tab-separated, header first)."""
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


def read_folds_tsv(path: Path, n_parts: int, expected_columns: Sequence[str] = ()) -> FoldTable:
    """Read and check a ``folds.tsv``: header, one row per item, no duplicate id, parts in range."""
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


# --- checksums ---------------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_sha256(directory: Path, pattern: str) -> str:
    """SHA-256 of a folder's files matching ``pattern``: ``cd DIR && LC_ALL=C sha256sum PATTERN | sha256sum``."""
    files = sorted((p for p in Path(directory).glob(pattern) if p.is_file()), key=lambda p: p.name)
    listing = "".join(f"{sha256_file(p)}  {p.name}\n" for p in files)
    return sha256_bytes(listing.encode("utf-8"))


# --- registry fields ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FoldSet:
    """A family of folds ``<prefix>-0..n-1`` read from one column of ``folds.tsv``."""

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
            file=str(table.get("file", "folds.tsv")),
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


# --- the datasets that read a committed folds.tsv ----------------------------------------------


@dataclass(frozen=True, eq=False)
class ItemTable:
    """Every item of a dataset in its stable order, its labels over the registry's tags, its groups."""

    item_ids: tuple[str, ...]
    labels: np.ndarray  # bool (items, tags)
    groups: tuple[str, ...] | None = None  # e.g. the song of each segment


class CommittedFoldsDataset(Dataset):
    """A dataset whose folds come from a committed ``folds.tsv`` (CAL500, CAL500exp).

    A family implements :meth:`_read_items` (parse the source files under the root) and
    :meth:`_source_findings_extra`; pinned source checksums (``[source.sha256]`` for files,
    ``[source.tree_sha256]`` for folders, relative to the root) are checked whenever items are read.
    """

    tree_patterns: dict[str, str] = {}  # folder -> glob of the files its tree digest covers
    default_obtain: str = ""  # where the source files come from, unless the registry's [source] obtain says

    # -- to implement

    @abstractmethod
    def _read_items(self) -> ItemTable: ...

    def obtain_hint(self) -> str:
        """Where a person gets the source files (goes into every missing-file message)."""
        return str(self.source_table.get("obtain", self.default_obtain or f"see {self.spec.registry_path}"))

    def audio_dir(self) -> Path:
        """The song audio folder: the registry's ``[audio] dir`` under the root (default ``audio``)."""
        return self.root / str(self.spec.raw.get("audio", {}).get("dir", "audio"))

    def audio_path(self, song: str) -> Path:
        """A song's audio file: ``<audio dir>/<song><[audio] suffix>`` (default ``.mp3``)."""
        return self.audio_dir() / f"{song}{self.spec.raw.get('audio', {}).get('suffix', '.mp3')}"

    # -- registry

    @cached_property
    def folds_config(self) -> FoldsConfig:
        return read_folds_config(self.spec.raw, self.spec.registry_path, self.spec.folds)

    @property
    def folds_file(self) -> Path:
        return self.spec.registry_path.parent / self.folds_config.file

    @property
    def source_table(self) -> dict:
        return self.spec.raw.get("source", {})

    def pinned_files(self) -> dict[str, str]:
        return {str(k): str(v).lower() for k, v in self.source_table.get("sha256", {}).items() if v}

    def pinned_trees(self) -> dict[str, str]:
        return {str(k): str(v).lower() for k, v in self.source_table.get("tree_sha256", {}).items() if v}

    def source_digests(self) -> dict[str, str]:
        """Current digests of every pinnable source under the root (files and trees), for the registry."""
        out: dict[str, str] = {}
        for rel in dict.fromkeys([*self.source_table.get("sha256", {}), *self.source_files()]):
            path = self.root / rel
            if path.is_file():
                out[rel] = sha256_file(path)
        for rel, pattern in self.tree_patterns.items():
            if (self.root / rel).is_dir():
                out[rel + "/"] = tree_sha256(self.root / rel, pattern)
        return out

    def source_files(self) -> tuple[str, ...]:
        """The single files the items are read from (relative to the root)."""
        return ()

    # -- items, checked against the pins

    def require(self, rel: str) -> Path:
        path = self.root / rel
        if not path.exists():
            raise DataMissingError(f"{path}: not found; {self.name} needs it in its root ({self.obtain_hint()})")
        return path

    def check_pins(self, names: Sequence[str] | None = None) -> None:
        """Raise on the first pinned source (among ``names``, default all) whose digest differs."""
        for rel, expected in self.pinned_files().items():
            if names is not None and rel not in names:
                continue
            actual = sha256_file(self.require(rel))
            if actual != expected:
                raise FormatError(
                    f"{self.root / rel}: SHA-256 {actual}, the registry pins {expected}; "
                    f"get an unmodified copy ({self.obtain_hint()})"
                )
        for rel, expected in self.pinned_trees().items():
            if names is not None and rel not in names:
                continue
            actual = tree_sha256(self.require(rel), self.tree_patterns.get(rel, "*"))
            if actual != expected:
                raise FormatError(
                    f"{self.root / rel}/: tree SHA-256 {actual}, the registry pins {expected} "
                    f"(a file was added, removed or changed); get an unmodified copy ({self.obtain_hint()})"
                )

    @cached_property
    def items(self) -> ItemTable:
        table = self._read_items()
        if table.labels.shape != (len(table.item_ids), len(self.spec.tags)):
            raise AssertionError("family returned labels of the wrong shape")
        return table

    @cached_property
    def fold_table(self) -> FoldTable:
        """The committed assignment, checked against its pin and against the items on disk."""
        config = self.folds_config
        path = self.folds_file
        if not path.is_file():
            raise DataMissingError(
                f"{path}: folds file not found; `python {MAKE_FOLDS_SCRIPT} {self.name} --root DIR` makes it"
            )
        actual = sha256_file(path) if config.sha256 else None
        if actual is not None and actual != config.sha256.lower():
            raise FormatError(
                f"{path}: SHA-256 {actual}, the registry pins {config.sha256}; the committed folds "
                f"were changed: restore them from git or regenerate with `python {MAKE_FOLDS_SCRIPT} {self.name} --root DIR`"
            )
        table = read_folds_tsv(path, config.n_parts, [s.column for s in config.sets])
        known = set(self.items.item_ids)
        unknown = [i for i in table.item_ids if i not in known]
        if unknown:
            raise FormatError(f"{path}: item {unknown[0]!r} is not in the source files under {self.root}")
        if len(table.item_ids) != len(known):
            missing = sorted(known - set(table.item_ids))
            raise FormatError(f"{path}: {len(missing)} items of {self.root} have no part, e.g. {missing[0]!r}")
        return table

    @cached_property
    def _fold_rows(self) -> np.ndarray:
        """The ``folds.tsv`` row of every item, in item order."""
        position = {item_id: i for i, item_id in enumerate(self.fold_table.item_ids)}
        return np.array([position[i] for i in self.items.item_ids], dtype=np.int64)

    def parts(self, fold_set: FoldSet) -> np.ndarray:
        """Part of every item (in item order) for one fold set."""
        return self.fold_table.columns[fold_set.column][self._fold_rows]

    def _load_split(self, fold: str, split: str) -> SplitData:
        fold_set, k = self.folds_config.locate(fold)
        mask = fold_masks(self.parts(fold_set), k, self.folds_config.n_parts)[split]
        ids = tuple(i for i, keep in zip(self.items.item_ids, mask) if keep)
        return SplitData(self.name, fold, split, ids, self.spec.tags, self.items.labels[mask])

    def fold_flags(self, fold: str) -> tuple[str, ...]:
        return self.folds_config.locate(fold)[0].flags

    def fetch(self, what: str = "splits", base_url: str | None = None, on_progress: Progress | None = None) -> list[Path]:
        raise BadInputError(
            f"{self.name} cannot be downloaded by the harness (its licence asks for a copy from the publisher): "
            f"{self.obtain_hint()}; then pass --root DIR"
        )

    # -- generation (datasets/make_folds.py)

    def make_fold_text(self) -> str:
        """The ``folds.tsv`` this registry's generators make from the sources under the root."""
        config = self.folds_config
        items = self.items
        columns = {
            s.column: make_parts(s.method, items.labels, items.groups, config.n_parts, config.seed) for s in config.sets
        }
        return format_folds_tsv(items.item_ids, columns)

    # -- audit

    def verify(self) -> list[Finding]:
        from harness.datasets.audit import Finding

        findings = self._checksum_findings()
        if not all(f.ok for f in findings):
            return findings
        try:
            items = self.items
            self.fold_table  # noqa: B018 - reading it checks it
        except HarnessError as exc:
            return [*findings, Finding("sources and folds readable", False, exc.message)]
        findings += self._count_findings(items)
        findings.append(
            Finding("folds.tsv: every item in exactly one part per fold set", True,
                    f"{len(items.item_ids)} items, columns {', '.join(s.column for s in self.folds_config.sets)}")
        )
        findings += self._source_findings_extra()
        for fold_set in self.folds_config.sets:
            findings += self._fold_set_findings(fold_set)
        return findings

    def _source_findings_extra(self) -> list[Finding]:
        return []

    def _checksum_findings(self) -> list[Finding]:
        from harness.datasets.audit import Finding

        findings = []
        for rel, expected in self.pinned_files().items():
            path = self.root / rel
            if not path.is_file():
                findings.append(Finding(f"checksum {rel}", False, f"{path} not found ({self.obtain_hint()})"))
                continue
            actual = sha256_file(path)
            findings.append(Finding(f"checksum {rel}", actual == expected,
                                    "matches" if actual == expected else f"expected {expected}, got {actual}"))
        for rel, expected in self.pinned_trees().items():
            path = self.root / rel
            if not path.is_dir():
                findings.append(Finding(f"checksum {rel}/", False, f"{path} not found ({self.obtain_hint()})"))
                continue
            actual = tree_sha256(path, self.tree_patterns.get(rel, "*"))
            findings.append(Finding(f"checksum {rel}/ (tree)", actual == expected,
                                    "matches" if actual == expected else f"expected {expected}, got {actual}"))
        config = self.folds_config
        if config.sha256:
            if not self.folds_file.is_file():
                findings.append(Finding(f"checksum {config.file}", False, f"{self.folds_file} not found"))
            else:
                actual = sha256_file(self.folds_file)
                ok = actual == config.sha256.lower()
                findings.append(Finding(f"checksum {config.file}", ok, "matches" if ok else f"expected {config.sha256}, got {actual}"))
        return findings

    def _count_findings(self, items: ItemTable) -> list[Finding]:
        from harness.datasets.audit import Finding

        findings = []
        expected = self.source_table.get("expected_items")
        if expected is not None:
            n = len(items.item_ids)
            findings.append(Finding("count of items", n == int(expected), f"{n} items (registry: {expected})"))
        expected_groups = self.source_table.get("expected_groups")
        if expected_groups is not None and items.groups is not None:
            n = len(set(items.groups))
            findings.append(Finding("count of groups", n == int(expected_groups), f"{n} groups (registry: {expected_groups})"))
        return findings

    def _fold_set_findings(self, fold_set: FoldSet) -> list[Finding]:
        from harness.datasets.audit import Finding, audit_fold

        config = self.folds_config
        items = self.items
        parts = self.parts(fold_set)
        grouped = items.groups is not None
        findings: list[Finding] = []
        sizes = np.bincount(parts, minlength=config.n_parts)
        findings.append(Finding(f"{fold_set.prefix}-*: part sizes", bool(sizes.min() > 0),
                                f"{sizes.min()}..{sizes.max()} items per part"))
        if grouped:
            split_groups = groups_in_several_parts(items.groups, parts)
            if fold_set.method == "random":
                # A known leak of the fold set: reported, and carried as a flag by every score.
                findings.append(Finding(
                    f"{fold_set.prefix}-*: leak flagged ({'; '.join(fold_set.flags) or 'no flag set'})",
                    bool(fold_set.flags),
                    f"{len(split_groups)} of {len(set(items.groups))} groups have items in more than one part; "
                    "every score on these folds carries the flag",
                ))
            else:
                findings.append(Finding(
                    f"{fold_set.prefix}-*: no group in two parts", not split_groups,
                    f"{len(split_groups)} groups split, e.g. {split_groups[:3]}" if split_groups
                    else f"{len(set(items.groups))} groups, each in one part",
                ))
        impossible = set(impossible_tags(self.spec.tags, items.labels, config.n_parts, items.groups))
        counts = positives_per_part(items.labels, parts, config.n_parts, items.groups)
        unit = "groups" if grouped else "items"
        stratified = fold_set.method != "random"
        reachable = [j for j, t in enumerate(self.spec.tags) if t not in impossible]
        missing = [(self.spec.tags[j], k) for j in reachable for k in range(config.n_parts) if counts[k, j] == 0]
        minimum = int(counts[:, reachable].min()) if reachable else 0
        detail = f"fewest positive {unit} of a tag in a part: {minimum}"
        if impossible:
            detail += f"; impossible (fewer than {config.n_parts} positive {unit}): {', '.join(sorted(impossible))}"
        if missing:
            detail += "; missing: " + ", ".join(f"{tag} in part {k}" for tag, k in missing[:10])
        findings.append(Finding(
            f"{fold_set.prefix}-*: every tag has positives in every test part"
            + ("" if stratified else " (informational: plain random folds)"),
            not missing or not stratified,
            detail,
        ))
        names = [f for f in self.spec.folds if config.locate(f)[0] == fold_set]
        for fold in names:
            for finding in audit_fold(self, fold):
                split = finding.check.rsplit(" in ", 1)[-1]
                if "every tag has positives" in finding.check and not finding.ok and split in SPLITS:
                    part = self.split(fold, split)
                    absent = {t for t, n in zip(part.tags, part.positives_per_tag()) if n == 0}
                    if absent <= impossible or not stratified:
                        why = "impossible tags" if absent <= impossible else "informational: plain random folds"
                        finding = Finding(finding.check, True, f"{finding.detail} ({why})")
                findings.append(finding)
        return findings
