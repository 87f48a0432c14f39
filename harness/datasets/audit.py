"""Audits of a dataset, returned as data: what is wrong, not an exception.

:func:`verify` is the one order every family's audit follows: the family's source findings
(checksums, readability, counts); then, unless the family says its folds cannot be read, its fold
findings (by default :func:`audit_fold` of every fold).
"""

from __future__ import annotations

from typing import Protocol

from harness.datasets.findings import Finding
from harness.datasets.registry import SPLITS
from harness.datasets.splits import SplitData

__all__ = ["Auditable", "Finding", "audit_fold", "verify"]


class Auditable(Protocol):
    """What an audit needs of a dataset (:class:`harness.datasets.base.Dataset` has it; this module
    does not import it, so ``base`` can call :func:`verify`)."""

    def split(self, fold: str, split: str) -> SplitData: ...

    def source_findings(self) -> tuple[list[Finding], bool]: ...

    def fold_findings(self) -> list[Finding]: ...


def verify(dataset: Auditable) -> list[Finding]:
    """Audit the dataset on disk: its source findings, then (when its folds are readable) its fold findings."""
    findings, folds_readable = dataset.source_findings()
    if folds_readable:
        findings = [*findings, *dataset.fold_findings()]
    return findings


def audit_fold(dataset: Auditable, fold: str) -> list[Finding]:
    """Overlap between the parts of a fold, and every tag present in every part."""
    parts = {name: dataset.split(fold, name) for name in SPLITS}
    findings = []
    for i, a in enumerate(SPLITS):
        for b in SPLITS[i + 1 :]:
            shared = set(parts[a].item_ids) & set(parts[b].item_ids)
            findings.append(
                Finding(
                    f"{fold}: no item in both {a} and {b}",
                    not shared,
                    f"{len(shared)} shared, e.g. {sorted(shared)[:3]}" if shared else "none shared",
                    fold=fold,
                )
            )
    for name, part in parts.items():
        missing = [tag for tag, n in zip(part.tags, part.positives_per_tag()) if n == 0]
        findings.append(
            Finding(
                f"{fold}: every tag has positives in {name}",
                not missing,
                f"no positives for {', '.join(missing)}"
                if missing
                else f"{len(part)} items, all {len(part.tags)} tags present",
                fold=fold,
                split=name,
            )
        )
    return findings
