"""Split fingerprints: SHA-256 over (dataset, fold, split, ordered item ids, ordered tags, labels).

Every prediction file, score and run record carries the fingerprint of the split it was made for,
so "split-0 test" means the same items, tags and labels on every machine. The digest is over a
canonical JSON header (compact separators, no key reordering surprises) followed by the label
matrix's shape and its bits packed row-major.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np


def split_fingerprint(
    dataset: str, fold: str, split: str, item_ids: Sequence[str], tags: Sequence[str], labels: np.ndarray
) -> str:
    labels = np.asarray(labels)
    if labels.shape != (len(item_ids), len(tags)):
        raise ValueError(f"labels shape {labels.shape} != ({len(item_ids)} items, {len(tags)} tags)")
    header = json.dumps(
        {"dataset": dataset, "fold": fold, "split": split, "item_ids": list(item_ids), "tags": list(tags)},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    digest = hashlib.sha256()
    digest.update(header.encode("utf-8"))
    digest.update(np.asarray(labels.shape, dtype="<i8").tobytes())
    digest.update(np.packbits(labels.astype(bool), axis=None).tobytes())
    return digest.hexdigest()
