"""Which folds a run covers, which of their items it can use, and the summary of a k-fold run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from harness import atomic
from harness.datasets.registry import DatasetSpec
from harness.datasets.splits import SplitData
from harness.errors import DataMissingError
from harness.features.store import FeatureStore
from harness.protocol.request import RunResult
from harness.results.rundir import reserve_timestamped
from harness.scoring import score_folds


def resolve_folds(spec: DatasetSpec, fold: str | None) -> tuple[str, ...]:
    """``all`` (or nothing, for a dataset whose protocol says ``all_folds``): the main fold set; else one fold."""
    if fold == "all" or (fold is None and spec.protocol.all_folds):
        return spec.default_folds
    return (spec.resolve_fold(fold),)


def leave_out_unextracted(
    splits: dict[str, SplitData], store: FeatureStore
) -> tuple[dict[str, SplitData], tuple[str, ...]]:
    """Drop train/validation items that have no features (skipped at prepare), with a flag; test items must all be there."""
    present = set(store.index.item_ids)
    reasons = {entry["item_id"]: entry["reason"] for entry in store.skipped}
    kept, flags = {}, []
    for name, split in splits.items():
        missing = [item for item in split.item_ids if item not in present]
        if not missing:
            kept[name] = split
            continue
        shown = "; ".join(f"{item} ({reasons.get(item, 'not in the store')})" for item in missing[:3])
        if name == "test":
            raise DataMissingError(
                f"{len(missing)} test items of {split.fold} have no features: {shown}"
                f"{' ...' if len(missing) > 3 else ''}; fix their audio and run `harness datasets prepare "
                f"{split.dataset} --rebuild` (scores without them would not compare)"
            )
        mask = np.array([item in present for item in split.item_ids])
        kept[name] = SplitData(
            split.dataset,
            split.fold,
            split.split,
            tuple(i for i, m in zip(split.item_ids, mask) if m),
            split.tags,
            split.labels[mask],
        )
        flags.append(f"{len(missing)} {name} items without features (skipped at prepare) left out: {shown}")
    return kept, tuple(flags)


def summarise_folds(results: list[RunResult], runs_root: Path, root: Path | None = None) -> list[dict[str, Any]]:
    """Per seed: the folds' test predictions scored together (per fold, mean ± std, pooled), written as JSON."""
    summaries = []
    for seed in sorted({r.seed for r in results}):
        runs = [r for r in results if r.seed == seed]
        if len(runs) < 2:
            continue
        report = score_folds([r.run_dir / "predictions" / "test.npz" for r in runs], root=root)
        doc = {
            **report.to_json(),
            "seed": seed,
            "submission": runs[0].submission,
            "runs": {r.fold: r.run_id for r in runs},
            "config_hashes": sorted({r.config_hash for r in runs}),
        }
        folder = Path(runs_root) / report.reports[0].split.dataset / "all-folds" / runs[0].submission
        # a summary made within the same second as another gets -2, -3...
        out = reserve_timestamped(folder, f"-seed{seed}.json", lambda path: path.touch(exist_ok=False))
        atomic.write_json(out, doc)
        summaries.append({**doc, "path": str(out)})
    return summaries
