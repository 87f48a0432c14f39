"""Making folds: the generators of a part assignment, and the properties ``verify`` checks of one.

CAL500 and CAL500exp are cross-validated: every item (song or segment) is assigned once to one of
``n_parts`` parts (ten), and fold ``<set>-<k>`` of a fold set uses

- ``test``: part ``k``;
- ``validation``: part ``(k + 1) mod n_parts``;
- ``train``: every other part.

The assignment is data, made once by ``datasets/make_folds.py`` with these generators and
committed as a ``parts.tsv`` (:mod:`harness.datasets.fold_table`).

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

from collections.abc import Sequence

import numpy as np

from harness.errors import BadInputError

METHODS: tuple[str, ...] = ("stratified", "grouped-stratified", "random")


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


def make_parts(method: str, labels: np.ndarray, groups: Sequence[str] | None, n_parts: int, seed: int) -> np.ndarray:
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
