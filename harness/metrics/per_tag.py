"""Per-tag results: ROC-AUC, PR-AUC, precision, recall and F1 of each tag, and its best and worst.

Conventions: see :mod:`harness.metrics.validate` (``(n_items, n_tags)`` labels, scores and
decisions; ``tags`` names the columns in order).

Each value is one column of the official macro means, computed by
:func:`harness.metrics.official.per_tag_scores` (scikit-learn's ``roc_auc_score``,
``average_precision_score`` and ``precision_recall_fscore_support`` with ``average=None``, to the
last bit, by :mod:`harness.metrics.ranking`), so the
mean of a column of the table over its tags equals the macro key (``PR-AUC-macro``...):

- tags with **no positives** in the split have no per-tag value; they are listed separately
  (:attr:`PerTagTable.no_positive_tags`), as they are left out of the macro means;
- a tag with positives but **no negatives** has no ROC-AUC (``roc_auc`` is None);
- without decisions, ``precision``, ``recall`` and ``f1`` are None.

:func:`top_bottom` picks the best and worst tags by one of these, as table 3 of the 6-layer VGG
paper of the MediaEval 2019 task shows them (the five best and five worst tags by PR-AUC; team
YL-UTokyo, run1, MediaEval 2019 Workshop).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import BadInputError, UnknownNameError
from harness.metrics import keys
from harness.metrics.official import per_tag_scores
from harness.metrics.validate import validate_predictions, validate_tags

__all__ = [
    "PerTagTable",
    "TAG_KEYS",
    "TagRow",
    "per_tag_table",
    "table_from_per_tag_scores",
    "top_bottom",
]


@dataclass(frozen=True)
class TagRow:
    """One tag's results. ``None``: undefined (no negatives for ROC-AUC; no decisions given)."""

    tag: str
    positives: int
    roc_auc: float | None
    pr_auc: float
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None


@dataclass(frozen=True)
class PerTagTable:
    """The rows of the tags with positives (column order), and the tags without, by name.

    Iterating over the table, or ``len()``, goes over ``rows``.
    """

    rows: tuple[TagRow, ...]
    no_positive_tags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[TagRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


_ATTRIBUTES: dict[str, str] = {
    "ROC-AUC": "roc_auc",
    "PR-AUC": "pr_auc",
    "precision": "precision",
    "recall": "recall",
    "F-score": "f1",
}
"""The :class:`TagRow` attribute of each per-tag key of the metric registry (:mod:`harness.metrics.keys`)."""

TAG_KEYS: dict[str, str] = {
    **{name: _ATTRIBUTES[m.key] for m in keys.METRICS if m.metric_set == "per-tag" for name in (m.key, *m.aliases)},
    "positives": "positives",
}
"""The keys :func:`top_bottom` sorts by (display name -> :class:`TagRow` attribute)."""


def per_tag_table(
    labels: Any,
    scores: Any,
    decisions: Any = None,
    tags: Sequence[str] | None = None,
) -> PerTagTable:
    """Per-tag ROC-AUC, PR-AUC, and precision/recall/F1 (with decisions), in column order.

    Args:
        labels: ``(n_items, n_tags)`` bool or 0/1 ground truth.
        scores: ``(n_items, n_tags)`` finite real activations.
        decisions: optional ``(n_items, n_tags)`` bool or 0/1 decisions.
        tags: the column names (default ``tag-0``...).

    Returns:
        :class:`PerTagTable`.

    Raises:
        FormatError: malformed inputs.
        BadInputError: no tag has both a positive and a negative item.
    """
    labels, scores, decisions = validate_predictions(labels, scores, decisions)
    return table_from_per_tag_scores(per_tag_scores(labels, scores, decisions, tags), labels, tags)


def table_from_per_tag_scores(
    values: Mapping[str, Mapping[str, float]], labels: np.ndarray, tags: Sequence[str] | None = None
) -> PerTagTable:
    """The :class:`PerTagTable` of values :func:`~harness.metrics.official.per_tag_scores` computed.

    For a caller that needs both (``harness score``): the per-tag metrics are computed once.

    Args:
        values: what ``per_tag_scores(labels, scores, decisions, tags)`` returned.
        labels: the ``(n_items, n_tags)`` bool or 0/1 labels it was computed on (for the counts of
            positives).
        tags: the same column names (default ``tag-0``...).
    """
    names = validate_tags(tags, labels.shape[1])
    positives = labels.sum(axis=0)
    rows = []
    for j, tag in enumerate(names):
        entry = values.get(tag)
        if entry is None:
            continue
        rows.append(
            TagRow(
                tag=tag,
                positives=int(positives[j]),
                roc_auc=entry.get("ROC-AUC"),
                pr_auc=entry["PR-AUC"],
                precision=entry.get("precision"),
                recall=entry.get("recall"),
                f1=entry.get("F-score"),
            )
        )
    missing = tuple(t for t in names if t not in values)
    no_roc = tuple(row.tag for row in rows if row.roc_auc is None)
    lines = []
    if missing:
        lines.append(
            f"{len(missing)} tag(s) have no positives in this split and no per-tag values: {', '.join(missing)}"
        )
    if no_roc:
        lines.append(
            f"{len(no_roc)} tag(s) have no negatives (every item positive), so no ROC-AUC: {', '.join(no_roc)}"
        )
    return PerTagTable(rows=tuple(rows), no_positive_tags=missing, warnings=tuple(lines))


def top_bottom(
    rows: PerTagTable | Sequence[TagRow], key: str = "PR-AUC", k: int = 5
) -> tuple[tuple[TagRow, ...], tuple[TagRow, ...]]:
    """The ``k`` best and ``k`` worst tags by ``key``.

    ``top`` is sorted best first (value descending), ``bottom`` worst first (value ascending); ties
    are broken by tag name, ascending, in both, so the result never depends on column order. Rows
    whose value is undefined (None: ROC-AUC of a tag without negatives, decision keys without
    decisions) are left out. With fewer than ``2 k`` rows the two lists overlap; with fewer than
    ``k`` each holds every row.

    Args:
        rows: a :class:`PerTagTable` or its rows.
        key: one of :data:`TAG_KEYS` (``"PR-AUC"``, as in table 3 of the VGG paper).
        k: how many tags in each list, at least 1.

    Returns:
        ``(top, bottom)``.

    Raises:
        UnknownNameError: an unknown ``key``.
        BadInputError: ``k`` is not a positive integer, or no row has a value for ``key``.
    """
    if key not in TAG_KEYS:
        raise UnknownNameError("per-tag metric", key, tuple(TAG_KEYS))
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise BadInputError(f"k={k!r}; expected a positive integer (how many tags in each list)")
    attribute = TAG_KEYS[key]
    all_rows = tuple(rows.rows if isinstance(rows, PerTagTable) else rows)
    for row in all_rows:
        if not isinstance(row, TagRow):
            raise BadInputError(f"rows hold a {type(row).__name__}; expected TagRow objects (from per_tag_table)")
    defined = [row for row in all_rows if getattr(row, attribute) is not None]
    if not defined:
        why = " (no decisions were given?)" if attribute in ("precision", "recall", "f1") else ""
        raise BadInputError(f"no tag of the {len(all_rows)} has a {key} value{why}")
    top = sorted(defined, key=lambda row: (-getattr(row, attribute), row.tag))[:k]
    bottom = sorted(defined, key=lambda row: (getattr(row, attribute), row.tag))[:k]
    return tuple(top), tuple(bottom)
