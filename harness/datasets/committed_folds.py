"""The datasets whose folds come from a committed part assignment (``parts.tsv``): CAL500, CAL500exp.

Fold ``<set>-<k>`` of a fold set uses part ``k`` as ``test``, part ``(k + 1) mod n_parts`` as
``validation`` and every other part as ``train`` (:func:`~harness.datasets.fold_generators.fold_masks`).
The assignment is made by ``datasets/make_folds.py`` (:mod:`harness.datasets.fold_generators`),
committed, and read and checked here against its pin and the items on disk
(:mod:`harness.datasets.fold_table`); the sources' own pins are checked whenever items are read.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from harness.datasets.audit import audit_fold
from harness.datasets.base import Dataset, Progress
from harness.datasets.checksums import check_pin, digest, sha256_file, tree_sha256
from harness.datasets.findings import Finding
from harness.datasets.fold_generators import (
    fold_masks,
    groups_in_several_parts,
    impossible_tags,
    make_parts,
    positives_per_part,
)
from harness.datasets.fold_table import (
    MAKE_FOLDS_SCRIPT,
    OLD_PARTS_FILE,
    FoldsConfig,
    FoldSet,
    FoldTable,
    format_parts_tsv,
    read_folds_config,
    read_parts_tsv,
)
from harness.datasets.splits import SplitData
from harness.errors import BadInputError, DataMissingError, FormatError, HarnessError


@dataclass(frozen=True, eq=False)
class ItemTable:
    """Every item of a dataset in its stable order, its labels over the registry's tags, its groups."""

    item_ids: tuple[str, ...]
    labels: np.ndarray  # bool (items, tags)
    groups: tuple[str, ...] | None = None  # e.g. the song of each segment


class CommittedFoldsDataset(Dataset):
    """A dataset whose folds come from a committed ``parts.tsv`` (CAL500, CAL500exp).

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
        """Raise ChecksumError on the first pinned source (among ``names``, default all) whose digest differs."""
        fix = f"get an unmodified copy ({self.obtain_hint()})"
        for rel, expected, pattern in self._pins():
            if names is None or rel in names:
                check_pin(self.require(rel), expected, fix, tree_pattern=pattern)

    def _pins(self) -> list[tuple[str, str, str | None]]:
        """(path under the root, pinned digest, tree pattern or None for a file) of every source pin."""
        files = [(rel, expected, None) for rel, expected in self.pinned_files().items()]
        trees = [(rel, expected, self.tree_patterns.get(rel, "*")) for rel, expected in self.pinned_trees().items()]
        return files + trees

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
            old = path.with_name(OLD_PARTS_FILE)
            renamed = f" (or rename {old}, its former name, to {path.name})" if old.is_file() else ""
            raise DataMissingError(
                f"{path}: folds file not found; `python {MAKE_FOLDS_SCRIPT} {self.name} --root DIR` makes it{renamed}"
            )
        if config.sha256:
            check_pin(
                path,
                config.sha256,
                "the committed folds were changed: restore them from git or regenerate "
                f"with `python {MAKE_FOLDS_SCRIPT} {self.name} --root DIR`",
            )
        table = read_parts_tsv(path, config.n_parts, [s.column for s in config.sets])
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
        """The ``parts.tsv`` row of every item, in item order."""
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

    def fetch(
        self, what: str = "splits", base_url: str | None = None, on_progress: Progress | None = None
    ) -> list[Path]:
        raise BadInputError(
            f"{self.name} cannot be downloaded by the harness (its licence asks for a copy from the publisher): "
            f"{self.obtain_hint()}; then pass --root DIR"
        )

    # -- generation (datasets/make_folds.py)

    def make_fold_text(self) -> str:
        """The ``parts.tsv`` this registry's generators make from the sources under the root."""
        config = self.folds_config
        items = self.items
        columns = {
            s.column: make_parts(s.method, items.labels, items.groups, config.n_parts, config.seed) for s in config.sets
        }
        return format_parts_tsv(items.item_ids, columns)

    # -- audit

    def source_findings(self) -> tuple[list[Finding], bool]:
        """Checksums (nothing more when one fails), the sources and parts readable, counts, the family's extras."""
        findings = self._checksum_findings()
        if not all(f.ok for f in findings):
            return findings, False
        try:
            items = self.items
            self.fold_table  # noqa: B018 - reading it checks it
        except HarnessError as exc:
            return [*findings, Finding("sources and folds readable", False, exc.message)], False
        findings += self._count_findings(items)
        findings.append(
            Finding(
                f"{self.folds_config.file}: every item in exactly one part per fold set",
                True,
                f"{len(items.item_ids)} items, columns {', '.join(s.column for s in self.folds_config.sets)}",
            )
        )
        findings += self._source_findings_extra()
        return findings, True

    def fold_findings(self) -> list[Finding]:
        return [finding for fold_set in self.folds_config.sets for finding in fold_set_findings(self, fold_set)]

    def _source_findings_extra(self) -> list[Finding]:
        return []

    def _checksum_findings(self) -> list[Finding]:
        findings = []
        for rel, expected, pattern in self._pins():
            path = self.root / rel
            shown = rel if pattern is None else rel + "/"
            if not (path.is_file() if pattern is None else path.is_dir()):
                findings.append(Finding(f"checksum {shown}", False, f"{path} not found ({self.obtain_hint()})"))
                continue
            actual = digest(path, pattern)
            findings.append(
                Finding(
                    f"checksum {shown}" + ("" if pattern is None else " (tree)"),
                    actual == expected,
                    "matches" if actual == expected else f"expected {expected}, got {actual}",
                )
            )
        config = self.folds_config
        if config.sha256:
            if not self.folds_file.is_file():
                findings.append(Finding(f"checksum {config.file}", False, f"{self.folds_file} not found"))
            else:
                actual = sha256_file(self.folds_file)
                ok = actual == config.sha256.lower()
                findings.append(
                    Finding(
                        f"checksum {config.file}", ok, "matches" if ok else f"expected {config.sha256}, got {actual}"
                    )
                )
        return findings

    def _count_findings(self, items: ItemTable) -> list[Finding]:
        findings = []
        expected = self.source_table.get("expected_items")
        if expected is not None:
            n = len(items.item_ids)
            findings.append(Finding("count of items", n == int(expected), f"{n} items (registry: {expected})"))
        expected_groups = self.source_table.get("expected_groups")
        if expected_groups is not None and items.groups is not None:
            n = len(set(items.groups))
            findings.append(
                Finding("count of groups", n == int(expected_groups), f"{n} groups (registry: {expected_groups})")
            )
        return findings


def fold_set_findings(dataset: CommittedFoldsDataset, fold_set: FoldSet) -> list[Finding]:
    """Part sizes, groups kept whole (or the leak flagged), tag coverage of the parts, then the audits of
    the set's folds; a tag missing from a part passes when no assignment could place it (too few positives)
    or when the set is plainly random."""
    config = dataset.folds_config
    items = dataset.items
    parts = dataset.parts(fold_set)
    grouped = items.groups is not None
    findings: list[Finding] = []
    sizes = np.bincount(parts, minlength=config.n_parts)
    findings.append(
        Finding(
            f"{fold_set.prefix}-*: part sizes", bool(sizes.min() > 0), f"{sizes.min()}..{sizes.max()} items per part"
        )
    )
    if grouped:
        split_groups = groups_in_several_parts(items.groups, parts)
        if fold_set.method == "random":
            # A known leak of the fold set: reported, and carried as a flag by every score.
            findings.append(
                Finding(
                    f"{fold_set.prefix}-*: leak flagged ({'; '.join(fold_set.flags) or 'no flag set'})",
                    bool(fold_set.flags),
                    f"{len(split_groups)} of {len(set(items.groups))} groups have items in more than one part; "
                    "every score on these folds carries the flag",
                )
            )
        else:
            findings.append(
                Finding(
                    f"{fold_set.prefix}-*: no group in two parts",
                    not split_groups,
                    f"{len(split_groups)} groups split, e.g. {split_groups[:3]}"
                    if split_groups
                    else f"{len(set(items.groups))} groups, each in one part",
                )
            )
    impossible = set(impossible_tags(dataset.spec.tags, items.labels, config.n_parts, items.groups))
    counts = positives_per_part(items.labels, parts, config.n_parts, items.groups)
    unit = "groups" if grouped else "items"
    stratified = fold_set.method != "random"
    reachable = [j for j, t in enumerate(dataset.spec.tags) if t not in impossible]
    missing = [(dataset.spec.tags[j], k) for j in reachable for k in range(config.n_parts) if counts[k, j] == 0]
    minimum = int(counts[:, reachable].min()) if reachable else 0
    detail = f"fewest positive {unit} of a tag in a part: {minimum}"
    if impossible:
        detail += f"; impossible (fewer than {config.n_parts} positive {unit}): {', '.join(sorted(impossible))}"
    if missing:
        detail += "; missing: " + ", ".join(f"{tag} in part {k}" for tag, k in missing[:10])
    findings.append(
        Finding(
            f"{fold_set.prefix}-*: every tag has positives in every test part"
            + ("" if stratified else " (informational: plain random folds)"),
            not missing or not stratified,
            detail,
        )
    )
    names = [f for f in dataset.spec.folds if config.locate(f)[0] == fold_set]
    for fold in names:
        for finding in audit_fold(dataset, fold):
            if finding.split is not None and not finding.ok:  # a part lacks positives of some tag
                part = dataset.split(fold, finding.split)
                absent = {t for t, n in zip(part.tags, part.positives_per_tag()) if n == 0}
                if absent <= impossible or not stratified:
                    why = "impossible tags" if absent <= impossible else "informational: plain random folds"
                    finding = replace(finding, ok=True, detail=f"{finding.detail} ({why})")
            findings.append(finding)
    return findings
