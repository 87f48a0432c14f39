"""A split of a fold: ordered item ids, ordered tags and the boolean label matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from harness.datasets.fingerprint import split_fingerprint


@dataclass(frozen=True, eq=False)
class SplitData:
    dataset: str
    fold: str
    split: str
    item_ids: tuple[str, ...]
    tags: tuple[str, ...]
    labels: np.ndarray  # bool, (len(item_ids), len(tags))

    def __post_init__(self) -> None:
        if self.labels.shape != (len(self.item_ids), len(self.tags)):
            raise ValueError(
                f"labels {self.labels.shape} do not match {len(self.item_ids)} items x {len(self.tags)} tags"
            )
        if len(set(self.item_ids)) != len(self.item_ids):
            raise ValueError(f"{self.dataset} {self.fold} {self.split}: duplicate item ids")

    @cached_property
    def fingerprint(self) -> str:
        return split_fingerprint(self.dataset, self.fold, self.split, self.item_ids, self.tags, self.labels)

    def __len__(self) -> int:
        return len(self.item_ids)

    def positives_per_tag(self) -> np.ndarray:
        return self.labels.sum(axis=0)


def label_matrix(item_tags: Sequence[Sequence[str]], tags: Sequence[str]) -> np.ndarray:
    """Bool ``(items, tags)``: row ``i`` is True in the columns of the tag names ``item_tags[i]``."""
    column = {tag: j for j, tag in enumerate(tags)}
    labels = np.zeros((len(item_tags), len(tags)), dtype=bool)
    for i, names in enumerate(item_tags):
        labels[i, [column[tag] for tag in names]] = True
    return labels
