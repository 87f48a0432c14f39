"""Audits of a dataset's folds, returned as data: what is wrong, not an exception."""

from __future__ import annotations

from dataclasses import dataclass

from harness.datasets.base import Dataset
from harness.datasets.registry import SPLITS


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


def audit_fold(dataset: Dataset, fold: str) -> list[Finding]:
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
                )
            )
    for name, part in parts.items():
        missing = [tag for tag, n in zip(part.tags, part.positives_per_tag()) if n == 0]
        findings.append(
            Finding(
                f"{fold}: every tag has positives in {name}",
                not missing,
                f"no positives for {', '.join(missing)}" if missing else f"{len(part)} items, all {len(part.tags)} tags present",
            )
        )
    return findings
